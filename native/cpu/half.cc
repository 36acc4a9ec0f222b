// float32 ↔ IEEE half conversions (F16C when the build has it, bit-exact scalar otherwise).
#include "medianomaly/half.h"

#include "medianomaly/threadpool.h"

namespace medianomaly {

void float_to_half_serial(int64_t n, const float* x, uint16_t* y) {
  int64_t i = 0;
#ifdef MEDIANOMALY_HAVE_F16C
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
#endif
  for (; i < n; ++i) y[i] = float_to_half1(x[i]);
}

void half_to_float_serial(int64_t n, const uint16_t* x, float* y) {
  int64_t i = 0;
#ifdef MEDIANOMALY_HAVE_F16C
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
#endif
  for (; i < n; ++i) y[i] = half_to_float1(x[i]);
}

void float_to_half(int64_t n, const float* x, uint16_t* y) {
  parallel_for(n, 1 << 16, [&](int64_t b, int64_t e) { float_to_half_serial(e - b, x + b, y + b); });
}

void half_to_float(int64_t n, const uint16_t* x, float* y) {
  parallel_for(n, 1 << 16, [&](int64_t b, int64_t e) { half_to_float_serial(e - b, x + b, y + b); });
}

}  // namespace medianomaly
