// Hostile direct calls into the addon's exported kernel table (reachable with a plain
// `require` of the .node file, so the binding must survive anything): a valid call per
// kernel, then 1–3 params or arrays replaced by huge, negative, fractional, NaN or
// wrongly typed values, short/detached/mistyped arrays. The only acceptable outcomes are
// a return or a thrown JS error; the child process running them must never die.
import { caseRng, pick, type Rng } from './ops.js';

type Arr = 'f' | 'i' | 'f?' | 'd' | 'h'; // h: Uint16Array (IEEE half bits)
interface Spec {
  p: Record<string, unknown>;
  args: Arr[];
}

const conv = { N: 1, C: 2, H: 5, W: 5, K: 2, OH: 3, OW: 3, kh: 3, kw: 3, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, groups: 1 };
const pool = { N: 1, C: 2, H: 4, W: 4, OH: 2, OW: 2, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, dh: 1, dw: 1, ceilMode: false, countIncludePad: true, divisorOverride: 0 };
const adaptive = { N: 1, C: 2, H: 5, W: 5, OH: 2, OW: 3 };
const up = { N: 1, C: 2, H: 3, W: 3, OH: 6, OW: 6, alignCorners: false, scaleH: 0.5, scaleW: 0.5 };
const pad = { NC: 2, H: 3, W: 3, top: 1, bottom: 1, left: 2, right: 0, mode: 'reflect', value: 0 };
const chan = { N: 2, C: 3, HW: 4 };
const group = { N: 2, C: 4, HW: 3, G: 2, eps: 1e-5 };
const red = { outer: 2, mid: 3, inner: 4 };

export const SPECS: Record<string, Spec> = {
  gemm: { p: { M: 3, N: 4, K: 5, transA: false, transB: true, alpha: 1, beta: 0 }, args: ['f', 'f', 'f'] },
  gemmBatched: { p: { batch: 2, M: 3, N: 4, K: 5, transA: false, transB: false, alpha: 1, beta: 0 }, args: ['f', 'f', 'f'] },
  conv2d: { p: conv, args: ['f', 'f', 'f?', 'f'] },
  conv2dBackwardInput: { p: conv, args: ['f', 'f', 'f'] },
  conv2dBackwardWeight: { p: conv, args: ['f', 'f', 'f'] },
  pad2d: { p: pad, args: ['f', 'f'] },
  pad2dBackward: { p: pad, args: ['f', 'f'] },
  maxPool2d: { p: pool, args: ['f', 'f', 'i'] },
  maxPool2dBackward: { p: pool, args: ['f', 'i', 'f'] },
  avgPool2d: { p: pool, args: ['f', 'f'] },
  avgPool2dBackward: { p: pool, args: ['f', 'f'] },
  adaptiveAvgPool2d: { p: adaptive, args: ['f', 'f'] },
  adaptiveAvgPool2dBackward: { p: adaptive, args: ['f', 'f'] },
  upsampleBilinear2d: { p: up, args: ['f', 'f'] },
  upsampleBilinear2dBackward: { p: up, args: ['f', 'f'] },
  upsampleNearest2d: { p: up, args: ['f', 'f'] },
  upsampleNearest2dBackward: { p: up, args: ['f', 'f'] },
  batchNormStats: { p: chan, args: ['f', 'f', 'f'] },
  batchNormApply: { p: chan, args: ['f', 'f', 'f', 'f?', 'f?', 'f'] },
  batchNormApplyRelu: { p: chan, args: ['f', 'f', 'f', 'f?', 'f?', 'f'] },
  batchNormBackward: { p: { ...chan, training: true }, args: ['f', 'f', 'f', 'f', 'f?', 'f', 'f?', 'f?'] },
  groupNormForward: { p: group, args: ['f', 'f?', 'f?', 'f', 'f', 'f'] },
  groupNormBackward: { p: group, args: ['f', 'f', 'f', 'f', 'f?', 'f', 'f?', 'f?'] },
  unary: { p: { op: 'tanh', n: 7, alpha: 0, beta: 0 }, args: ['f', 'f'] },
  unaryBackward: { p: { op: 'softplus', n: 7, alpha: 0, beta: 0 }, args: ['f', 'f', 'f', 'f'] },
  binary: { p: { op: 'add', shape: [2, 3], aStrides: [3, 1], bStrides: [0, 1] }, args: ['f', 'f', 'f'] },
  reduceSum: { p: red, args: ['f', 'f'] },
  reduceMax: { p: red, args: ['f', 'f', 'i'] },
  softmax: { p: red, args: ['f', 'f'] },
  softmaxBackward: { p: red, args: ['f', 'f', 'f'] },
  logSoftmax: { p: red, args: ['f', 'f'] },
  logSoftmaxBackward: { p: red, args: ['f', 'f', 'f'] },
  stridedCopy: { p: { shape: [3, 4], srcStrides: [1, 3], srcOffset: 0, dstStrides: [4, 1], dstOffset: 0, accumulate: false }, args: ['f', 'f'] },
  fill: { p: { n: 9, value: 2 }, args: ['f'] },
  axpy: { p: { n: 9, alpha: 0.5 }, args: ['f', 'f'] },
  adamStep: { p: { n: 6, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, amsgrad: false }, args: ['f', 'f', 'f', 'f', 'f?'] },
  sgdStep: { p: { n: 6, lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, firstStep: true }, args: ['f', 'f', 'f?'] },
  knnSearch: { p: { nq: 3, nb: 5, d: 4, k: 2 }, args: ['f', 'f', 'f?', 'f', 'i'] },
  coresetGreedy: { p: { n: 6, d: 3, m: 3, newest: -1, starts: 2 }, args: ['f', 'i', 'f', 'i'] },
  coresetProject: { p: { n: 5, d: 7, e: 3 }, args: ['f', 'f', 'f'] },
  coresetGreedyHalf: { p: { n: 6, d: 3, m: 3, newest: -1, starts: 2 }, args: ['h', 'i', 'f', 'i'] },
  knnSearchHalf: { p: { nq: 3, nb: 5, d: 4, k: 2 }, args: ['f', 'h', 'f?', 'f', 'i'] },
  halfFromFloat: { p: { n: 9 }, args: ['f', 'h'] },
  halfToFloat: { p: { n: 9 }, args: ['h', 'f'] },
  gaussianMoments: { p: { B: 2, P: 3, d: 4 }, args: ['f', 'f?', 'd', 'd'] },
  choleskyInverse: { p: { P: 3, d: 4 }, args: ['d', 'd', 'i'] },
  mahalanobis: { p: { B: 2, P: 3, d: 4 }, args: ['f', 'f', 'f', 'f'] },
  poissonSolve: { p: { planes: 2, height: 5, width: 6, tol: 1e-8, maxIter: 50 }, args: ['d', 'd', 'd'] },
};

