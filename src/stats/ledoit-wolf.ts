// Ledoit–Wolf shrinkage covariance, as scikit-learn's `LedoitWolf` (assume_centered = False):
// fitted in float64 on n samples of dimension p.
//
//   x̄ = mean of the samples; X_i = e_i − x̄;  S = (1/n) Σ X_i X_iᵀ (divisor n)
//   m = tr(S)/p;  d² = ‖S − m·I‖²_F / p
//   b̄² = (1/(n²p)) Σ_i ‖X_i X_iᵀ − S‖²_F = (Σ_i ‖X_i‖⁴/n − ‖S‖²_F)/(n·p);  b² = min(b̄², d²)
//   ρ = b²/d² (0 when b² = 0);  Σ̂ = (1 − ρ)·S + ρ·m·I;  precision = pinvh(Σ̂)
//
// scikit-learn sums the same quantities in blocks of 1000 features (‖XᵀX‖² and Σ X²ᵀX²); the
// rearranged forms above are equal in exact arithmetic and agree with it to ~1e-12 here.
// One feature (p = 1): ρ = 0 and Σ̂ = the variance (scikit-learn's special case).
import { choleskyInverse, NotPositiveDefiniteError } from '../engine/index.js';
import { pinvSymmetric } from './eigen.js';

export interface LedoitWolfResult {
  /** x̄ [p] */
  location: Float64Array;
  /** Σ̂ [p, p], row-major */
  covariance: Float64Array;
  /** ρ in [0, 1] */
  shrinkage: number;
  /** pinvh(Σ̂) [p, p]: the pseudo-inverse of the symmetric matrix (scikit-learn's precision_) */
  precision: Float64Array;
}

/** Ledoit–Wolf fit of x [n, p] (row-major samples). */
export function ledoitWolf(x: Float64Array | Float32Array, n: number, p: number): LedoitWolfResult {
  const op = 'ledoitWolf';
  if (!(x instanceof Float64Array || x instanceof Float32Array)) throw new TypeError(`${op}: x must be a Float64Array or Float32Array of n·p values`);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${op}: n (samples) must be an integer ≥ 1, got ${n}`);
  if (!Number.isSafeInteger(p) || p < 1) throw new RangeError(`${op}: p (features) must be an integer ≥ 1, got ${p}`);
  if (x.length !== n * p) throw new RangeError(`${op}: x must hold n·p = ${n}·${p} = ${n * p} values, got ${x.length}`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new RangeError(`${op}: sample ${Math.floor(i / p)} has a non-finite value (${x[i]}) at feature ${i % p}`);
  }
  const location = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let k = 0; k < p; k++) location[k] += x[i * p + k];
  for (let k = 0; k < p; k++) location[k] /= n;
  const X = new Float64Array(n * p);
  for (let i = 0; i < n; i++) for (let k = 0; k < p; k++) X[i * p + k] = x[i * p + k] - location[k];

  // S = XᵀX/n (upper triangle by rank-one row updates, then mirrored) and Σ‖X_i‖⁴.
  const S = new Float64Array(p * p);
  let fourth = 0;
  for (let i = 0; i < n; i++) {
    const o = i * p;
    let sq = 0;
    for (let r = 0; r < p; r++) {
      const v = X[o + r];
      sq += v * v;
      if (v === 0) continue;
      const row = r * p;
      for (let c = r; c < p; c++) S[row + c] += v * X[o + c];
    }
    fourth += sq * sq;
  }
  for (let r = 0; r < p; r++) {
    for (let c = r; c < p; c++) {
      const v = S[r * p + c] / n;
      S[r * p + c] = v;
      S[c * p + r] = v;
    }
  }
  let trace = 0;
  for (let r = 0; r < p; r++) trace += S[r * p + r];
  const mu = trace / p;

  let shrinkage = 0;
  if (p > 1) {
    let normS2 = 0;
    for (let e = 0; e < p * p; e++) normS2 += S[e] * S[e];
    const beta0 = (fourth / n - normS2) / (n * p);
    const delta = (normS2 - 2 * mu * trace + p * mu * mu) / p;
    const beta = Math.min(beta0, delta);
    shrinkage = beta === 0 ? 0 : beta / delta;
  }
  const covariance = new Float64Array(p * p);
  for (let e = 0; e < p * p; e++) covariance[e] = (1 - shrinkage) * S[e];
  for (let r = 0; r < p; r++) covariance[r * p + r] += shrinkage * mu;
  return { location, covariance, shrinkage, precision: precisionOf(covariance, p, shrinkage * mu, trace) };
}

/**
 * pinvh(Σ̂). Σ̂ is positive semi-definite with every eigenvalue ≥ ρ·m and their sum tr(Σ̂) =
 * tr(S) = p·m. When ρ·m ≥ 1e-8·tr, no eigenvalue is under pinvh's cutoff (p·ε·λmax ≤ p·ε·tr)
 * and the condition number is ≤ 1e8, so the pseudo-inverse is the inverse and the Cholesky
 * inverse (native, float64) gives it to ~1e-8 relative; otherwise (no shrinkage, one sample,
 * a degenerate set) the eigendecomposition decides which directions to drop, as SciPy does.
 */
function precisionOf(covariance: Float64Array, p: number, floor: number, trace: number): Float64Array {
  if (floor > 0 && floor >= 1e-8 * trace) {
    try {
      return choleskyInverse(covariance, 1, p);
    } catch (e) {
      if (!(e instanceof NotPositiveDefiniteError)) throw e;
    }
  }
  return pinvSymmetric(covariance, p);
}
