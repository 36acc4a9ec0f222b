// Memory-bank ops: exact k-NN search (squared L2) and PatchCore's approximate greedy
// coreset (projection + farthest-point picks). No gradients. Every argument is checked
// here, before dispatch, so both backends refuse the same inputs with the same message.
import { kernels } from '../../backend/registry.js';
import { Tensor } from '../tensor.js';
import { fmt } from '../shape-util.js';
import { checkTensor } from './elementwise.js';

const MAX_INDEX = 2 ** 31 - 1; // indices are Int32

/** Index of the first NaN or ±Inf in `x`, or −1. */
export function firstNonFinite(x: Float32Array): number {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v - v !== 0) return i; // NaN − NaN and ∞ − ∞ are NaN
  }
  return -1;
}

/** Throws naming `what` and the row/column of the first non-finite value in a [rows, dim] matrix. */
export function checkFinite(x: Float32Array, dim: number, op: string, what: string): void {
  const i = firstNonFinite(x);
  if (i >= 0) {
    const row = Math.floor(i / Math.max(1, dim));
    throw new RangeError(`${op}: ${what} holds ${x[i]} at row ${row}, column ${i - row * dim}; distances need finite values (check the features for NaN or overflow)`);
  }
}

/** ‖x_i‖² of each row of a [n, d] matrix: float64 sums in dimension order, rounded to float32. */
export function rowSquaredNorms(x: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i * d, e = j + d; j < e; j++) s += x[j] * x[j];
    out[i] = s;
  }
  return out;
}

function matrix(x: Tensor, op: string, arg: string): [number, number] {
  checkTensor(x, op, arg);
  if (x.ndim !== 2) throw new RangeError(`${op}: ${arg} must be 2-D [rows, dim], got ${fmt(x.shape)}`);
  return [x.shape[0], x.shape[1]];
}

export interface KnnSearchOptions {
  /** ‖b‖² per base row (as rowSquaredNorms computes them); computed by the kernel when absent. */
  baseNorms?: Float32Array | null;
  /** The caller has already refused non-finite base values (KnnIndex does on add): skip the scan. */
  baseChecked?: boolean;
}

export interface KnnResult {
  /** [nq, k] squared L2 distances, ascending per query; +Infinity past the bank's size. */
  distances: Float32Array;
  /** [nq, k] base row indices; −1 past the bank's size. Equal distances: the lower index first. */
  indices: Int32Array;
}

/**
 * The k nearest base rows of each query by squared Euclidean distance, computed as
 * ‖q‖² + ‖b‖² − 2·q·b clamped at 0 (faiss IndexFlatL2's semantics and rounding form).
 * queries [nq, d], base [nb, d]; k ≥ 1 (k > nb pads with +Infinity / −1).
 */
export function knnSearch(queries: Tensor, base: Tensor, k: number, opts: KnnSearchOptions = {}): KnnResult {
  const op = 'knnSearch';
  const [nq, d] = matrix(queries, op, 'queries');
  const [nb, db] = matrix(base, op, 'base');
  if (d !== db) throw new RangeError(`${op}: queries have ${d} values per row but the base has ${db}`);
  if (d < 1) throw new RangeError(`${op}: vectors need at least one value (dim is 0)`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`${op}: k must be an integer ≥ 1, got ${k}`);
  if (nb > MAX_INDEX) throw new RangeError(`${op}: the base has ${nb} rows; at most 2^31 − 1 are indexable`);
  if (nq * k > MAX_INDEX) throw new RangeError(`${op}: ${nq} queries × k ${k} results exceed 2^31 − 1; search in smaller batches`);
  checkFinite(queries.data, d, op, 'queries');
  if (!opts.baseChecked) checkFinite(base.data, d, op, 'base');
  const norms = opts.baseNorms ?? null;
  if (norms !== null && (!(norms instanceof Float32Array) || norms.length !== nb)) {
    throw new RangeError(`${op}: baseNorms must be a Float32Array of ${nb} values (one per base row), got ${norms instanceof Float32Array ? norms.length : typeof norms}`);
  }
  const distances = new Float32Array(nq * k);
  const indices = new Int32Array(nq * k);
  if (nq > 0) kernels().knnSearch({ nq, nb, d, k }, queries.data, base.data, norms, distances, indices);
  return { distances, indices };
}

/**
 * knnSearch against a base stored as IEEE half bits, base [nb, d] (a float16 memory bank):
 * distances are computed in float32 from the exact float32 values of the halves. The base
 * must hold finite halves (KnnIndex refuses others on add). baseNorms: ‖b‖² of those values.
 */
export function knnSearchHalf(queries: Tensor, base: Uint16Array, nb: number, k: number, opts: { baseNorms?: Float32Array | null } = {}): KnnResult {
  const op = 'knnSearchHalf';
  const [nq, d] = matrix(queries, op, 'queries');
  if (!(base instanceof Uint16Array)) throw new TypeError(`${op}: base must be a Uint16Array of IEEE half bits`);
  if (!Number.isInteger(nb) || nb < 0 || base.length !== nb * d) throw new RangeError(`${op}: base holds ${base.length} values, not ${nb} rows of ${d}`);
  if (d < 1) throw new RangeError(`${op}: vectors need at least one value (dim is 0)`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`${op}: k must be an integer ≥ 1, got ${k}`);
  if (nb > MAX_INDEX) throw new RangeError(`${op}: the base has ${nb} rows; at most 2^31 − 1 are indexable`);
  if (nq * k > MAX_INDEX) throw new RangeError(`${op}: ${nq} queries × k ${k} results exceed 2^31 − 1; search in smaller batches`);
  checkFinite(queries.data, d, op, 'queries');
  const norms = opts.baseNorms ?? null;
  if (norms !== null && (!(norms instanceof Float32Array) || norms.length !== nb)) {
    throw new RangeError(`${op}: baseNorms must be a Float32Array of ${nb} values (one per base row)`);
  }
  const distances = new Float32Array(nq * k);
  const indices = new Int32Array(nq * k);
  if (nq > 0) kernels().knnSearchHalf({ nq, nb, d, k }, queries.data, base, norms, distances, indices);
  return { distances, indices };
}

