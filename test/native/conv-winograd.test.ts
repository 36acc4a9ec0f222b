// The native conv2d's fast paths for torchvision backbones against the ts reference:
// F(2×2, 3×3) Winograd for 3×3 stride-1 convs with ≥ 64 channels (native/cpu/conv_winograd.h),
// 1×1 convs as a built-in GEMM and 3×3 stride-2 convs with ≥ 512 channels as im2col + GEMM. Winograd rounds in its transforms, so it is compared
// within a float32 bound on Σ|x·w| (not the reference's bits); both paths must give the same
// bits on 1 and 2 threads, for a batch and its images one by one, and under either GEMM mode.
import type { Conv2dParams } from '../../src/backend/types.js';
import { reorderTolerance } from '../float32-tolerance.js';
import { identical, native, nativeSuite, near, openblasLinked, rand, ref, rng, setBlas, withThreads } from './helpers.js';
import { getBlas } from '../../src/backend/native.js';
import * as assert from 'uvu/assert';

const { it, itIf, run } = nativeSuite('native conv fast paths (Winograd 3×3, GEMM 1×1)');

function params(N: number, C: number, H: number, W: number, K: number, k: number, s: number, p: number): Conv2dParams {
  const OH = Math.floor((H + 2 * p - k) / s) + 1;
  const OW = Math.floor((W + 2 * p - k) / s) + 1;
  return { N, C, H, W, K, OH, OW, kh: k, kw: k, sh: s, sw: s, ph: p, pw: p, dh: 1, dw: 1, groups: 1 };
}

function inputs(p: Conv2dParams, seed: number): { x: Float32Array; w: Float32Array; b: Float32Array } {
  const r = rng(seed);
  return { x: rand(r, p.N * p.C * p.H * p.W), w: rand(r, p.K * p.C * p.kh * p.kw), b: rand(r, p.K) };
}

function conv(k: typeof native, p: Conv2dParams, x: Float32Array, w: Float32Array, b: Float32Array | null): Float32Array {
  const y = new Float32Array(p.N * p.K * p.OH * p.OW).fill(NaN); // every element must be written
  k.conv2d(p, x, w, b, y);
  return y;
}

/**
 * |native − ref| ≤ 2·γ_{9C}·16·Σ|x·w| per element: the sums are reordered and each
 * transformed value is a sum of up to 16 products' worth of |x|·|w| (Bᵀ d B adds 4 inputs,
 * G g Gᵀ up to 9 halved weights, Aᵀ M A 9 sums).
 */
function checkWinograd(p: Conv2dParams, seed: number, what: string): void {
  const { x, w, b } = inputs(p, seed);
  const y0 = conv(ref, p, x, w, b);
  const y1 = conv(native, p, x, w, b);
  const absY = conv(ref, p, x.map(Math.abs), w.map(Math.abs), null);
  const gamma = reorderTolerance({ depth: 2, reduction: 9 * p.C, scale: 16 });
  let worst = 0;
  for (let i = 0; i < y0.length; i++) {
    const d = Math.abs(y1[i] - y0[i]);
    const tol = gamma * (absY[i] + Math.abs(b[i % p.K] ?? 0)) + 1e-7;
    if (!(d <= tol)) assert.unreachable(`${what}[${i}]: ${y1[i]} vs ${y0[i]} differ by ${d} > ${tol.toExponential(2)}`);
    worst = Math.max(worst, d);
  }
  assert.ok(worst > 0 || y0.length === 0, `${what}: Winograd should round differently from the direct sum somewhere`);
}

const winogradShapes: Array<[string, Conv2dParams]> = [
  ['64→67, 20×37 (8-tile rows, odd width)', params(2, 64, 20, 37, 67, 3, 1, 1)],
  ['64→64, pad 0, 19×40', params(1, 64, 19, 40, 64, 3, 1, 0)],
  ['70→64, 9×7 (tiles crossing rows)', params(3, 70, 9, 7, 64, 3, 1, 1)],
  ['128→96, 7×7 (resnet layer4 map), batch 1', params(1, 128, 7, 7, 96, 3, 1, 1)],
  ['64→64, 1×1 map', params(2, 64, 1, 1, 64, 3, 1, 1)],
];

it('Winograd 3×3 s1: within the float32 bound of the direct sum, every output written', () => {
  winogradShapes.forEach(([what, p], i) => checkWinograd(p, 40 + i, what));
});

it('1×1 convs (built-in GEMM): stride 1 long rows, short rows, stride 2, odd sizes', () => {
  const cases: Array<[string, Conv2dParams]> = [
    ['1×1 s1 17×19 (per-image GEMM)', params(2, 24, 17, 19, 40, 1, 1, 0)],
    ['1×1 s1 7×7 (gathered)', params(3, 64, 7, 7, 33, 1, 1, 0)],
    ['1×1 s2 9×11 (downsample)', params(2, 16, 9, 11, 20, 1, 2, 0)],
  ];
  cases.forEach(([what, p], i) => {
    const { x, w, b } = inputs(p, 50 + i);
    near(conv(native, p, x, w, b), conv(ref, p, x, w, b), 4e-6 * Math.sqrt(p.C) + 1e-6, what);
  });
});

