// Gaussian statistics ops (PaDiM, the Ledoit–Wolf baseline): per-position moments,
// batched Cholesky inverses and batched Mahalanobis quadratic forms. No gradients: these
// run on features of frozen networks. Layouts: embeddings [B, P, d] (position-major,
// channel last), means [P, d], matrices [P, d, d]; float64 statistics are plain
// Float64Arrays (tensors are float32).
import { kernels } from '../../backend/registry.js';
import { Tensor } from '../tensor.js';
import { fmt } from '../shape-util.js';
import { checkTensor } from './elementwise.js';

function checkF64(a: unknown, op: string, arg: string, length: number, what: string): Float64Array {
  if (!(a instanceof Float64Array)) throw new TypeError(`${op}: ${arg} must be a Float64Array, got ${a === null ? 'null' : typeof a}`);
  if (a.length !== length) throw new RangeError(`${op}: ${arg} must hold ${length} values (${what}), got ${a.length}`);
  return a;
}

function checkCount(v: unknown, op: string, arg: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new RangeError(`${op}: ${arg} must be an integer ≥ ${min}, got ${String(v)}`);
  }
  return v;
}

/**
 * Adds a batch of embeddings x [B, P, d] to running float64 moments: sum [P·d] += Σ_b v and
 * sumOuter [P·d·d] += Σ_b v·vᵀ with v = x[b, j] − shift[j] (shift [P, d] or null). Images
 * are added in order, so the totals depend only on the batches and their order.
 */
export function gaussianMomentsAccumulate(x: Tensor, shift: Tensor | null, sum: Float64Array, sumOuter: Float64Array): void {
  const op = 'gaussianMomentsAccumulate';
  checkTensor(x, op, 'x');
  if (x.ndim !== 3) throw new RangeError(`${op}: x must be [B, P, d] (images, positions, channels), got ${fmt(x.shape)}`);
  const [B, P, d] = x.shape;
  if (shift !== null) {
    checkTensor(shift, op, 'shift');
    if (shift.ndim !== 2 || shift.shape[0] !== P || shift.shape[1] !== d) {
      throw new RangeError(`${op}: shift must be [P, d] = [${P}, ${d}], got ${fmt(shift.shape)}`);
    }
  }
  checkF64(sum, op, 'sum', P * d, 'P·d');
  checkF64(sumOuter, op, 'sumOuter', P * d * d, 'P·d·d');
  if (B * P * d === 0) return;
  kernels().gaussianMoments({ B, P, d }, x.data, shift ? shift.data : null, sum, sumOuter);
}

/** A matrix that Cholesky could not factor; `index` is its position in the batch, `column` the failing pivot. */
export class NotPositiveDefiniteError extends RangeError {
  constructor(
    message: string,
    readonly index: number,
    readonly column: number,
  ) {
    super(message);
    this.name = 'NotPositiveDefiniteError';
  }
}

/**
 * Inverses of `count` symmetric positive-definite d×d matrices (a: [count·d·d], float64; only
 * the lower triangles are read). Returns a new array, or overwrites `a` when `inPlace`.
 * A matrix that is not positive definite (or holds NaN) throws NotPositiveDefiniteError
 * naming the first such matrix, never a silent NaN.
 */
export function choleskyInverse(a: Float64Array, count: number, d: number, opts: { inPlace?: boolean } = {}): Float64Array {
  const op = 'choleskyInverse';
  checkCount(count, op, 'count', 0);
  checkCount(d, op, 'd', 1);
  checkF64(a, op, 'a', count * d * d, 'count·d·d');
  const inv = opts.inPlace ? a : new Float64Array(a.length);
  const info = new Int32Array(count);
  if (count > 0) kernels().choleskyInverse({ P: count, d }, a, inv, info);
  for (let j = 0; j < count; j++) {
    if (info[j] !== 0) {
      throw new NotPositiveDefiniteError(
        `${op}: matrix ${j} of ${count} (${d}×${d}) is not positive definite: the Cholesky pivot of column ${info[j] - 1} is not > 0 (or is NaN)`,
        j,
        info[j] - 1,
      );
    }
  }
  return inv;
}

/**
 * Squared Mahalanobis distances q[b, j] = (x[b, j] − mean[j])ᵀ·inv[j]·(x[b, j] − mean[j]) for
 * x [B, P, d], mean [P, d], inv [P, d, d] (float32 storage) → [B, P] (float32; not clamped:
 * rounding can make a tiny q negative). The differences are float32; the sums are float64 on
 * `ts`, float32 row sums added in float64 on the native backend (within float32 rounding of
 * each other). One pass over `inv` serves the whole batch: pass many images at once.
 */
export function mahalanobisBatch(x: Tensor, mean: Tensor, inv: Tensor): Tensor {
  const op = 'mahalanobis';
  checkTensor(x, op, 'x');
  checkTensor(mean, op, 'mean');
  checkTensor(inv, op, 'inv');
  if (x.ndim !== 3) throw new RangeError(`${op}: x must be [B, P, d] (images, positions, channels), got ${fmt(x.shape)}`);
  const [B, P, d] = x.shape;
  if (mean.ndim !== 2 || mean.shape[0] !== P || mean.shape[1] !== d) {
    throw new RangeError(`${op}: mean must be [P, d] = [${P}, ${d}] to match x ${fmt(x.shape)}, got ${fmt(mean.shape)}`);
  }
  if (inv.ndim !== 3 || inv.shape[0] !== P || inv.shape[1] !== d || inv.shape[2] !== d) {
    throw new RangeError(`${op}: inv must be [P, d, d] = [${P}, ${d}, ${d}] to match x ${fmt(x.shape)}, got ${fmt(inv.shape)}`);
  }
  const out = Tensor.empty([B, P]);
  if (B * P > 0) kernels().mahalanobis({ B, P, d }, x.data, mean.data, inv.data, out.data);
  return out;
}
