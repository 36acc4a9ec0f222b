// Mahalanobis distances in batches: many images per pass over the inverse covariances.
import { Tensor, mahalanobisBatch } from '../engine/index.js';

export interface MahalanobisOptions {
  /** Return the quadratic form q itself (may be slightly negative from rounding) instead of √max(0, q). */
  squared?: boolean;
}

function asTensor(v: Tensor | Float32Array | Float64Array, shape: number[], what: string): Tensor {
  if (v instanceof Tensor) {
    if (v.size !== shape.reduce((a, b) => a * b, 1)) throw new RangeError(`mahalanobis: ${what} must hold [${shape.join(', ')}] values, got [${v.shape.join(', ')}]`);
    return v.reshape(shape);
  }
  if (!(v instanceof Float32Array || v instanceof Float64Array)) throw new TypeError(`mahalanobis: ${what} must be a Tensor, Float32Array or Float64Array`);
  if (v.length !== shape.reduce((a, b) => a * b, 1)) throw new RangeError(`mahalanobis: ${what} must hold [${shape.join(', ')}] values, got ${v.length}`);
  return Tensor.fromData(v instanceof Float32Array ? v : Float32Array.from(v), shape);
}

/**
 * Per-position distances √max(0, (x_j − μ_j)ᵀ·Σ_j⁻¹·(x_j − μ_j)) of embeddings x [B, P, d] → [B, P]
 * (mean [P, d], invCovariance [P, d, d]). Stored in float32; see mahalanobisBatch for the sums.
 */
export function mahalanobisMap(x: Tensor, mean: Tensor | Float32Array, invCovariance: Tensor | Float32Array, opts: MahalanobisOptions = {}): Tensor {
  if (!(x instanceof Tensor) || x.ndim !== 3) throw new RangeError(`mahalanobis: x must be a Tensor [B, P, d]`);
  const [, P, d] = x.shape;
  const q = mahalanobisBatch(x, asTensor(mean, [P, d], 'mean'), asTensor(invCovariance, [P, d, d], 'invCovariance'));
  if (!opts.squared) {
    const a = q.data;
    for (let i = 0; i < a.length; i++) a[i] = Math.sqrt(Math.max(0, a[i]));
  }
  return q;
}

/**
 * Distances of n samples x [n, p] to one Gaussian (mean [p], precision [p, p]) → Float32Array [n].
 * The precision is used in float32 (as the reference's torch einsum); the sums are float64
 * (ts) or float32 row sums added in float64 (native).
 */
export function mahalanobis(
  x: Tensor | Float32Array | Float64Array,
  n: number,
  mean: Tensor | Float32Array | Float64Array,
  precision: Tensor | Float32Array | Float64Array,
  opts: MahalanobisOptions = {},
): Float32Array {
  const p = mean instanceof Tensor ? mean.size : mean.length;
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`mahalanobis: n must be an integer ≥ 0, got ${n}`);
  if (p < 1) throw new RangeError('mahalanobis: the mean must have at least one feature');
  const xs = asTensor(x, [n, 1, p], 'x');
  return mahalanobisMap(xs, asTensor(mean, [1, p], 'mean'), asTensor(precision, [1, p, p], 'precision'), opts).data;
}