const HUGE = [2 ** 20, 2 ** 20 + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 52, 2 ** 53, 2 ** 53 + 2, 2 ** 62, 1e300];
const BAD = [-1, -(2 ** 53), 0.5, NaN, Infinity, -Infinity, '3', true, null, undefined, {}, [2], 0n];

function hostileValue(r: Rng, v: unknown): unknown {
  const roll = r();
  if (Array.isArray(v)) {
    if (roll < 0.3) return v.map((e) => (r() < 0.5 ? pick(r, [...HUGE, ...BAD]) : e));
    if (roll < 0.4) return [...v, ...v, ...v, ...v]; // more dims than supported
    if (roll < 0.5) return v.slice(1);
    return v.map((e) => (r() < 0.5 ? pick(r, [2 ** 53, -(2 ** 53), 2 ** 52, -(2 ** 31), 2 ** 31]) : e));
  }
  if (roll < 0.45) return pick(r, HUGE);
  if (roll < 0.55) return 0;
  if (roll < 0.65 && typeof v === 'number') return v + pick(r, [1, -1, 2]);
  return pick(r, BAD);
}

function array(r: Rng, kind: Arr): unknown {
  const n = 4096;
  const roll = r();
  if (roll < 0.9) {
    if (kind === 'd') return new Float64Array(n).map(() => r() * 2 - 1);
    if (kind === 'h') return new Uint16Array(n).map(() => Math.floor(r() * 65536)); // any bits: NaN and Inf included
    return kind === 'i' ? new Int32Array(n) : new Float32Array(n).map(() => r() * 2 - 1);
  }
  if (roll < 0.93) {
    const a = new Float32Array(n);
    structuredClone(a.buffer, { transfer: [a.buffer] }); // detached
    return a;
  }
  if (roll < 0.95) return kind === 'i' ? new Int32Array(pick(r, [0, 1, 3])) : kind === 'h' ? new Uint16Array(pick(r, [0, 1, 3])) : new Float32Array(pick(r, [0, 1, 3]));
  if (roll < 0.97) return new Float32Array(new ArrayBuffer(4 * 64), 4 * pick(r, [1, 63]), 1); // offset view, short
  return pick(r, [null, undefined, new Float64Array(n), new Int32Array(n), new Float32Array(n), new Uint16Array(n), [1, 2, 3], 5, 'x']);
}

/** Case `index` of `seed`: kernel name, params and positional arrays. */
export function addonCase(seed: number, index: number): { name: string; args: unknown[] } {
  const r = caseRng(seed ^ 0x5bd1e995, index);
  const name = pick(r, Object.keys(SPECS));
  const spec = SPECS[name];
  const p: Record<string, unknown> = { ...spec.p };
  const keys = Object.keys(p);
  if (r() < 0.2) {
    // A zero size next to huge ones: the product of all sizes is 0 and passes a count
    // check, while partial products (outer·inner with mid = 0) wrap or run for ages.
    const sizes = keys.filter((k) => typeof p[k] === 'number' && Number.isInteger(p[k]) && (p[k] as number) > 0);
    if (sizes.length >= 2) {
      p[pick(r, sizes)] = 0;
      for (let e = 0; e < 2; e++) p[pick(r, sizes)] = pick(r, [2 ** 20, 2 ** 26, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53]);
    }
  } else {
    const edits = 1 + Math.floor(r() * 3);
    for (let e = 0; e < edits; e++) {
      const k = pick(r, keys);
      p[k] = hostileValue(r, p[k]);
    }
  }
  const args: unknown[] = [r() < 0.02 ? pick(r, [null, [], 3, new Float32Array(4)]) : p];
  for (const kind of spec.args) args.push(kind === 'f?' && r() < 0.3 ? null : array(r, kind));
  if (r() < 0.02) args.pop(); // too few arguments
  return { name, args };
}
