// Gaussian statistics kernels (see medianomaly/linalg.h). Moments and Cholesky inverses
// follow the summation orders of the ts reference exactly, written as row updates
// (axpy) so that the compiler vectorises them without reassociating anything.
#include "medianomaly/linalg.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <new>
#include <vector>

#include "medianomaly/threadpool.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace medianomaly {

namespace {

/** Runs fn(begin, end) over positions; a failed scratch allocation anywhere → kOutOfMemory. */
template <typename F>
Status over_positions(int64_t n, int64_t grain, F&& fn) {
  std::atomic<bool> oom{false};
  parallel_for(n, grain, [&](int64_t b, int64_t e) {
    try {
      fn(b, e);
    } catch (const std::bad_alloc&) {
      oom = true;
    }
  });
  return oom ? Status::kOutOfMemory : Status::kOk;
}

}  // namespace

Status gaussian_moments(const GaussianMomentsParams& p, const float* x, const float* shift, double* sum,
                        double* sum_outer) {
  const int64_t B = p.B, P = p.P, d = p.d;
  if (B <= 0 || P <= 0 || d <= 0) return Status::kOk;
  return over_positions(P, 1, [&](int64_t j0, int64_t j1) {
    std::vector<double> v(static_cast<size_t>(B * d));  // the B shifted vectors of one position
    for (int64_t j = j0; j < j1; ++j) {
      const float* sh = shift ? shift + j * d : nullptr;
      for (int64_t b = 0; b < B; ++b) {
        const float* xr = x + (b * P + j) * d;
        double* vr = v.data() + b * d;
        for (int64_t i = 0; i < d; ++i) vr[i] = sh ? static_cast<double>(xr[i]) - static_cast<double>(sh[i]) : xr[i];
      }
      double* s = sum + j * d;
      double* so = sum_outer + j * d * d;
      // Per element the images are added in order b = 0, 1, …: the same sequence as the
      // reference's image-by-image loop, with each row kept in cache across the images.
      for (int64_t i = 0; i < d; ++i) {
        double si = s[i];
        for (int64_t b = 0; b < B; ++b) si += v[b * d + i];
        s[i] = si;
        double* row = so + i * d;
        for (int64_t b = 0; b < B; ++b) {
          const double* vb = v.data() + b * d;
          const double vi = vb[i];
          for (int64_t k = 0; k < d; ++k) row[k] += vi * vb[k];
        }
      }
    }
  });
}

