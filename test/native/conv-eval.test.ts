// The inference path for 4×4 stride-2 padding-1 convs and transposed convs (conv2dEval: the
// unified AE's blocks with their eval BN folded into a per-channel scale and shift, and
// ReLU): native (Winograd F(4×4, 2×2) on the stride phases, native/cpu/conv_eval.cc; transposed
// convs with fewer than 8 outputs as direct sums) against
// the ts twin (the exact direct sums, then the epilogue). Winograd rounds in its transforms,
// so outputs are compared within a float32 bound on Σ|x·w|; the native path must write every
// output, give the same bits on 1 and 2 threads and for a batch as for its images one by one,
// and take the exact kernels when an input or weight is not finite.
import * as assert from 'uvu/assert';
import type { Conv2dParams } from '../../src/backend/types.js';
import { reorderTolerance } from '../float32-tolerance.js';
import { identical, native, nativeSuite, rand, ref, rng, withThreads } from './helpers.js';

const { it, run } = nativeSuite('native conv2dEval (4×4 stride-2 conv / transposed conv + scale, shift, ReLU)');

type EvalParams = Conv2dParams & { transposed: boolean; relu: boolean };

/** The layer cin → cout on an h × w input (transposed: output 2h × 2w). */
function params(N: number, cin: number, h: number, w: number, cout: number, transposed: boolean, relu = true): EvalParams {
  const g = { kh: 4, kw: 4, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, groups: 1, transposed, relu };
  if (transposed) return { N, C: cout, H: 2 * h, W: 2 * w, K: cin, OH: h, OW: w, ...g };
  return { N, C: cin, H: h, W: w, K: cout, OH: Math.floor((h - 2) / 2) + 1, OW: Math.floor((w - 2) / 2) + 1, ...g };
}

const inSize = (p: EvalParams) => (p.transposed ? p.N * p.K * p.OH * p.OW : p.N * p.C * p.H * p.W);
const outSize = (p: EvalParams) => (p.transposed ? p.N * p.C * p.H * p.W : p.N * p.K * p.OH * p.OW);
const cout = (p: EvalParams) => (p.transposed ? p.C : p.K);
const packSize = (p: EvalParams) => {
  const cin = p.transposed ? p.K : p.C;
  return 100 * Math.ceil(cin / 16) * 16 * Math.ceil(cout(p) / 16) * 16;
};

interface Inputs {
  x: Float32Array;
  w: Float32Array;
  scale: Float32Array;
  shift: Float32Array;
}

function inputs(p: EvalParams, seed: number): Inputs {
  const r = rng(seed);
  return { x: rand(r, inSize(p)), w: rand(r, p.K * p.C * 16), scale: rand(r, cout(p), 0.5, 2), shift: rand(r, cout(p), -0.5, 0.5) };
}

function evalConv(k: typeof native, p: EvalParams, i: Inputs, affine = true): Float32Array {
  const u = new Float32Array(packSize(p)).fill(NaN);
  k.conv2dEvalPack(p, i.w, u);
  const y = new Float32Array(outSize(p)).fill(NaN); // every element must be written
  k.conv2dEval(p, i.x, i.w, u, affine ? i.scale : null, affine ? i.shift : null, y);
  return y;
}

/**
 * |native − ref| ≤ 16·γ_R·scale·Σ|x·w| + the epilogue's rounding, per element (R = 4·Cin + 25:
 * the reordered channel sums and the 25 transform points). The transforms' coefficients could
 * in the worst case grow an error by 36 (Bᵀ d B) × 121 (Aᵀ M A); on these random operands the
 * worst seen is 0.22·γ_R·Σ|x·w|, so 16 leaves room while a wrong coefficient (an error of the
 * order of the outputs themselves) is still caught.
 */
function check(p: EvalParams, seed: number, what: string): void {
  const i = inputs(p, seed);
  const y0 = evalConv(ref, p, i);
  const y1 = evalConv(native, p, i);
  const absY = evalConv(ref, { ...p, relu: false }, { ...i, x: i.x.map(Math.abs), w: i.w.map(Math.abs) }, false);
  const cin = p.transposed ? p.K : p.C;
  const gamma = reorderTolerance({ depth: 2, reduction: 4 * cin + 25, scale: 16 });
  const P = outSize(p) / (p.N * cout(p));
  let worst = 0;
  for (let j = 0; j < y0.length; j++) {
    const k = Math.floor(j / P) % cout(p);
    const d = Math.abs(y1[j] - y0[j]);
    const tol = gamma * absY[j] * i.scale[k] + 4e-7 * (Math.abs(y0[j]) + Math.abs(i.shift[k])) + 1e-7;
    if (!(d <= tol)) assert.unreachable(`${what}[${j}]: ${y1[j]} vs ${y0[j]} differ by ${d} > ${tol.toExponential(2)}`);
    worst = Math.max(worst, d);
  }
  if (!p.transposed || cout(p) >= 8) assert.ok(worst > 0, `${what}: Winograd should round differently from the direct sum somewhere`);
}

