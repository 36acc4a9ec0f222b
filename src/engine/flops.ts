// Floating-point operation counts per kernel call, for the profiler's GFLOP/s column.
// A multiply-add counts as 2. Memory-bound kernels (copies, fills) count 0; pointwise
// ops count one per element; others count their arithmetic roughly (stated per line).
import type { FlopCounter } from '../backend/types.js';

const convMacs = (p: { N: number; K: number; OH: number; OW: number; C: number; groups: number; kh: number; kw: number }) =>
  p.N * p.K * p.OH * p.OW * (p.C / p.groups) * p.kh * p.kw;

export const flopCounter: FlopCounter = {
  gemm: (p) => 2 * p.M * p.N * p.K,
  gemmBatched: (p) => 2 * p.batch * p.M * p.N * p.K,
  // Direct, backward-input and backward-weight convolutions all do one MAC per (output, tap).
  conv2d: (p, _x, _w, bias) => 2 * convMacs(p) + (bias ? p.N * p.K * p.OH * p.OW : 0),
  conv2dBackwardInput: (p) => 2 * convMacs(p),
  conv2dBackwardWeight: (p) => 2 * convMacs(p),
  // The eval paths: the (transposed) convolution's MACs as counted directly (Winograd does
  // fewer multiplies; the column shows the direct rate), plus scale, shift and ReLU per output.
  conv2dEval: (p) => 2 * convMacs(p) + 3 * p.N * (p.transposed ? p.C * p.H * p.W : p.K * p.OH * p.OW),
  linearEval: (p) => 2 * p.N * p.in * p.out + 3 * p.N * p.out,
  maxPool2d: (p) => p.N * p.C * p.OH * p.OW * p.kh * p.kw, // one compare per tap
  avgPool2d: (p) => p.N * p.C * p.OH * p.OW * (p.kh * p.kw + 1),
  avgPool2dBackward: (p) => p.N * p.C * p.OH * p.OW * p.kh * p.kw,
  adaptiveAvgPool2d: (p) => p.N * p.C * p.H * p.W,
  adaptiveAvgPool2dBackward: (p) => p.N * p.C * p.H * p.W,
  upsampleBilinear2d: (p) => 7 * p.N * p.C * p.OH * p.OW, // 4 weights · values, 3 adds
  upsampleBilinear2dBackward: (p) => 8 * p.N * p.C * p.OH * p.OW,
  batchNormStats: (p) => 3 * p.N * p.C * p.HW, // sum, then squared deviations
  batchNormApply: (p) => 4 * p.N * p.C * p.HW,
  batchNormApplyRelu: (p) => 5 * p.N * p.C * p.HW,
  batchNormBackward: (p) => 8 * p.N * p.C * p.HW,
  groupNormForward: (p) => 7 * p.N * p.C * p.HW,
  groupNormBackward: (p) => 10 * p.N * p.C * p.HW,
  // GroupNorm plus SiLU's exp, division and multiply (4) forward; the backward adds the recomputed normalisation (3) and SiLU's derivative (7).
  groupNormSiluForward: (p) => 11 * p.N * p.C * p.HW,
  groupNormSiluBackward: (p) => 20 * p.N * p.C * p.HW,
  cosineDistance: (p) => 6 * p.outer * p.mid * p.inner, // three multiply-adds per element
  attentionForward: (p) => 2 * p.batch * p.lq * p.lk * (p.d + p.dv) + 5 * p.batch * p.lq * p.lk, // two products, softmax
  attentionBackward: (p, _q, _k, _v, _w, _g, dq, dk, dv) =>
    2 * p.batch * p.lq * p.lk * ((dv ? p.dv : 0) + (dq || dk ? p.dv + 2 : 0) + (dq ? p.d : 0) + (dk ? p.d : 0)),
  cosineDistanceBackward: (p, _a, _b, _s, _dd, da, db) => 3 * p.outer * p.mid * p.inner * ((da ? 1 : 0) + (db ? 1 : 0)),
  // Coupling: per element of the passed half x1, the global affine (2); of the transformed half,
  // 0.1·s, tanh (α·tanh(s/α): one more), α·h, exp, x·e + 0.1·t, global affine, log-det sum (11).
  // Backward: x1 4 (dx, γ and offset sums), x2 18. Transcendentals count 1 each.
  couplingForward: (p) => p.B * p.HW * (2 * p.C1 + (p.scaled ? 12 : 11) * (p.C - p.C1)),
  couplingBackward: (p) => p.B * p.HW * (4 * p.C1 + 18 * (p.C - p.C1)),
  couplingRotation: (p) => (8 / 3) * p.C * p.C * p.C, // Householder QR 4C³/3 + forming Q 4C³/3
  unary: (p) => p.n,
  unaryBackward: (p) => 2 * p.n,
  binary: (p) => p.shape.reduce((a, b) => a * b, 1),
  reduceSum: (p) => p.outer * p.mid * p.inner,
  reduceMax: (p) => p.outer * p.mid * p.inner,
  softmax: (p) => 4 * p.outer * p.mid * p.inner, // max, sub+exp, sum, divide
  softmaxBackward: (p) => 4 * p.outer * p.mid * p.inner,
  logSoftmax: (p) => 4 * p.outer * p.mid * p.inner,
  logSoftmaxBackward: (p) => 4 * p.outer * p.mid * p.inner,
  axpy: (p) => 2 * p.n,
  adamStep: (p) => 16 * p.n,
  sgdStep: (p) => 6 * p.n,
  knnSearch: (p) => 2 * p.nq * p.nb * p.d, // the GEMM's multiply-adds (norms and top-k are O(nq·nb))
  coresetGreedy: (p) => 3 * p.n * p.d * (p.m + p.starts), // subtract, multiply, add per coordinate
  coresetProject: (p) => 2 * p.n * p.d * p.e,
  coresetGreedyHalf: (p) => 3 * p.n * p.d * (p.m + p.starts),
  knnSearchHalf: (p) => 2 * p.nq * p.nb * p.d,
  gaussianMoments: (p) => 2 * p.B * p.P * p.d * p.d, // one multiply-add per outer-product entry
  choleskyInverse: (p) => p.P * p.d * p.d * p.d, // d³/3 each for factor, triangular inverse and product, as multiply-adds
  mahalanobis: (p) => 2 * p.B * p.P * p.d * (p.d + 1),
};
