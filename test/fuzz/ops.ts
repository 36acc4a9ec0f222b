// Random public-op calls for the native-boundary fuzz. A case is rebuilt from (seed,
// index) for each backend, so both get identical fresh tensors (some ops update
// buffers in place) and any failing case can be replayed alone.
import * as E from '../../src/engine/index.js';
import type { Tensor } from '../../src/engine/index.js';

export type Rng = () => number;

/** mulberry32 seeded by (seed, index): every case is independent of the others. */
export function caseRng(seed: number, index: number): Rng {
  let a = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** Sizes, strides and the like: mostly sane, sometimes hostile. */
const HOSTILE: readonly unknown[] = [0, -1, 1.5, NaN, Infinity, 2 ** 20 + 1, 2 ** 31, 2 ** 52, 2 ** 53, '2', true, null, [1, 2, 3]];
function geom(r: Rng, sane: readonly number[]): unknown {
  if (r() < 0.85) return r() < 0.7 ? pick(r, sane) : [pick(r, sane), pick(r, sane)];
  return r() < 0.5 ? pick(r, HOSTILE) : [pick(r, sane), pick(r, HOSTILE)];
}
function flag(r: Rng): unknown {
  return r() < 0.85 ? pick(r, [true, false, undefined]) : pick(r, [1, 0, 'yes', null]);
}

/**
 * A tensor with values in [-1, 1], sometimes ±∞/NaN (unless `finite`: affine weights of
 * the norms, where ∞·(a difference that rounds to 0 or not) is rounding, not semantics),
 * sometimes a broken storage.
 */
function tensor(r: Rng, shape: number[], grad = true, finite = false): Tensor {
  let t: Tensor;
  const roll = r();
  if (roll < 0.02) {
    // Negative or fractional shapes whose product matches the data length.
    const bad = pick(r, [[-1, -1], [0.5, 2], [2, 0.5], [-2, -3, 1]]);
    t = E.Tensor.fromData(new Float32Array(Math.round(Math.abs(bad.reduce((a, b) => a * b, 1)))), bad);
  } else {
    t = E.Tensor.empty(shape);
    const special = !finite && r() < 0.15;
    for (let i = 0; i < t.size; i++) {
      t.data[i] = special && r() < 0.2 ? pick(r, [Infinity, -Infinity, NaN, -0]) : r() * 2 - 1;
    }
  }
  const broken = r();
  if (broken < 0.02 && t.size > 0) {
    structuredClone(t.data.buffer, { transfer: [t.data.buffer] }); // detaches the buffer
  } else if (broken < 0.04) {
    (t.storage as { data: unknown }).data = pick(r, [new Float32Array(t.size + 1), new Float64Array(t.size), [1, 2]]);
  } else if (grad && r() < 0.5) {
    t.requiresGrad_(true);
  }
  return t;
}

function shape(r: Rng, ndim: number, max = 5, zero = 0.05): number[] {
  return Array.from({ length: ndim }, () => (r() < zero ? 0 : int(r, 1, max)));
}

/** One random op call: returns the tensors to compare (outputs, then input gradients). */
export type Call = () => Tensor[];

const OPS: Record<string, (r: Rng) => Call> = {
  conv2d: (r) => {
    const C = int(r, 1, 4) * (r() < 0.3 ? 8 : 1);
    const groups = pick(r, [1, 1, 1, 2, 3]);
    const x = tensor(r, [int(r, 0, 2), C, int(r, 1, 9), int(r, 1, 9)]);
    const w = tensor(r, [int(r, 1, 3) * (r() < 0.3 ? 8 : 1), Math.max(1, Math.floor(C / groups)), int(r, 1, 4), int(r, 1, 4)]);
    const b = r() < 0.5 ? tensor(r, [w.shape[0]]) : null;
    const opts = { stride: geom(r, [1, 1, 2, 3]), padding: geom(r, [0, 0, 1, 2, 3]), dilation: geom(r, [1, 1, 2]), groups };
    return () => grads([E.conv2d(x, w, b, opts as E.Conv2dOptions)], [x, w, b]);
  },
  convTranspose2d: (r) => {
    const Cin = int(r, 1, 4) * (r() < 0.3 ? 8 : 1);
    const x = tensor(r, [int(r, 0, 2), Cin, int(r, 1, 6), int(r, 1, 6)]);
    const w = tensor(r, [Cin, int(r, 1, 3) * (r() < 0.3 ? 8 : 1), int(r, 1, 4), int(r, 1, 4)]);
    const opts = { stride: geom(r, [1, 2, 3]), padding: geom(r, [0, 1, 2]), dilation: geom(r, [1, 1, 2]), outputPadding: geom(r, [0, 0, 1]) };
    return () => grads([E.convTranspose2d(x, w, r() < 0.5 ? null : undefined, opts as E.ConvTranspose2dOptions)], [x, w]);
  },
  maxPool2d: (r) => {
    const x = tensor(r, [int(r, 0, 2), int(r, 1, 3), int(r, 0, 8), int(r, 1, 8)]);
    const opts = { kernelSize: geom(r, [1, 2, 3]), stride: r() < 0.3 ? undefined : geom(r, [1, 2]), padding: geom(r, [0, 0, 1]), dilation: geom(r, [1, 1, 2, 3]), ceilMode: flag(r) };
    return () => grads([E.maxPool2d(x, opts as E.MaxPool2dOptions)], [x]);
  },
  avgPool2d: (r) => {
    const x = tensor(r, [int(r, 0, 2), int(r, 1, 3), int(r, 0, 8), int(r, 1, 8)]);
    const opts = { kernelSize: geom(r, [1, 2, 3]), stride: r() < 0.3 ? undefined : geom(r, [1, 2]), padding: geom(r, [0, 0, 1]), ceilMode: flag(r), countIncludePad: flag(r), divisorOverride: r() < 0.8 ? undefined : pick(r, [0, 1, 3, -1, 2.5]) };
    return () => grads([E.avgPool2d(x, opts as E.AvgPool2dOptions)], [x]);
  },
  adaptiveAvgPool2d: (r) => {
    const x = tensor(r, [int(r, 0, 2), int(r, 1, 3), int(r, 0, 9), int(r, 1, 9)]);
    const out = geom(r, [1, 2, 3, 5]);
    return () => grads([E.adaptiveAvgPool2d(x, out as number)], [x]);
  },
  batchNorm: (r) => {
    const C = int(r, 1, 4);
    const x = tensor(r, [int(r, 0, 3), C, ...shape(r, int(r, 0, 2), 4, 0.2)]);
    const affine = r() < 0.5;
    const w = affine ? tensor(r, [C], true, true) : null;
    const b = affine ? tensor(r, [C], true, true) : null;
    const running = r() < 0.5;
    const rm = running ? tensor(r, [C], false) : null;
    const rv = running ? E.onesLike(tensor(r, [C], false)) : null;
    const opts = { training: flag(r) ?? true, momentum: pick(r, [0.1, null, 0.5]), numBatchesTracked: 2, eps: pick(r, [1e-5, 0, -1]) };
    return () => [...grads([E.batchNorm(x, rm, rv, w, b, opts as E.BatchNormOptions)], [x, w, b]), ...(rm && rv ? [rm, rv] : [])];
  },
  groupNorm: (r) => {
    const G = int(r, 1, 3);
    const x = tensor(r, [int(r, 0, 2), G * int(r, 1, 2), ...shape(r, int(r, 0, 2), 4, 0.2)]);
    const w = r() < 0.5 ? tensor(r, [x.shape[1] ?? 1], true, true) : null;
    return () => grads([E.groupNorm(x, pick(r, [G, G, 0, 2.5]), w, null)], [x, w]);
  },
  interpolate: (r) => {
    const x = tensor(r, [int(r, 0, 2), int(r, 1, 2), int(r, 0, 5), int(r, 1, 5)]);
    const mode = pick(r, ['bilinear', 'nearest', 'bicubic']);
    const opts = r() < 0.5 ? { mode, size: geom(r, [1, 3, 8]), alignCorners: flag(r) } : { mode, scaleFactor: pick(r, [2, 0.5, 1.7, [2, 3], 0, -1, 1e9, NaN]) };
    if (mode === 'nearest' && r() < 0.8) delete (opts as { alignCorners?: unknown }).alignCorners;
    return () => grads([E.interpolate(x, opts as E.InterpolateOptions)], [x]);
  },
  pad: (r) => {
    const x = tensor(r, [int(r, 1, 2), int(r, 0, 5), int(r, 0, 5)]);
    const pads = Array.from({ length: 4 }, () => (r() < 0.9 ? int(r, 0, 4) : pick(r, HOSTILE))) as number[];
    return () => grads([E.pad(x, pads, pick(r, ['constant', 'reflect', 'replicate'] as const), pick(r, [0, 1.5, NaN]))], [x]);
  },
  binary: (r) => {
    const nd = int(r, 0, 4);
    const sa = shape(r, nd, 4, 0.05);
    const sb = sa.map((s) => (r() < 0.3 ? 1 : s)).slice(int(r, 0, nd));
    const a = tensor(r, sa);
    const b = tensor(r, r() < 0.05 ? shape(r, sb.length, 4) : sb);
    const op = pick(r, ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'] as const);
    return () => grads([E[op](a, r() < 0.1 ? pick(r, [2, NaN, Infinity]) : b)], [a, b]);
  },
  unary: (r) => {
    const x = tensor(r, shape(r, int(r, 0, 3), 5));
    const op = pick(r, ['neg', 'exp', 'log', 'sqrt', 'abs', 'square', 'reciprocal', 'relu', 'sigmoid', 'tanh', 'silu', 'softplus'] as const);
    return () => grads([(E as unknown as Record<string, (t: Tensor) => Tensor>)[op](x)], [x]);
  },
  reduce: (r) => {
    const x = tensor(r, shape(r, int(r, 1, 3), 4, 0.1));
    const dim = pick(r, [0, 1, -1, 2, 5, 1.5, undefined]);
    const keep = flag(r) as boolean;
    const op = pick(r, ['sum', 'mean', 'max', 'softmax', 'logSoftmax'] as const);
    return () => grads([op === 'softmax' || op === 'logSoftmax' ? E[op](x, dim as number) : E[op](x, dim as number, keep)], [x]);
  },
  matmul: (r) => {
    const [m, k, n] = [int(r, 0, 5), int(r, 0, 5), int(r, 0, 5)];
    const a = tensor(r, r() < 0.3 ? [int(r, 1, 2), m, k] : [m, k]);
    const b = tensor(r, r() < 0.1 ? [k + 1, n] : [k, n]);
    return () => grads([E.matmul(a, b)], [a, b]);
  },
  gaussian: (r) => {
    // Moments, Cholesky inverses and Mahalanobis forms ([B, P, d] embeddings), sometimes with
    // mismatched shapes, non-SPD or NaN matrices (both backends must name the same block).
    const [B, P, d] = [int(r, 0, 3), int(r, 0, 4), int(r, 1, 9)];
    const x = tensor(r, r() < 0.1 ? shape(r, int(r, 2, 4), 4) : [B, P, d], false);
    const which = pick(r, ['moments', 'cholesky', 'mahalanobis'] as const);
    if (which === 'moments') {
      const shift = r() < 0.5 ? null : tensor(r, r() < 0.1 ? [P + 1, d] : [P, d], false);
      const sum = new Float64Array(r() < 0.05 ? P * d + 1 : P * d);
      const outer = new Float64Array(P * d * d);
      return () => {
        E.gaussianMomentsAccumulate(x, shift, sum, outer);
        return [E.Tensor.fromData(Float32Array.from(sum), [sum.length]), E.Tensor.fromData(Float32Array.from(outer), [outer.length])];
      };
    }
    // Blocks GᵀG + ridge·I (ridge ≤ 0 sometimes: not positive definite), sometimes a NaN.
    const a = new Float64Array(P * d * d);
    const g = tensor(r, [P, d, d], false, true).data;
    const ridge = pick(r, [0.5, 0.5, 0.1, 0, -0.5]);
    for (let j = 0; j < P; j++)
      for (let i = 0; i < d; i++)
        for (let k = 0; k < d; k++) {
          let s = i === k ? ridge : 0;
          for (let t = 0; t < d; t++) s += g[j * d * d + t * d + i] * g[j * d * d + t * d + k];
          a[j * d * d + i * d + k] = s;
        }
    if (r() < 0.1 && a.length > 0) a[int(r, 0, a.length - 1)] = NaN;
    if (which === 'cholesky') {
      const count = r() < 0.05 ? pick(r, [P + 1, -1, 1.5]) : P;
      return () => [E.Tensor.fromData(Float32Array.from(E.choleskyInverse(a, count, d)), [a.length])];
    }
    const mean = tensor(r, r() < 0.1 ? [P, d + 1] : [P, d], false);
    const inv = tensor(r, [P, d, d], false, true);
    return () => [E.mahalanobisBatch(x, mean, inv)];
  },
  memoryBank: (r) => {
    // kNN (squared L2, ties → lower index) and the coreset's projection and picks; NaN/∞
    // inputs, mismatched dims and bad k / m / starts must be refused identically.
    const d = int(r, 1, 6);
    const base = tensor(r, r() < 0.1 ? shape(r, int(r, 1, 3), 5) : [int(r, 0, 9), d], false);
    if (r() < 0.2 && base.size > 1 && !base.data.some((v) => !Number.isFinite(v))) base.data.copyWithin(0, d); // duplicate rows: exact ties
    const which = pick(r, ['knn', 'project', 'greedy'] as const);
    if (which === 'knn') {
      const q = tensor(r, [int(r, 0, 4), r() < 0.1 ? d + 1 : d], false);
      const k = r() < 0.85 ? int(r, 1, 12) : pick(r, [0, -1, 1.5, NaN, 2 ** 31]);
      return () => {
        const res = E.knnSearch(q, base, k);
        return [E.Tensor.fromData(res.distances, [res.distances.length]), E.Tensor.fromData(Float32Array.from(res.indices), [res.indices.length])];
      };
    }
    if (which === 'project') {
      const wt = tensor(r, [r() < 0.1 ? d + 1 : d, int(r, 0, 5)], false);
      return () => [E.coresetProject(base, wt)];
    }
    const n = base.shape[0] ?? 0;
    const m = r() < 0.85 ? int(r, 0, Math.max(0, n)) : pick(r, [-1, n + 1, 0.5, NaN]);
    const starts = Int32Array.from({ length: r() < 0.5 ? 0 : int(r, 1, 3) }, () => (r() < 0.9 ? int(r, 0, Math.max(0, n - 1)) : pick(r, [-1, n, 2 ** 30])));
    const newest = r() < 0.5 ? -1 : r() < 0.9 ? int(r, 0, Math.max(0, n - 1)) : pick(r, [-2, n, 1.5]);
    return () => {
      const minDist = new Float32Array(n).fill(Infinity);
      const sel = E.coresetGreedy(base, minDist, m, { starts, newest });
      return [E.Tensor.fromData(Float32Array.from(sel), [sel.length]), E.Tensor.fromData(minDist, [n])];
    };
  },
  seamlessClone: (r) => {
    // Poisson blending (engine op + kernel poissonSolve): random small images, masks of any
    // values, centres in and out of dst, mismatched sizes/channels/types, NaN floats.
    const C = pick(r, [1, 3, 3, 2] as const);
    const sw = int(r, 1, 14), sh = int(r, 1, 14), dw = int(r, 1, 18), dh = int(r, 1, 18);
    const img = (w: number, h: number, c: number) => {
      const float = r() < 0.15;
      const data = float ? new Float32Array(w * h * c) : new Uint8Array(w * h * c);
      for (let i = 0; i < data.length; i++) data[i] = float ? (r() < 0.02 ? NaN : r()) : Math.floor(r() * 256);
      return { width: w, height: h, channels: r() < 0.05 ? pick(r, [2, 4, 0]) : c, data };
    };
    const src = img(sw, sh, C);
    const dst = img(dw, dh, r() < 0.05 ? 4 - C : C);
    const mw = r() < 0.05 ? sw + 1 : sw;
    const mask = { width: mw, height: sh, channels: 1, data: new Uint8Array(mw * sh) as Uint8Array | Float32Array };
    const [x0, y0] = [int(r, 0, sw - 1), int(r, 0, sh - 1)];
    const [x1, y1] = [int(r, x0, sw - 1), int(r, y0, sh - 1)];
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) if (x < mw && r() < 0.9) mask.data[y * mw + x] = pick(r, [255, 255, 1, 128]);
    if (r() < 0.03) mask.data = new Float32Array(mw * sh);
    const center = r() < 0.9 ? { x: int(r, -2, dw + 1), y: int(r, -2, dh + 1) } : pick(r, [{ x: 1.5, y: 2 }, { x: NaN, y: 0 }, null, { x: 2 ** 53, y: 0 }]);
    const mode = r() < 0.95 ? pick(r, ['normal', 'mixed'] as const) : ('poisson' as 'normal');
    const opts = r() < 0.9 ? {} : pick(r, [{ tol: -1 }, { maxIter: 0 }, { tol: NaN }, { maxIter: 1.5 }, { tol: 1e-3, maxIter: 2 }]);
    return () => {
      const res = E.seamlessCloneOp(src, dst, mask, center as { x: number; y: number }, mode, opts);
      return [E.Tensor.fromData(Float32Array.from(res.data), [res.data.length]), E.Tensor.fromData(Float32Array.from(res.solution), [res.solution.length])];
    };
  },
  layout: (r) => {
    const x = tensor(r, shape(r, int(r, 2, 4), 4, 0.1));
    const perm = x.shape.map((_, i) => i).sort(() => r() - 0.5);
    if (r() < 0.1) perm[0] = pick(r, [7, -9, 0.5]);
    return () => grads([E.clone(E.permute(x, perm)), E.slice(x, 0, int(r, 0, 2), pick(r, [undefined, 3, -1]), pick(r, [1, 2, 0]))], [x]);
  },
};

export const OP_NAMES = Object.keys(OPS);

/** Rebuilds case `index` of `seed`: the same call, on fresh tensors, every time. */
export function opCase(seed: number, index: number): { name: string; call: Call } {
  const r = caseRng(seed, index);
  const name = pick(r, OP_NAMES);
  return { name, call: OPS[name](r) };
}
/** The op a case calls, without building its tensors. */
opCase.name_ = (seed: number, index: number): string => pick(caseRng(seed, index), OP_NAMES);

/** The outputs, then the gradients of (outputs · fixed weights) for the inputs that want one. */
function grads(ys: Tensor[], inputs: (Tensor | null | undefined)[]): Tensor[] {
  const want = inputs.filter((t): t is Tensor => !!t && t.requiresGrad);
  if (want.length === 0 || !ys.some((y) => y.requiresGrad)) return ys;
  const y = ys[0];
  const g = E.Tensor.empty(y.shape);
  for (let i = 0; i < g.size; i++) g.data[i] = ((i * 7919) % 13) / 6 - 1; // fixed, backend-independent
  y.backward(g);
  return [...ys, ...want.map((t) => t.grad ?? E.zerosLike(t))];
}
