// The per-plane sums of the normalisation kernels: Σx, Σ(x − mean)², and Σdy, Σdy·(x − mean)
// in one pass, in 16 float lanes (two AVX2 accumulators) then double, and a group's mean and
// 1/σ. norm.cc and group_norm_silu.cc both use them, so the fused kernel's statistics and
// gradient sums are bitwise those of group_norm_forward / group_norm_backward
// (test/native/group-norm-silu.test.ts checks it).
#pragma once

#include <cmath>
#include <cstdint>

#include "medianomaly/norm.h"
#include "medianomaly/threadpool.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace medianomaly::norm_planes {

#if defined(__AVX2__) && defined(__FMA__)

inline double hsum2(__m256 a, __m256 b) {
  alignas(32) float t[8];
  _mm256_store_ps(t, _mm256_add_ps(a, b));
  double s = 0.0;
  for (float v : t) s += v;
  return s;
}

inline double plane_sum(const float* x, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
  }
  double s = hsum2(a0, a1);
  for (; i < n; ++i) s += x[i];
  return s;
}

inline double plane_sq_dev(const float* x, int64_t n, float mean) {
  const __m256 m = _mm256_set1_ps(mean);
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), m);
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), m);
    a0 = _mm256_fmadd_ps(d0, d0, a0);
    a1 = _mm256_fmadd_ps(d1, d1, a1);
  }
  double s = hsum2(a0, a1);
  for (; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - mean;
    s += d * d;
  }
  return s;
}

inline void plane_grad_sums(const float* x, const float* dy, int64_t n, float mean, double* sdy, double* sdyx) {
  const __m256 m = _mm256_set1_ps(mean);
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 g0 = _mm256_loadu_ps(dy + i), g1 = _mm256_loadu_ps(dy + i + 8);
    a0 = _mm256_add_ps(a0, g0);
    a1 = _mm256_add_ps(a1, g1);
    b0 = _mm256_fmadd_ps(g0, _mm256_sub_ps(_mm256_loadu_ps(x + i), m), b0);
    b1 = _mm256_fmadd_ps(g1, _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), m), b1);
  }
  double s1 = hsum2(a0, a1), s2 = hsum2(b0, b1);
  for (; i < n; ++i) {
    s1 += dy[i];
    s2 += static_cast<double>(dy[i]) * (static_cast<double>(x[i]) - mean);
  }
  *sdy += s1;
  *sdyx += s2;
}

#else

constexpr int kLanes = 16;

inline double lane_total(const float* acc) {
  double s = 0.0;
  for (int j = 0; j < kLanes; ++j) s += acc[j];
  return s;
}

inline double plane_sum(const float* x, int64_t n) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += x[i + j];
  double s = lane_total(acc);
  for (; i < n; ++i) s += x[i];
  return s;
}

inline double plane_sq_dev(const float* x, int64_t n, float mean) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const float d = x[i + j] - mean;
      acc[j] += d * d;
    }
  double s = lane_total(acc);
  for (; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - mean;
    s += d * d;
  }
  return s;
}

inline void plane_grad_sums(const float* x, const float* dy, int64_t n, float mean, double* sdy, double* sdyx) {
  float a[kLanes] = {}, b[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      a[j] += dy[i + j];
      b[j] += dy[i + j] * (x[i + j] - mean);
    }
  double s1 = lane_total(a), s2 = lane_total(b);
  for (; i < n; ++i) {
    s1 += dy[i];
    s2 += static_cast<double>(dy[i]) * (static_cast<double>(x[i]) - mean);
  }
  *sdy += s1;
  *sdyx += s2;
}

#endif

/** Mean and 1/√(var + eps) (biased variance) of one group's `block` values; 0 and 1/√eps when empty. */
inline void group_moments(const float* x, int64_t block, double eps, float* mean, float* invstd) {
  const double cnt = static_cast<double>(block);
  const float m = cnt > 0 ? static_cast<float>(plane_sum(x, block) / cnt) : 0.0f;
  const double var = cnt > 0 ? plane_sq_dev(x, block, m) / cnt : 0.0;
  *mean = m;
  *invstd = static_cast<float>(1.0 / std::sqrt(var + eps));
}

/**
 * A group normalisation's forward pass: per (n, g) its moments (stored in mean / invstd),
 * then plane(x_c, HW, mean, invstd·γ_c, β_c, y_c) for each channel of the group, which
 * writes the normalised (and for the fused kernels activated) plane.
 */
template <typename Plane>
void group_norm_apply(const GroupNormParams& p, const float* x, const float* gamma, const float* beta, float* y,
                      float* mean, float* invstd, Plane plane) {
  const int64_t G = p.G, Cg = p.C / G, HW = p.HW;
  const int64_t block = Cg * HW;
  parallel_for(p.N * G, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const float* xp = x + t * block;
      float* yp = y + t * block;
      float m, is;
      group_moments(xp, block, p.eps, &m, &is);
      mean[t] = m;
      invstd[t] = is;
      const int64_t g = t % G;
      for (int64_t cl = 0; cl < Cg; ++cl) {
        const int64_t c = g * Cg + cl;
        plane(xp + cl * HW, HW, m, is * (gamma ? gamma[c] : 1.0f), beta ? beta[c] : 0.0f, yp + cl * HW);
      }
    }
  });
}

}  // namespace medianomaly::norm_planes