Status cholesky_inverse(const CholeskyParams& p, const double* a, double* inv, int32_t* info) {
  const int64_t P = p.P, d = p.d;
  if (P <= 0) return Status::kOk;
  if (d <= 0) {
    for (int64_t j = 0; j < P; ++j) info[j] = 0;
    return Status::kOk;
  }
  return over_positions(P, 1, [&](int64_t j0, int64_t j1) {
    const size_t dd = static_cast<size_t>(d * d);
    std::vector<double> Lt(dd), W(dd), out(dd), t(static_cast<size_t>(d));
    for (int64_t j = j0; j < j1; ++j) {
      const double* A = a + j * d * d;
      // 1. Cholesky, column by column; Lt[m·d + r] = L[r][m] (column m of L contiguous).
      //    t[r] = a[r][c] − Σ_{m<c} L[r][m]·L[c][m], subtracted in ascending m.
      int32_t failed = 0;
      for (int64_t c = 0; c < d && !failed; ++c) {
        for (int64_t r = c; r < d; ++r) t[r] = A[r * d + c];
        for (int64_t m = 0; m < c; ++m) {
          const double* col = Lt.data() + m * d;
          const double lcm = col[c];
          for (int64_t r = c; r < d; ++r) t[r] -= col[r] * lcm;
        }
        if (!(t[c] > 0)) {
          failed = static_cast<int32_t>(c + 1);
          break;
        }
        const double diag = std::sqrt(t[c]);
        double* colc = Lt.data() + c * d;
        for (int64_t r = 0; r < c; ++r) colc[r] = 0;
        colc[c] = diag;
        for (int64_t r = c + 1; r < d; ++r) colc[r] = t[r] / diag;
      }
      double* I = inv + j * d * d;
      info[j] = failed;
      if (failed) {
        for (int64_t e = 0; e < d * d; ++e) I[e] = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      // 2. W = L⁻¹, one column at a time (forward substitution in axpy form):
      //    acc[r] = Σ_{c ≤ m < r} L[r][m]·W[m][c] in ascending m, W[r][c] = −acc[r] / L[r][r].
      //    Columns of W are built contiguous (Wt, in the `out` scratch), then transposed.
      double* Wt = out.data();  // Wt[c·d + r] = W[r][c]
      for (int64_t c = 0; c < d; ++c) {
        double* w = Wt + c * d;
        for (int64_t r = 0; r < d; ++r) w[r] = 0;
        for (int64_t r = c; r < d; ++r) t[r] = 0;
        for (int64_t m = c; m < d; ++m) {
          const double* col = Lt.data() + m * d;
          const double wm = m == c ? 1 / col[m] : -t[m] / col[m];
          w[m] = wm;
          for (int64_t r = m + 1; r < d; ++r) t[r] += col[r] * wm;
        }
      }
      for (int64_t r = 0; r < d; ++r)
        for (int64_t c = 0; c < d; ++c) W[r * d + c] = Wt[c * d + r];
      // 3. inv[r][c] = Σ_{m ≥ max(r, c)} W[m][r]·W[m][c] in ascending m: rank-one updates of
      //    the upper triangle with row m of W, then mirrored.
      double* S = out.data();
      for (size_t e = 0; e < dd; ++e) S[e] = 0;
      for (int64_t m = 0; m < d; ++m) {
        const double* wr = W.data() + m * d;
        for (int64_t r = 0; r <= m; ++r) {
          const double wmr = wr[r];
          double* srow = S + r * d;
          for (int64_t c = r; c <= m; ++c) srow[c] += wmr * wr[c];
        }
      }
      for (int64_t r = 0; r < d; ++r) {
        for (int64_t c = r; c < d; ++c) {
          I[r * d + c] = S[r * d + c];
          I[c * d + r] = S[r * d + c];
        }
      }
    }
  });
}

namespace {

constexpr int64_t kImageBlock = 4;

/** q[b] = Σ_i δ_b[i]·(Σ_k A[i][k]·δ_b[k]) for nb ≤ 4 images; row sums in 8 float32 lanes. */
void quad_forms(const float* A, const float* const delta[kImageBlock], int64_t nb, int64_t d, double q[kImageBlock]) {
  for (int64_t b = 0; b < kImageBlock; ++b) q[b] = 0;
  for (int64_t i = 0; i < d; ++i) {
    const float* row = A + i * d;
    int64_t k = 0;
    float lanes[kImageBlock][8] = {};
#if defined(__AVX2__) && defined(__FMA__)
    __m256 acc[kImageBlock];
    for (auto& v : acc) v = _mm256_setzero_ps();
    for (; k + 8 <= d; k += 8) {
      const __m256 av = _mm256_loadu_ps(row + k);
      for (int64_t b = 0; b < kImageBlock; ++b) acc[b] = _mm256_fmadd_ps(av, _mm256_loadu_ps(delta[b] + k), acc[b]);
    }
    for (int64_t b = 0; b < kImageBlock; ++b) _mm256_storeu_ps(lanes[b], acc[b]);
#else
    for (; k + 8 <= d; k += 8)
      for (int64_t b = 0; b < kImageBlock; ++b)
        for (int l = 0; l < 8; ++l) lanes[b][l] += row[k + l] * delta[b][k + l];
#endif
    for (int64_t b = 0; b < nb; ++b) {
      double t = 0;
      for (int l = 0; l < 8; ++l) t += lanes[b][l];
      for (int64_t kk = k; kk < d; ++kk) t += static_cast<double>(row[kk] * delta[b][kk]);
      q[b] += static_cast<double>(delta[b][i]) * t;
    }
  }
}

}  // namespace

Status mahalanobis(const MahalanobisParams& p, const float* x, const float* mean, const float* inv, float* out) {
  const int64_t B = p.B, P = p.P, d = p.d;
  if (B <= 0 || P <= 0) return Status::kOk;
  if (d <= 0) {
    for (int64_t e = 0; e < B * P; ++e) out[e] = 0;
    return Status::kOk;
  }
  const int64_t blocks = (B + kImageBlock - 1) / kImageBlock;
  // Work items: (position, block of 4 images), position-major, so each thread reads each of
  // its positions' inverse covariances from memory once and from cache for later blocks.
  return over_positions(P * blocks, 1, [&](int64_t w0, int64_t w1) {
    std::vector<float> buf(static_cast<size_t>(kImageBlock * d));
    for (int64_t w = w0; w < w1; ++w) {
      const int64_t j = w / blocks, b0 = (w % blocks) * kImageBlock;
      const int64_t nb = std::min<int64_t>(kImageBlock, B - b0);
      const float* mu = mean + j * d;
      const float* delta[kImageBlock];
      for (int64_t b = 0; b < kImageBlock; ++b) {
        float* db = buf.data() + b * d;
        if (b < nb) {
          const float* xr = x + ((b0 + b) * P + j) * d;
          for (int64_t i = 0; i < d; ++i) db[i] = xr[i] - mu[i];
        } else {
          for (int64_t i = 0; i < d; ++i) db[i] = 0;
        }
        delta[b] = db;
      }
      double q[kImageBlock];
      quad_forms(inv + j * d * d, delta, nb, d, q);
      for (int64_t b = 0; b < nb; ++b) out[(b0 + b) * P + j] = static_cast<float>(q[b]);
    }
  });
}

}  // namespace medianomaly
