// The 6×16 direct-convolution tiles (see conv_kernel.h): AVX2+FMA with 12 ymm
// accumulators, or portable C++ when not compiled for AVX2.
#include "conv_kernel.h"

#include <algorithm>
#include <cstring>

#include "medianomaly/threadpool.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace medianomaly::detail {

#if defined(__AVX2__) && defined(__FMA__)

#define MEDIANOMALY_TILE_DECLARE                                \
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(); \
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps(); \
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(); \
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps(); \
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(); \
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps()

#define MEDIANOMALY_TILE_ROW(i, ptr)      \
  {                                       \
    const __m256 av = _mm256_broadcast_ss(ptr); \
    c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);  \
    c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1);  \
  }

void conv_tile_f(int64_t kc, const float* const base[kTileRows], const int64_t* off, const float* b, float* c) {
  MEDIANOMALY_TILE_DECLARE;
  const float* p0 = base[0];
  const float* p1 = base[1];
  const float* p2 = base[2];
  const float* p3 = base[3];
  const float* p4 = base[4];
  const float* p5 = base[5];
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const int64_t o = off[k];
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    MEDIANOMALY_TILE_ROW(0, p0 + o)
    MEDIANOMALY_TILE_ROW(1, p1 + o)
    MEDIANOMALY_TILE_ROW(2, p2 + o)
    MEDIANOMALY_TILE_ROW(3, p3 + o)
    MEDIANOMALY_TILE_ROW(4, p4 + o)
    MEDIANOMALY_TILE_ROW(5, p5 + o)
    b += kTileCols;
  }
  const __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  for (int i = 0; i < 12; ++i) _mm256_storeu_ps(c + 8 * i, acc[i]);
}

void conv_tile_w(int64_t kc, const float* const* q, const int64_t o[kTileRows], const float* b, int64_t ldb, float* c,
                 int64_t ldc, bool accumulate) {
  MEDIANOMALY_TILE_DECLARE;
  const int64_t o0 = o[0], o1 = o[1], o2 = o[2], o3 = o[3], o4 = o[4], o5 = o[5];
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const float* p = q[k];
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    MEDIANOMALY_TILE_ROW(0, p + o0)
    MEDIANOMALY_TILE_ROW(1, p + o1)
    MEDIANOMALY_TILE_ROW(2, p + o2)
    MEDIANOMALY_TILE_ROW(3, p + o3)
    MEDIANOMALY_TILE_ROW(4, p + o4)
    MEDIANOMALY_TILE_ROW(5, p + o5)
    b += ldb;
  }
  const __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  for (int i = 0; i < kTileRows; ++i) {
    float* row = c + i * ldc;
    if (accumulate) {
      _mm256_storeu_ps(row, _mm256_add_ps(_mm256_loadu_ps(row), acc[2 * i]));
      _mm256_storeu_ps(row + 8, _mm256_add_ps(_mm256_loadu_ps(row + 8), acc[2 * i + 1]));
    } else {
      _mm256_storeu_ps(row, acc[2 * i]);
      _mm256_storeu_ps(row + 8, acc[2 * i + 1]);
    }
  }
}

#undef MEDIANOMALY_TILE_ROW
#undef MEDIANOMALY_TILE_DECLARE

#else

void conv_tile_f(int64_t kc, const float* const base[kTileRows], const int64_t* off, const float* b, float* c) {
  float acc[kTileRows * kTileCols] = {};
  for (int64_t k = 0; k < kc; ++k)
    for (int64_t i = 0; i < kTileRows; ++i) {
      const float a = base[i][off[k]];
      for (int64_t j = 0; j < kTileCols; ++j) acc[i * kTileCols + j] += a * b[k * kTileCols + j];
    }
  std::memcpy(c, acc, sizeof(acc));
}

void conv_tile_w(int64_t kc, const float* const* q, const int64_t o[kTileRows], const float* b, int64_t ldb, float* c,
                 int64_t ldc, bool accumulate) {
  float acc[kTileRows * kTileCols] = {};
  for (int64_t k = 0; k < kc; ++k)
    for (int64_t i = 0; i < kTileRows; ++i) {
      const float a = q[k][o[i]];
      for (int64_t j = 0; j < kTileCols; ++j) acc[i * kTileCols + j] += a * b[k * ldb + j];
    }
  for (int64_t i = 0; i < kTileRows; ++i)
    for (int64_t j = 0; j < kTileCols; ++j) {
      if (accumulate) c[i * ldc + j] += acc[i * kTileCols + j];
      else c[i * ldc + j] = acc[i * kTileCols + j];
    }
}

#endif

void pad_planes(const float* src, int64_t planes, int64_t H, int64_t W, int64_t top, int64_t left, int64_t Hp,
                int64_t Wp, float* dst) {
  const int64_t right = Wp - W - left;
  // Plain loops, not memcpy/memset: the rows are short (4 to 64 floats) and a libc call
  // per row costs more than the copy.
  parallel_for(planes, std::max<int64_t>(1, 16384 / (Hp * Wp)), [&](int64_t p0, int64_t p1) {
    for (int64_t pl = p0; pl < p1; ++pl) {
      const float* __restrict s = src + pl * H * W;
      float* __restrict d = dst + pl * Hp * Wp;
      for (int64_t i = 0; i < top * Wp; ++i) d[i] = 0.0f;
      for (int64_t h = 0; h < H; ++h) {
        float* __restrict row = d + (top + h) * Wp;
        const float* __restrict in = s + h * W;
        for (int64_t j = 0; j < left; ++j) row[j] = 0.0f;
        for (int64_t j = 0; j < W; ++j) row[left + j] = in[j];
        for (int64_t j = 0; j < right; ++j) row[left + W + j] = 0.0f;
      }
      for (int64_t i = (top + H) * Wp; i < Hp * Wp; ++i) d[i] = 0.0f;
    }
  });
}

}  // namespace medianomaly::detail
