// Squared-L2 distance helpers shared by knn.cc and coreset.cc (internal header).
#pragma once

#include <cstdint>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace medianomaly::detail {

#if defined(__AVX2__) && defined(__FMA__)
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#endif

/** Σ (a − b)² over d values. */
inline float sq_dist(const float* a, const float* b, int64_t d) {
  int64_t t = 0;
  float s = 0.0f;
#if defined(__AVX2__) && defined(__FMA__)
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (; t + 16 <= d; t += 16) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + t), _mm256_loadu_ps(b + t));
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + t + 8), _mm256_loadu_ps(b + t + 8));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
    acc1 = _mm256_fmadd_ps(d1, d1, acc1);
  }
  s = hsum(_mm256_add_ps(acc0, acc1));
#endif
  for (; t < d; ++t) {
    const float v = a[t] - b[t];
    s += v * v;
  }
  return s;
}

/** Distances from 4 queries to 2 base rows: out[q·2 + j]. Pointers may repeat. */
inline void sq_dist_4x2(const float* const q[4], const float* b0, const float* b1, int64_t d, float out[8]) {
  int64_t t = 0;
  float s[8] = {};
#if defined(__AVX2__) && defined(__FMA__)
  __m256 acc[8];
  for (auto& v : acc) v = _mm256_setzero_ps();
  for (; t + 8 <= d; t += 8) {
    const __m256 vb0 = _mm256_loadu_ps(b0 + t), vb1 = _mm256_loadu_ps(b1 + t);
    for (int i = 0; i < 4; ++i) {
      const __m256 vq = _mm256_loadu_ps(q[i] + t);
      const __m256 e0 = _mm256_sub_ps(vq, vb0), e1 = _mm256_sub_ps(vq, vb1);
      acc[2 * i] = _mm256_fmadd_ps(e0, e0, acc[2 * i]);
      acc[2 * i + 1] = _mm256_fmadd_ps(e1, e1, acc[2 * i + 1]);
    }
  }
  for (int i = 0; i < 8; ++i) s[i] = hsum(acc[i]);
#endif
  for (; t < d; ++t) {
    const float x0 = b0[t], x1 = b1[t];
    for (int i = 0; i < 4; ++i) {
      const float e0 = q[i][t] - x0, e1 = q[i][t] - x1;
      s[2 * i] += e0 * e0;
      s[2 * i + 1] += e1 * e1;
    }
  }
  for (int i = 0; i < 8; ++i) out[i] = s[i];
}

}  // namespace medianomaly::detail