/** 3×3 stride 2, ≥ 512 input channels: the im2col + GEMM path (gathered below 256 output pixels, per image above). */
const im2colShapes: Array<[string, Conv2dParams]> = [
  ['512→70, 9×11 s2 (gathered, odd)', params(3, 512, 9, 11, 70, 3, 2, 1)],
  ['520→64, 33×35 s2 (per image, P = 306)', params(1, 520, 33, 35, 64, 3, 2, 1)],
  ['512→64, 8×9 s2 pad 0', params(2, 512, 8, 9, 64, 3, 2, 0)],
];

/** |native − ref| ≤ γ_{9C}·Σ|x·w| + |bias| terms: a reordered float32 sum of exact products. */
function checkSum(p: Conv2dParams, seed: number, what: string): void {
  const { x, w, b } = inputs(p, seed);
  const y0 = conv(ref, p, x, w, b);
  const y1 = conv(native, p, x, w, b);
  const absY = conv(ref, p, x.map(Math.abs), w.map(Math.abs), null);
  const gamma = reorderTolerance({ depth: 1, reduction: p.C * p.kh * p.kw + 1 });
  for (let i = 0; i < y0.length; i++) {
    const d = Math.abs(y1[i] - y0[i]);
    const tol = gamma * (absY[i] + Math.abs(b[Math.floor(i / (p.OH * p.OW)) % p.K])) + 1e-7;
    if (!(d <= tol)) assert.unreachable(`${what}[${i}]: ${y1[i]} vs ${y0[i]} differ by ${d} > ${tol.toExponential(2)}`);
  }
}

it('3×3 stride 2, ≥ 512 channels (im2col + GEMM): within the float32 bound, every output written', () => {
  im2colShapes.forEach(([what, p], i) => checkSum(p, 90 + i, what));
});

it('3×3 stride 2 im2col: Inf and NaN propagate as in the direct sum (padding multiplies its zeros)', () => {
  const p = params(1, 512, 6, 7, 64, 3, 2, 1);
  const { x, w, b } = inputs(p, 95);
  x[3 * 7 + 4] = Infinity;
  x[200 * 42 + 0] = NaN;
  near(conv(native, p, x, w, b), conv(ref, p, x, w, b), 1e-3, 'Inf/NaN in x');
  const { x: x2, w: w2 } = inputs(p, 96);
  w2[5 * 512 * 9 + 0] = Infinity; // filter 5, tap (0, 0): meets the top/left padding → NaN there
  near(conv(native, p, x2, w2, b), conv(ref, p, x2, w2, b), 1e-3, 'Inf in w');
});

it('1 and 2 threads, and a batch against its images one by one, give identical bits', () => {
  const shapes = [winogradShapes[0][1], winogradShapes[2][1], params(3, 64, 7, 7, 33, 1, 1, 0), params(2, 24, 17, 19, 40, 1, 1, 0), im2colShapes[0][1], im2colShapes[2][1]];
  shapes.forEach((p, i) => {
    const { x, w, b } = inputs(p, 60 + i);
    const one = withThreads(1, () => conv(native, p, x, w, b));
    const two = withThreads(2, () => conv(native, p, x, w, b));
    identical(one, two, `shape ${i}: 1 vs 2 threads`);
    const q = { ...p, N: 1 };
    const img = p.C * p.H * p.W, out = p.K * p.OH * p.OW;
    for (let n = 0; n < p.N; n++) {
      const yn = conv(native, q, x.subarray(n * img, (n + 1) * img), w, b);
      identical(yn, one.subarray(n * out, (n + 1) * out), `shape ${i}: image ${n} alone`);
    }
  });
});

itIf(openblasLinked, 'the same bits under MEDIANOMALY_BLAS=builtin and openblas', () => {
  const before = getBlas().mode;
  try {
    for (const p of [winogradShapes[0][1], params(3, 64, 7, 7, 33, 1, 1, 0), im2colShapes[0][1]]) {
      const { x, w, b } = inputs(p, 70);
      setBlas('builtin');
      const a = conv(native, p, x, w, b);
      setBlas('openblas');
      identical(conv(native, p, x, w, b), a, `C${p.C} k${p.kh}`);
    }
  } finally {
    setBlas(before);
  }
});

it('non-finite inputs or weights: the direct kernel, PyTorch propagation (Inf stays Inf)', () => {
  const p = params(1, 64, 10, 18, 64, 3, 1, 1);
  const { x, w, b } = inputs(p, 80);
  x[5 * 18 + 7] = Infinity;
  near(conv(native, p, x, w, b), conv(ref, p, x, w, b), 1e-4, 'Inf in x');
  const { x: x2, w: w2 } = inputs(p, 81);
  w2[3] = NaN;
  near(conv(native, p, x2, w2, b), conv(ref, p, x2, w2, b), 1e-4, 'NaN in w');
});

run();