/**
 * y [n, e] = x [n, d] · wt [d, e] in float32 with a fixed operation order (no fused
 * multiply-add), identical on every backend: the coreset's random projection.
 */
export function coresetProject(x: Tensor, wt: Tensor): Tensor {
  const op = 'coresetProject';
  const [n, d] = matrix(x, op, 'x');
  const [dw, e] = matrix(wt, op, 'wt');
  if (dw !== d) throw new RangeError(`${op}: x has ${d} columns but wt has ${dw} rows`);
  const y = Tensor.uninit([n, e]);
  if (y.size > 0) kernels().coresetProject({ n, d, e }, x.data, wt.data, y.data);
  return y;
}

export interface CoresetStepOptions {
  /** Start points for the official rule: minDist is first set to (mean Euclidean distance to them)². */
  starts?: Int32Array;
  /** A centre folded into minDist before the first pick (the previous call's last pick), or −1. */
  newest?: number;
}

/**
 * m farthest-point picks over points [n, d]; minDist (n values, float32) is the running
 * squared distance to the chosen centres, read and updated in place, so a selection can
 * run in several calls (pass the last pick as `newest`). Ties pick the lowest index.
 */
export function coresetGreedy(points: Tensor, minDist: Float32Array, m: number, opts: CoresetStepOptions = {}): Int32Array {
  const op = 'coresetGreedy';
  const [n, d] = matrix(points, op, 'points');
  if (n > MAX_INDEX) throw new RangeError(`${op}: ${n} points; at most 2^31 − 1 are indexable`);
  if (d < 1 && n > 0) throw new RangeError(`${op}: points need at least one value (dim is 0)`);
  if (!Number.isInteger(m) || m < 0 || m > n) throw new RangeError(`${op}: m must be an integer in [0, ${n}], got ${m}`);
  if (!(minDist instanceof Float32Array) || minDist.length !== n) throw new RangeError(`${op}: minDist must be a Float32Array of ${n} values`);
  const starts = opts.starts ?? new Int32Array(0);
  if (!(starts instanceof Int32Array) || starts.length > n) throw new RangeError(`${op}: starts must be an Int32Array of at most ${n} indices`);
  for (const s of starts) if (s < 0 || s >= n) throw new RangeError(`${op}: start index ${s} is outside [0, ${n})`);
  const newest = opts.newest ?? -1;
  if (!Number.isInteger(newest) || newest < -1 || newest >= n) throw new RangeError(`${op}: newest must be −1 or a point index < ${n}, got ${newest}`);
  const selected = new Int32Array(m);
  if (n > 0 && (m > 0 || starts.length > 0)) kernels().coresetGreedy({ n, d, m, newest, starts: starts.length }, points.data, starts, minDist, selected);
  return selected;
}

/**
 * coresetGreedy on points stored as IEEE half bits [n, d]: the same picks as coresetGreedy
 * on the float32 values of the halves, with half the memory read per pick. The halves must
 * be finite.
 */
export function coresetGreedyHalf(points: Uint16Array, n: number, d: number, minDist: Float32Array, m: number, opts: CoresetStepOptions = {}): Int32Array {
  const op = 'coresetGreedyHalf';
  if (!(points instanceof Uint16Array)) throw new TypeError(`${op}: points must be a Uint16Array of IEEE half bits`);
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 0 || d < 0 || points.length !== n * d) throw new RangeError(`${op}: points hold ${points.length} values, not ${n} × ${d}`);
  if (n > MAX_INDEX) throw new RangeError(`${op}: ${n} points; at most 2^31 − 1 are indexable`);
  if (d < 1 && n > 0) throw new RangeError(`${op}: points need at least one value (dim is 0)`);
  if (!Number.isInteger(m) || m < 0 || m > n) throw new RangeError(`${op}: m must be an integer in [0, ${n}], got ${m}`);
  if (!(minDist instanceof Float32Array) || minDist.length !== n) throw new RangeError(`${op}: minDist must be a Float32Array of ${n} values`);
  const starts = opts.starts ?? new Int32Array(0);
  if (!(starts instanceof Int32Array) || starts.length > n) throw new RangeError(`${op}: starts must be an Int32Array of at most ${n} indices`);
  for (const s of starts) if (s < 0 || s >= n) throw new RangeError(`${op}: start index ${s} is outside [0, ${n})`);
  const newest = opts.newest ?? -1;
  if (!Number.isInteger(newest) || newest < -1 || newest >= n) throw new RangeError(`${op}: newest must be −1 or a point index < ${n}, got ${newest}`);
  const selected = new Int32Array(m);
  if (n > 0 && (m > 0 || starts.length > 0)) kernels().coresetGreedyHalf({ n, d, m, newest, starts: starts.length }, points, starts, minDist, selected);
  return selected;
}