const shapes: Array<[string, EvalParams]> = [
  ['conv 16→32, 32×32 (AE block 2)', params(2, 16, 32, 32, 32, false)],
  ['conv 64→64, 8×8 (AE block 4), no ReLU', params(3, 64, 8, 8, 64, false, false)],
  ['conv 20→17, 14×18 (padded channels, partial tiles)', params(2, 20, 14, 18, 17, false)],
  ['conv 3→5, 9×7 (odd sizes)', params(2, 3, 9, 7, 5, false)],
  ['convT 64→64, 4×4 (AE decoder block 1)', params(3, 64, 4, 4, 64, true)],
  ['convT 32→16, 16×16 (AE decoder block 3)', params(2, 32, 16, 16, 16, true)],
  ['convT 24→19, 5×7 (partial tiles, padded channels)', params(2, 24, 5, 7, 19, true, false)],
  ['convT 8→3, 3×9 (direct path: < 8 outputs)', params(1, 8, 3, 9, 3, true)],
  ['convT 16→1, 32×32 (AE decoder block 4, direct path)', params(2, 16, 32, 32, 1, true, false)],
  ['convT 20→2, 5×11 (direct path, partial vectors)', params(2, 20, 5, 11, 2, true)],
];

it('within the float32 bound of the direct sums, every output written', () => {
  shapes.forEach(([what, p], i) => check(p, 10 + i, what));
});

it('scale and shift null: the plain conv; the ReLU keeps NaN out of finite inputs', () => {
  for (const p of [shapes[0][1], shapes[4][1]]) {
    const i = inputs(p, 30);
    const y = evalConv(native, { ...p, relu: false }, i, false);
    const direct = new Float32Array(outSize(p));
    if (p.transposed) native.conv2dBackwardInput(p, i.x, i.w, direct);
    else native.conv2d(p, i.x, i.w, null, direct);
    let scale = 0;
    for (const v of direct) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < y.length; j++) assert.ok(Math.abs(y[j] - direct[j]) <= 1e-5 * scale, `${p.transposed ? 'convT' : 'conv'}[${j}]: ${y[j]} vs ${direct[j]}`);
    const r = evalConv(native, p, i);
    assert.ok(r.every((v) => v >= 0 && !Number.isNaN(v)), 'ReLU output');
  }
});

it('1 and 2 threads, and a batch against its images one by one, give identical bits', () => {
  shapes.forEach(([what, p], s) => {
    const i = inputs(p, 40 + s);
    const one = withThreads(1, () => evalConv(native, p, i));
    const two = withThreads(2, () => evalConv(native, p, i));
    identical(one, two, `${what}: 1 vs 2 threads`);
    const img = inSize(p) / p.N, out = outSize(p) / p.N;
    for (let n = 0; n < p.N; n++) {
      const yn = evalConv(native, { ...p, N: 1 }, { ...i, x: i.x.subarray(n * img, (n + 1) * img) });
      identical(yn, one.subarray(n * out, (n + 1) * out), `${what}: image ${n} alone`);
    }
  });
});

it('non-finite inputs or weights: the exact kernels (Inf and NaN propagate as in the direct sums)', () => {
  for (const p of [shapes[2][1], shapes[6][1], shapes[9][1]]) {
    const i = inputs(p, 50);
    i.x[7] = Infinity;
    i.x[inSize(p) - 3] = NaN;
    const a = evalConv(native, { ...p, relu: false }, i);
    const b = evalConv(ref, { ...p, relu: false }, i);
    for (let j = 0; j < a.length; j++) {
      if (Number.isFinite(b[j])) assert.ok(Math.abs(a[j] - b[j]) <= 1e-4 * (1 + Math.abs(b[j])), `[${j}] ${a[j]} vs ${b[j]}`);
      else assert.ok(Object.is(a[j], b[j]) || (Number.isNaN(a[j]) && Number.isNaN(b[j])), `[${j}] ${a[j]} vs ${b[j]}`);
    }
    const j2 = inputs(p, 51);
    j2.w[5] = NaN;
    const c = evalConv(native, p, j2);
    const d = evalConv(ref, p, j2);
    for (let j = 0; j < c.length; j++) assert.ok(Object.is(Number.isNaN(c[j]), Number.isNaN(d[j])), `NaN weight [${j}]: ${c[j]} vs ${d[j]}`);
  }
});

it('bad geometry is a clear error', () => {
  const p = { ...params(1, 16, 8, 8, 16, false), kh: 3, kw: 3 };
  assert.throws(() => native.conv2dEvalPack(p, new Float32Array(16 * 16 * 9), new Float32Array(packSize(p))), /4×4 kernels with stride 2/);
  assert.throws(() => ref.conv2dEvalPack(p, new Float32Array(16 * 16 * 9), new Float32Array(packSize(p))), /4×4 kernels with stride 2/);
});

run();
