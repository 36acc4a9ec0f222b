// Gaussian statistics kernels (PaDiM, the Ledoit–Wolf baseline): per-position moments,
// batched Cholesky inverses and batched Mahalanobis quadratic forms. Plain loops in
// float64, written to be read; the native kernels (native/cpu/linalg.cc) follow the same
// summation orders, so moments and inverses agree to the last few bits.
import type { CholeskyParams, F32, F64, GaussianMomentsParams, I32, MahalanobisParams } from '../types.js';

/**
 * sum[j, i] += Σ_b v_i and sumOuter[j, i, k] += Σ_b v_i·v_k with v = x[b, j, :] − shift[j, :],
 * in float64. Images are added one after the other in order (b = 0, 1, …), each product
 * rounded once and added (no fused multiply-add), so every backend gets the same bits.
 */
export function gaussianMoments(p: GaussianMomentsParams, x: F32, shift: F32 | null, sum: F64, sumOuter: F64): void {
  const { B, P, d } = p;
  const v = new Float64Array(d);
  for (let j = 0; j < P; j++) {
    const s = j * d;
    const so = j * d * d;
    for (let b = 0; b < B; b++) {
      const xo = (b * P + j) * d;
      for (let i = 0; i < d; i++) v[i] = shift ? x[xo + i] - shift[s + i] : x[xo + i];
      for (let i = 0; i < d; i++) {
        sum[s + i] += v[i];
        const vi = v[i];
        const row = so + i * d;
        for (let k = 0; k < d; k++) sumOuter[row + k] += vi * v[k];
      }
    }
  }
}

/**
 * Cholesky inverse of each d×d block: a = L·Lᵀ (lower triangle of a read, column by column),
 * W = L⁻¹ by forward substitution, then inv = Wᵀ·W, written to both triangles. A pivot
 * that is not > 0 (or NaN) stops that block: info[j] = column + 1 and inv[j] = NaN.
 * inv may alias a: the block is copied to scratch first.
 */
export function choleskyInverse(p: CholeskyParams, a: F64, inv: F64, info: I32): void {
  const { P, d } = p;
  const L = new Float64Array(d * d);
  const W = new Float64Array(d * d);
  for (let j = 0; j < P; j++) {
    const o = j * d * d;
    const failed = choleskyLower(a, o, d, L);
    info[j] = failed;
    if (failed !== 0) {
      inv.fill(NaN, o, o + d * d);
      continue;
    }
    invertLower(L, d, W);
    // inv[r][c] = Σ_{m ≥ max(r, c)} W[m][r]·W[m][c], for r ≤ c, mirrored.
    for (let r = 0; r < d; r++) {
      for (let c = r; c < d; c++) {
        let s = 0;
        for (let m = c; m < d; m++) s += W[m * d + r] * W[m * d + c];
        inv[o + r * d + c] = s;
        inv[o + c * d + r] = s;
      }
    }
  }
}

/** L (lower, row-major, upper part zeroed) with a[o..] = L·Lᵀ; 0 or the failing column + 1. */
function choleskyLower(a: F64, o: number, d: number, L: F64): number {
  L.fill(0);
  for (let c = 0; c < d; c++) {
    let s = a[o + c * d + c];
    for (let m = 0; m < c; m++) s -= L[c * d + m] * L[c * d + m];
    if (!(s > 0)) return c + 1;
    const diag = Math.sqrt(s);
    L[c * d + c] = diag;
    for (let r = c + 1; r < d; r++) {
      let t = a[o + r * d + c];
      for (let m = 0; m < c; m++) t -= L[r * d + m] * L[c * d + m];
      L[r * d + c] = t / diag;
    }
  }
  return 0;
}

/** W = L⁻¹ (lower triangular), column by column: W[r][c] = −(Σ_{c ≤ m < r} L[r][m]·W[m][c]) / L[r][r]. */
function invertLower(L: F64, d: number, W: F64): void {
  W.fill(0);
  for (let c = 0; c < d; c++) {
    W[c * d + c] = 1 / L[c * d + c];
    for (let r = c + 1; r < d; r++) {
      let s = 0;
      for (let m = c; m < r; m++) s += L[r * d + m] * W[m * d + c];
      W[r * d + c] = -s / L[r * d + r];
    }
  }
}

/**
 * out[b, j] = Σ_i δ_i · (Σ_k inv[j, i, k]·δ_k) with δ = x[b, j] − mean[j] rounded to float32
 * (the storage precision), the sums in float64, the result rounded to float32.
 * The native kernel forms the inner sums in float32 (8 partial sums per row, added in
 * float64), so the two agree within float32 rounding of the row sums.
 */
export function mahalanobis(p: MahalanobisParams, x: F32, mean: F32, inv: F32, out: F32): void {
  const { B, P, d } = p;
  const delta = new Float64Array(d);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < P; j++) {
      const xo = (b * P + j) * d;
      for (let i = 0; i < d; i++) delta[i] = Math.fround(x[xo + i] - mean[j * d + i]);
      const A = j * d * d;
      let q = 0;
      for (let i = 0; i < d; i++) {
        let t = 0;
        const row = A + i * d;
        for (let k = 0; k < d; k++) t += inv[row + k] * delta[k];
        q += delta[i] * t;
      }
      out[b * P + j] = q;
    }
  }
}
