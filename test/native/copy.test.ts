// stridedCopy, fill and axpy against the ts reference.
import type { StridedCopyParams } from '../../src/backend/types.js';
import { native, nativeSuite, near, rand, ref, rng } from './helpers.js';

const { it, run } = nativeSuite('native copy');

it('fill and axpy (odd lengths, views)', () => {
  const y = new Float32Array(70001);
  native.fill({ n: 70000, value: 2.5 }, y);
  near(y.subarray(0, 70000), new Float32Array(70000).fill(2.5), 0, 'fill');
  near([y[70000]], [0], 0, 'fill stops at n');
  const r = rng(3);
  const x = rand(r, 50003);
  const y0 = rand(r, 50003);
  const y1 = y0.slice();
  ref.axpy({ n: 50003, alpha: -0.3 }, x, y0);
  native.axpy({ n: 50003, alpha: -0.3 }, x, y1);
  near(y1, y0, 1e-6, 'axpy');
});

it('stridedCopy: permute, slice with offsets, expand backward (accumulate), concat', () => {
  const cases: Array<{ name: string; p: StridedCopyParams; src: number; dst: number }> = [
    // NCHW → NHWC permute of [2, 3, 4, 5]
    { name: 'permute', p: { shape: [2, 4, 5, 3], srcStrides: [60, 5, 1, 20], srcOffset: 0, dstStrides: [60, 15, 3, 1], dstOffset: 0, accumulate: false }, src: 120, dst: 120 },
    // x[:, 1:3, ::2] of [3, 5, 8] into a dense [3, 2, 4]
    { name: 'slice', p: { shape: [3, 2, 4], srcStrides: [40, 8, 2], srcOffset: 8, dstStrides: [8, 4, 1], dstOffset: 0, accumulate: false }, src: 120, dst: 24 },
    // expand [4, 1] → [4, 6] backward: sum over the broadcast dim into dst (stride 0)
    { name: 'expand backward', p: { shape: [4, 6], srcStrides: [6, 1], srcOffset: 0, dstStrides: [1, 0], dstOffset: 0, accumulate: true }, src: 24, dst: 4 },
    // second half of a concat along dim 1: [2, 3, 7] into [2, 5, 7] at channel 2
    { name: 'concat', p: { shape: [2, 3, 7], srcStrides: [21, 7, 1], srcOffset: 0, dstStrides: [35, 7, 1], dstOffset: 14, accumulate: false }, src: 42, dst: 70 },
    // accumulate into a strided, injective destination (slice backward)
    { name: 'slice backward', p: { shape: [3, 2, 4], srcStrides: [8, 4, 1], srcOffset: 0, dstStrides: [40, 8, 2], dstOffset: 8, accumulate: true }, src: 24, dst: 120 },
    // expand [5, 1] → [5, 37] forward (a per-row value filled along the row), and accumulated
    { name: 'expand rows', p: { shape: [5, 37], srcStrides: [1, 0], srcOffset: 1, dstStrides: [37, 1], dstOffset: 0, accumulate: false }, src: 6, dst: 185 },
    { name: 'expand rows accumulate', p: { shape: [3, 5, 19], srcStrides: [0, 1, 0], srcOffset: 0, dstStrides: [95, 19, 1], dstOffset: 2, accumulate: true }, src: 5, dst: 287 },
    // a large per-row expand that the pool splits
    { name: 'large expand rows', p: { shape: [301, 259], srcStrides: [1, 0], srcOffset: 0, dstStrides: [259, 1], dstOffset: 0, accumulate: false }, src: 301, dst: 301 * 259 },
    // a large permute that the pool splits
    { name: 'large transpose', p: { shape: [300, 257], srcStrides: [1, 300], srcOffset: 0, dstStrides: [257, 1], dstOffset: 0, accumulate: false }, src: 300 * 257, dst: 300 * 257 },
  ];
  cases.forEach(({ name, p, src: ns, dst: nd }, i) => {
    const r = rng(70 + i);
    const src = rand(r, ns);
    const d0 = rand(r, nd);
    const d1 = d0.slice();
    ref.stridedCopy(p, src, d0);
    native.stridedCopy(p, src, d1);
    near(d1, d0, 0, `stridedCopy ${name}`);
  });
});

run();
