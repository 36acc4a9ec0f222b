// Gaussian statistics kernels: per-position moments (PaDiM's streaming fit), batched
// Cholesky inverses and batched Mahalanobis quadratic forms.
//
// Layouts: embeddings x are [B, P, d] (position-major, channel last), means [P, d],
// matrices [P, d, d] row-major.
//
// Determinism: every kernel splits its work over positions only (plus image blocks for
// mahalanobis), and each output element is computed by one fixed sequence of operations,
// so results are bitwise identical for every thread count. gaussian_moments and
// cholesky_inverse add in the same order as the `ts` reference (src/backend/ts/linalg.ts)
// without fused multiply-adds, so they match it bit for bit; mahalanobis forms its row
// sums in float32 (8 partial sums, added in float64) and matches the float64 reference
// within float32 rounding of those sums.
#pragma once

#include <cstdint>

#include "medianomaly/status.h"

namespace medianomaly {

struct GaussianMomentsParams {
  int64_t B = 0, P = 0, d = 0;
};

struct CholeskyParams {
  int64_t P = 0, d = 0;
};

struct MahalanobisParams {
  int64_t B = 0, P = 0, d = 0;
};

/**
 * sum[j, i] += Σ_b v_i, sum_outer[j, i, k] += Σ_b v_i·v_k, v = x[b, j, :] − shift[j, :]
 * (shift may be null), float64, images added in order. Scratch: d doubles per thread.
 */
Status gaussian_moments(const GaussianMomentsParams& p, const float* x, const float* shift, double* sum,
                        double* sum_outer);

/**
 * inv[j] = a[j]⁻¹ for symmetric positive-definite blocks (lower triangle of a read).
 * info[j] = 0, or k + 1 when the pivot of column k is not > 0 (or NaN): inv[j] is then NaN.
 * inv may be a itself (exactly in place). Scratch: 3·d² doubles per thread.
 */
Status cholesky_inverse(const CholeskyParams& p, const double* a, double* inv, int32_t* info);

/** out[b, j] = δᵀ·inv[j]·δ with δ = x[b, j] − mean[j] (float32), as float32. */
Status mahalanobis(const MahalanobisParams& p, const float* x, const float* mean, const float* inv, float* out);

}  // namespace medianomaly
