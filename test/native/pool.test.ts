// max, average and adaptive average pooling, forward and backward against the ts reference.
import type { Pool2dParams } from '../../src/backend/types.js';
import { equalInts, native, nativeSuite, near, rand, ref, rng } from './helpers.js';

const { it, run } = nativeSuite('native pool');

function pool(N: number, C: number, H: number, W: number, k: number, s: number, pad: number, o: Partial<Pool2dParams> = {}): Pool2dParams {
  const d = o.dh ?? 1;
  const ceil = o.ceilMode ?? false;
  const size = (n: number) => {
    const span = n + 2 * pad - d * (k - 1) - 1;
    let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    if (ceil && (out - 1) * s >= n + pad) out--;
    return out;
  };
  return {
    N, C, H, W, OH: size(H), OW: size(W), kh: k, kw: k, sh: s, sw: s, ph: pad, pw: pad, dh: d, dw: d,
    ceilMode: ceil, countIncludePad: true, divisorOverride: 0, ...o,
  };
}

it('maxPool2d (padding, dilation, ceil mode, NaN) and backward', () => {
  const cases = [
    pool(2, 3, 9, 8, 3, 2, 1),
    pool(1, 4, 10, 10, 2, 2, 0),
    pool(2, 2, 11, 9, 3, 2, 1, { dh: 2, dw: 2 }),
    pool(1, 3, 8, 8, 3, 2, 0, { ceilMode: true }),
  ];
  cases.forEach((p, i) => {
    const r = rng(20 + i);
    const x = rand(r, p.N * p.C * p.H * p.W);
    if (i === 0) x[5] = NaN;
    const n = p.N * p.C * p.OH * p.OW;
    const y0 = new Float32Array(n), y1 = new Float32Array(n);
    const a0 = new Int32Array(n), a1 = new Int32Array(n);
    ref.maxPool2d(p, x, y0, a0);
    native.maxPool2d(p, x, y1, a1);
    near(y1, y0, 0, `maxPool2d case ${i}`);
    equalInts(a1, a0, `maxPool2d argmax case ${i}`);
    const dy = rand(r, n);
    const dx0 = new Float32Array(x.length), dx1 = new Float32Array(x.length).fill(NaN);
    ref.maxPool2dBackward(p, dy, a0, dx0);
    native.maxPool2dBackward(p, dy, a0, dx1);
    near(dx1, dx0, 1e-6, `maxPool2dBackward case ${i}`);
  });
});

it('maxPool2d stride 2 on long rows (the vector path: 3×3/2 pad 1, 2×2/2, ceil mode): values and argmax, ties, NaN, −Inf', () => {
  const cases = [
    pool(2, 3, 9, 45, 3, 2, 1),
    pool(1, 2, 6, 40, 2, 2, 0),
    pool(1, 2, 7, 37, 3, 2, 0, { ceilMode: true }),
    pool(1, 1, 5, 34, 3, 2, 1, { ceilMode: true }),
  ];
  cases.forEach((p, i) => {
    const r = rng(40 + i);
    const x = rand(r, p.N * p.C * p.H * p.W).map((v) => Math.round(v * 4) / 4); // many ties
    x[3 * p.W + 17] = NaN;
    x[3 * p.W + 18] = NaN; // two NaNs in one window: the first wins
    x[1 * p.W + 20] = -Infinity;
    for (let j = 0; j < 12; j++) x[(p.H - 1) * p.W + j] = -Infinity; // a row of −Inf (argmax = first tap)
    x[p.H * p.W + 9] = Infinity;
    const n = p.N * p.C * p.OH * p.OW;
    const y0 = new Float32Array(n), y1 = new Float32Array(n).fill(NaN);
    const a0 = new Int32Array(n), a1 = new Int32Array(n).fill(-7);
    ref.maxPool2d(p, x, y0, a0);
    native.maxPool2d(p, x, y1, a1);
    near(y1, y0, 0, `maxPool2d long-row case ${i}`);
    equalInts(a1, a0, `maxPool2d long-row argmax case ${i}`);
  });
});

it('avgPool2d (count_include_pad, divisor_override, ceil mode) and backward', () => {
  const cases = [
    pool(2, 3, 9, 8, 3, 2, 1),
    pool(2, 3, 9, 8, 3, 2, 1, { countIncludePad: false }),
    pool(1, 2, 7, 7, 2, 2, 0, { divisorOverride: 3 }),
    pool(1, 3, 8, 8, 3, 2, 1, { ceilMode: true, countIncludePad: false }),
  ];
  cases.forEach((p, i) => {
    const r = rng(30 + i);
    const x = rand(r, p.N * p.C * p.H * p.W);
    const n = p.N * p.C * p.OH * p.OW;
    const y0 = new Float32Array(n), y1 = new Float32Array(n);
    ref.avgPool2d(p, x, y0);
    native.avgPool2d(p, x, y1);
    near(y1, y0, 1e-6, `avgPool2d case ${i}`);
    const dy = rand(r, n);
    const dx0 = new Float32Array(x.length), dx1 = new Float32Array(x.length).fill(NaN);
    ref.avgPool2dBackward(p, dy, dx0);
    native.avgPool2dBackward(p, dy, dx1);
    near(dx1, dx0, 1e-6, `avgPool2dBackward case ${i}`);
  });
});

it('adaptiveAvgPool2d (uneven windows) and backward', () => {
  for (const [H, W, OH, OW] of [[7, 9, 3, 4], [8, 8, 1, 1], [5, 6, 7, 7]]) {
    const p = { N: 2, C: 3, H, W, OH, OW };
    const r = rng(H * 100 + OW);
    const x = rand(r, 6 * H * W);
    const y0 = new Float32Array(6 * OH * OW), y1 = new Float32Array(6 * OH * OW);
    ref.adaptiveAvgPool2d(p, x, y0);
    native.adaptiveAvgPool2d(p, x, y1);
    near(y1, y0, 1e-6, `adaptive ${H}x${W}→${OH}x${OW}`);
    const dy = rand(r, y0.length);
    const dx0 = new Float32Array(x.length), dx1 = new Float32Array(x.length).fill(NaN);
    ref.adaptiveAvgPool2dBackward(p, dy, dx0);
    native.adaptiveAvgPool2dBackward(p, dy, dx1);
    near(dx1, dx0, 1e-6, `adaptive backward ${H}x${W}→${OH}x${OW}`);
  }
});

run();
