// AVX2 + FMA transcendental functions for the elementwise kernels (8 floats at a time).
//
// exp follows Cephes' expf: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two parts so
// n·ln2 is exact), e^r from a degree-6 minimax polynomial, then scaled by 2^n. The scale
// is applied as 2^(n/2)·2^(n−n/2), so results that overflow become +Inf and results in
// the subnormal range round once, like a correctly rounded expf: no special-case blends
// are needed besides NaN, which the clamp keeps (its constants come first, and MINPS /
// MAXPS return the second operand when either is NaN). Max error about 1 ulp.
//
// Only compiled for x86-64-v3 builds; without AVX2 the kernels keep their scalar libm
// loops (MEDIANOMALY_VEC_MATH is then undefined).
#pragma once

#if defined(__AVX2__) && defined(__FMA__)
#define MEDIANOMALY_VEC_MATH 1

#include <immintrin.h>

namespace medianomaly::vec {

inline __m256 set1(float v) { return _mm256_set1_ps(v); }

/** e^x; overflow → +Inf, underflow → subnormal / 0, NaN → NaN, ±Inf → +Inf / 0. */
inline __m256 exp(__m256 x) {
  // Beyond these bounds the result is already +Inf (e^89 > FLT_MAX) or 0 (e^-104 < 2^-150).
  x = _mm256_min_ps(set1(89.0f), _mm256_max_ps(set1(-104.0f), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, set1(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // r = x − n·ln2, ln2 = 0.693359375 − 2.12194440e-4 (the first part has 9 significant
  // bits, so n·0.693359375 is exact for |n| ≤ 150).
  __m256 r = _mm256_fnmadd_ps(n, set1(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, set1(-2.12194440e-4f), r);
  __m256 p = set1(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, set1(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, set1(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, set1(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, set1(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, set1(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
  p = _mm256_add_ps(p, set1(1.0f));
  // 2^n in two normal factors: n ∈ [−150, 128] would leave the exponent range in one.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1);
  const __m256i n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

/**
 * 1 / (1 + e^−x), evaluated from e = e^−|x| so nothing overflows: 1/(1 + e) for x ≥ 0,
 * e/(1 + e) below. It saturates to exactly 1 and, through the subnormals, to 0 as the
 * float64 reference does; NaN stays NaN.
 */
inline __m256 sigmoid(__m256 x) {
  const __m256 sign = set1(-0.0f);
  const __m256 e = exp(_mm256_or_ps(x, sign));  // e^−|x|
  const __m256 pos = _mm256_div_ps(set1(1.0f), _mm256_add_ps(set1(1.0f), e));
  return _mm256_blendv_ps(pos, _mm256_mul_ps(e, pos), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
}

/** x · sigmoid(x); silu(−Inf) = −Inf · 0 is NaN, as in the reference's x / (1 + e^−x). */
inline __m256 silu(__m256 x) { return _mm256_mul_ps(x, sigmoid(x)); }

/**
 * Cephes tanhf: an odd polynomial for |x| < 0.625, where 1 − 2/(e^2|x| + 1) would cancel,
 * else that expression (→ 1 for large |x|, e^2|x| overflowing to Inf included); the
 * sign is copied back from x, so tanh(−0) = −0 and NaN stays NaN.
 */
inline __m256 tanh(__m256 x) {
  const __m256 sign = set1(-0.0f);
  const __m256 a = _mm256_andnot_ps(sign, x);
  const __m256 z = _mm256_mul_ps(a, a);
  __m256 p = set1(-5.70498872745e-3f);
  p = _mm256_fmadd_ps(p, z, set1(2.06390887954e-2f));
  p = _mm256_fmadd_ps(p, z, set1(-5.37397155531e-2f));
  p = _mm256_fmadd_ps(p, z, set1(1.33314422036e-1f));
  p = _mm256_fmadd_ps(p, z, set1(-3.33332819422e-1f));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), a, a);
  const __m256 e = exp(_mm256_add_ps(a, a));
  const __m256 large = _mm256_sub_ps(set1(1.0f), _mm256_div_ps(set1(2.0f), _mm256_add_ps(e, set1(1.0f))));
  // NaN compares false, so it takes the polynomial, which keeps it NaN.
  const __m256 t = _mm256_blendv_ps(small, large, _mm256_cmp_ps(a, set1(0.625f), _CMP_GE_OQ));
  return _mm256_or_ps(t, _mm256_and_ps(x, sign));
}

/** Natural log for finite x ≥ FLT_MIN (Cephes logf); callers handle other inputs. */
inline __m256 log_normal(__m256 x) {
  const __m256i bits = _mm256_castps_si256(x);
  // x = m · 2^k with m ∈ [0.5, 1).
  __m256 k = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(126)));
  __m256 m = _mm256_castsi256_ps(
      _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f000000)));
  // Shift m into [√½, √2) so the polynomial argument f = m − 1 is small either way.
  const __m256 lt = _mm256_cmp_ps(m, set1(0.707106781186547524f), _CMP_LT_OQ);
  k = _mm256_sub_ps(k, _mm256_and_ps(lt, set1(1.0f)));
  const __m256 f = _mm256_sub_ps(_mm256_add_ps(m, _mm256_and_ps(lt, m)), set1(1.0f));
  const __m256 z = _mm256_mul_ps(f, f);
  __m256 p = set1(7.0376836292e-2f);
  p = _mm256_fmadd_ps(p, f, set1(-1.1514610310e-1f));
  p = _mm256_fmadd_ps(p, f, set1(1.1676998740e-1f));
  p = _mm256_fmadd_ps(p, f, set1(-1.2420140846e-1f));
  p = _mm256_fmadd_ps(p, f, set1(1.4249322787e-1f));
  p = _mm256_fmadd_ps(p, f, set1(-1.6668057665e-1f));
  p = _mm256_fmadd_ps(p, f, set1(2.0000714765e-1f));
  p = _mm256_fmadd_ps(p, f, set1(-2.4999993993e-1f));
  p = _mm256_fmadd_ps(p, f, set1(3.3333331174e-1f));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, f), z);
  y = _mm256_fmadd_ps(k, set1(-2.12194440e-4f), y);
  y = _mm256_fnmadd_ps(z, set1(0.5f), y);
  return _mm256_fmadd_ps(k, set1(0.693359375f), _mm256_add_ps(f, y));
}

/**
 * torch softplus (beta 1, threshold 20): x above 20, else log1p(e^x). log1p(u) is
 * log(w)·u/(w − 1) with w = 1 + u (exact where w = 1: then it is u), which keeps full
 * relative accuracy for tiny u. NaN stays NaN (u is NaN); −Inf gives 0.
 */
inline __m256 softplus(__m256 x) {
  const __m256 u = exp(_mm256_min_ps(set1(20.0f), x));  // w ≤ 1 + e^20: log's domain
  const __m256 w = _mm256_add_ps(set1(1.0f), u);
  const __m256 wm1 = _mm256_sub_ps(w, set1(1.0f));
  const __m256 one = _mm256_cmp_ps(wm1, _mm256_setzero_ps(), _CMP_EQ_OQ);
  // Where w == 1 the quotient is 0/0; the blend below discards it.
  const __m256 l = _mm256_div_ps(_mm256_mul_ps(log_normal(w), u), wm1);
  const __m256 lp = _mm256_blendv_ps(l, u, one);
  return _mm256_blendv_ps(lp, x, _mm256_cmp_ps(x, set1(20.0f), _CMP_GT_OQ));
}

}  // namespace medianomaly::vec

#endif
