// IEEE 754 binary16 ("half") storage for float32 values: conversions and the inline
// helpers other kernels use to read half-precision memory (float16 memory banks, the
// coreset's float16 projected points). Arithmetic always happens in float32.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__F16C__) && defined(__AVX2__)
#include <immintrin.h>
#define MEDIANOMALY_HAVE_F16C 1
#endif

namespace medianomaly {

/** half bits → float32, exact (every half is a float32). Scalar, for tails and generic builds. */
inline float half_to_float1(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);  // Inf, NaN (payload kept)
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;  // ±0
  } else {  // subnormal: man · 2^-24, normalised
    int e = -1;
    do {
      man <<= 1;
      ++e;
    } while (!(man & 0x400u));
    bits = sign | (static_cast<uint32_t>(112 - e) << 23) | ((man & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/**
 * float32 → half bits, rounded to nearest, ties to even (as F16C's vcvtps2ph with
 * _MM_FROUND_TO_NEAREST_INT): |x| ≥ 65520 becomes ±Inf, values below the half range
 * become subnormals or ±0, NaN stays NaN (quiet, payload's top bits kept).
 */
inline uint16_t float_to_half1(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  const uint16_t sign = static_cast<uint16_t>((b >> 16) & 0x8000u);
  const uint32_t a = b & 0x7fffffffu;
  if (a >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u | ((a >> 13) & 0x3ffu) : 0u));
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // ≥ 65520: rounds to Inf
  if (a >= 0x38800000u) {  // normal half: drop 13 bits, round to nearest even
    const uint32_t r = a + 0xfffu + ((a >> 13) & 1u);
    return static_cast<uint16_t>(sign | ((r - 0x38000000u) >> 13));
  }
  if (a < 0x33000000u) return sign;  // below half the smallest subnormal (2^-25): ±0
  // Subnormal: value = m · 2^(e − 150) with the implicit bit; result = round(value / 2^-24).
  const uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126 - e;  // 14 … 24 + 1
  const uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), halfway = 1u << (shift - 1);
  const uint32_t r = q + ((rem > halfway || (rem == halfway && (q & 1u))) ? 1u : 0u);
  return static_cast<uint16_t>(sign | r);
}

/** y[i] = half(x[i]) for n values, round to nearest even (threaded). */
void float_to_half(int64_t n, const float* x, uint16_t* y);
/** y[i] = float(x[i]) for n values, exact (threaded). */
void half_to_float(int64_t n, const uint16_t* x, float* y);
/** Unthreaded forms, for use inside another kernel's parallel region. */
void float_to_half_serial(int64_t n, const float* x, uint16_t* y);
void half_to_float_serial(int64_t n, const uint16_t* x, float* y);

}  // namespace medianomaly
