// stridedCopy's tiled path for transposing copies (a dim contiguous in the source, another
// in the destination): the same values as the ts reference for every tile remainder,
// outer dims, offsets, negative strides elsewhere, on 1 and 2 threads; and the cases that
// must keep the odometer (accumulate, overlapping source and destination).
import type { StridedCopyParams } from '../../src/backend/types.js';
import { identical, native, nativeSuite, rand, ref, rng, withThreads } from './helpers.js';

const { it, run } = nativeSuite('native strided copy: tiled transposes');

function dense(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** The copy that materialises permute(x, perm) for a dense x of shape `inShape`. */
function permuteCopy(inShape: number[], perm: number[]): { p: StridedCopyParams; n: number } {
  const inStrides = dense(inShape);
  const shape = perm.map((d) => inShape[d]);
  return { p: { shape, srcStrides: perm.map((d) => inStrides[d]), srcOffset: 0, dstStrides: dense(shape), dstOffset: 0, accumulate: false }, n: shape.reduce((a, b) => a * b, 1) };
}

function check(p: StridedCopyParams, nSrc: number, nDst: number, what: string, seed: number): void {
  const r = rng(seed);
  const src = rand(r, nSrc);
  const init = rand(r, nDst); // positions the copy does not write keep these values
  const d0 = init.slice();
  ref.stridedCopy(p, src, d0);
  for (const threads of [1, 2]) {
    const d1 = init.slice();
    withThreads(threads, () => native.stridedCopy(p, src, d1));
    identical(d1, d0, `${what} ${threads}T`);
  }
}

it('permutes: [B, C, L] ↔ [B, L, C], attention head splits, odd sizes and remainders', () => {
  const cases: Array<[number[], number[]]> = [
    [[1, 256, 1024], [0, 2, 1]],
    [[2, 64, 64], [0, 2, 1]],
    [[3, 17, 29], [0, 2, 1]], // neither dim a multiple of 8
    [[8, 9], [1, 0]],
    [[9, 8], [1, 0]],
    [[2, 3, 40, 24], [1, 0, 3, 2]], // AnoDDPM's qkv split (B·h, 3, d, L) → (3, B·h, L, d)
    [[2, 24, 2, 16], [0, 2, 1, 3]], // MONAI's heads_to_batch: innermost contiguous on both sides (odometer)
    [[2, 5, 12, 11], [0, 3, 1, 2]], // NCHW → NWCH
    [[4, 10, 3, 9], [3, 1, 2, 0]],
  ];
  cases.forEach(([inShape, perm], i) => {
    const { p, n } = permuteCopy(inShape, perm);
    check(p, n, n, `permute ${inShape} by ${perm}`, 10 + i);
  });
});

it('offsets, a sliced destination (concat into a strided tensor), a flipped outer dim', () => {
  // the transpose of a [16, 20] source window at offset 3 of a wider row (stride 23) into
  // channels 2..17 of a [20, 30] destination
  check({ shape: [20, 16], srcStrides: [1, 23], srcOffset: 3, dstStrides: [30, 1], dstOffset: 2, accumulate: false }, 16 * 23 + 3, 20 * 30, 'offset window', 30);
  // an outer dim walked backwards in the source
  check({ shape: [3, 12, 10], srcStrides: [-120, 1, 12], srcOffset: 240, dstStrides: [120, 10, 1], dstOffset: 0, accumulate: false }, 360, 360, 'negative outer', 31);
});

it('accumulating or overlapping copies keep the odometer (same values as the reference)', () => {
  const r = rng(40);
  const p: StridedCopyParams = { shape: [16, 16], srcStrides: [1, 16], srcOffset: 0, dstStrides: [16, 1], dstOffset: 0, accumulate: true };
  const src = rand(r, 256);
  const d0 = rand(r, 256);
  const d1 = d0.slice();
  ref.stridedCopy(p, src, d0);
  native.stridedCopy(p, src, d1);
  identical(d1, d0, 'accumulate transpose');
  // in place on one buffer: the odometer's order decides, as in the reference
  const buf0 = rand(r, 512);
  const buf1 = buf0.slice();
  const q: StridedCopyParams = { shape: [16, 16], srcStrides: [1, 16], srcOffset: 0, dstStrides: [16, 1], dstOffset: 100, accumulate: false };
  ref.stridedCopy(q, buf0, buf0);
  native.stridedCopy(q, buf1, buf1);
  identical(buf1, buf0, 'overlapping transpose');
});

run();
