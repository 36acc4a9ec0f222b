// Approximate greedy coreset (PatchCore): the projection and the farthest-point loop.
// Arithmetic is plain float32 multiplies and adds in a documented order (no FMA: the
// build uses -ffp-contract=off and these intrinsics are mul + add), so the ts reference
// reproduces every distance bit for bit and both backends select the same points.
#include "medianomaly/coreset.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <type_traits>
#include <vector>

#include "medianomaly/half.h"
#include "medianomaly/threadpool.h"

#if defined(__AVX2__)
#include <immintrin.h>
#define MEDIANOMALY_CORESET_AVX2 1
#endif

namespace medianomaly {

namespace {

constexpr int64_t kGrain = 4096;          // points per chunk of the start pass
constexpr int64_t kPickChunk = 8192;      // points per chunk of a pick's pass
constexpr int64_t kMaxPickChunks = 64;

// Loads 8 stored values as float32 (exact for half).
#ifdef MEDIANOMALY_CORESET_AVX2
inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
#ifdef MEDIANOMALY_HAVE_F16C
inline __m256 load8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
#endif
#endif
inline float load1(const float* p) { return *p; }
inline float load1(const uint16_t* p) { return half_to_float1(*p); }

template <typename T>
constexpr bool vectorised() {
#if defined(MEDIANOMALY_CORESET_AVX2) && defined(MEDIANOMALY_HAVE_F16C)
  return true;
#elif defined(MEDIANOMALY_CORESET_AVX2)
  return std::is_same<T, float>::value;
#else
  return false;
#endif
}

// Σ (a − c)² for a stored point a (float or half) and a float32 centre c, in the order
// coreset_sq_dist documents (the half values are converted exactly, then the same ops).
template <typename T>
inline float sq_dist(const T* a, const float* b, int64_t d) {
  int64_t t = 0;
  float s;
  if constexpr (vectorised<T>()) {
#ifdef MEDIANOMALY_CORESET_AVX2
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    for (; t + 16 <= d; t += 16) {
      const __m256 e0 = _mm256_sub_ps(load8(a + t), _mm256_loadu_ps(b + t));
      const __m256 e1 = _mm256_sub_ps(load8(a + t + 8), _mm256_loadu_ps(b + t + 8));
      s0 = _mm256_add_ps(s0, _mm256_mul_ps(e0, e0));
      s1 = _mm256_add_ps(s1, _mm256_mul_ps(e1, e1));
    }
    if (t + 8 <= d) {
      const __m256 e0 = _mm256_sub_ps(load8(a + t), _mm256_loadu_ps(b + t));
      s0 = _mm256_add_ps(s0, _mm256_mul_ps(e0, e0));
      t += 8;
    }
    const __m256 v = _mm256_add_ps(s0, s1);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    s = _mm_cvtss_f32(h);
#endif
  } else {
    float l[16] = {};
    for (; t + 16 <= d; t += 16)
      for (int i = 0; i < 16; ++i) {
        const float e = load1(a + t + i) - b[t + i];
        l[i] = l[i] + e * e;
      }
    if (t + 8 <= d) {
      for (int i = 0; i < 8; ++i) {
        const float e = load1(a + t + i) - b[t + i];
        l[i] = l[i] + e * e;
      }
      t += 8;
    }
    float v[8], h[4];
    for (int i = 0; i < 8; ++i) v[i] = l[i] + l[i + 8];
    for (int i = 0; i < 4; ++i) h[i] = v[i] + v[i + 4];
    s = (h[0] + h[2]) + (h[1] + h[3]);
  }
  for (; t < d; ++t) {
    const float e = load1(a + t) - b[t];
    s = s + e * e;
  }
  return s;
}

inline void row_to_float(const float* a, int64_t d, float* out) { std::copy(a, a + d, out); }
inline void row_to_float(const uint16_t* a, int64_t d, float* out) { half_to_float_serial(d, a, out); }

template <typename T>
Status greedy(const CoresetParams& p, const T* points, const int32_t* start_idx, float* min_dist, int32_t* selected) {
  const int64_t n = p.n, d = p.d;
  if (n <= 0) return Status::kOk;
  for (int64_t s = 0; s < p.starts; ++s)
    if (start_idx[s] < 0 || start_idx[s] >= n) return Status::kIndexOutOfRange;
  if (p.newest >= n) return Status::kIndexOutOfRange;
  try {
    if (p.starts > 0) {
      // The start points as float32 (exact), then the same distances as the picks use.
      std::vector<float> sp(static_cast<size_t>(p.starts * d));
      for (int64_t s = 0; s < p.starts; ++s) row_to_float(points + int64_t{start_idx[s]} * d, d, sp.data() + s * d);
      const float count = static_cast<float>(p.starts);
      parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          float acc = 0.0f;
          for (int64_t s = 0; s < p.starts; ++s) acc = acc + std::sqrt(sq_dist(points + i * d, sp.data() + s * d, d));
          const float mean = acc / count;
          min_dist[i] = mean * mean;
        }
      });
    }
    if (p.m <= 0) return Status::kOk;
    // Chunks depend on n only; the pool hands them out dynamically, so a thread that the
    // OS deschedules (a busy machine) delays a pick by one chunk, not by half the pass.
    // Each chunk keeps its first largest distance; chunks are reduced in order, so the
    // pick is the global (largest distance, lowest index) whatever the thread count.
    const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(kMaxPickChunks, (n + kPickChunk - 1) / kPickChunk));
    std::vector<float> best_d(static_cast<size_t>(chunks));
    std::vector<int64_t> best_i(static_cast<size_t>(chunks));
    std::vector<float> centre(static_cast<size_t>(d));
    int64_t newest = p.newest;
    for (int64_t s = 0; s < p.m; ++s) {
      const float* c = nullptr;
      if (newest >= 0) {
        row_to_float(points + newest * d, d, centre.data());
        c = centre.data();
      }
      auto pass = [&](int64_t ch) {
        const int64_t b = n * ch / chunks, e = n * (ch + 1) / chunks;
        float bd = -std::numeric_limits<float>::infinity();
        int64_t bi = b;
        if (c) {
          for (int64_t i = b; i < e; ++i) {
            float v = min_dist[i];
            const float dd = sq_dist(points + i * d, c, d);
            if (dd < v) min_dist[i] = v = dd;
            if (v > bd) bd = v, bi = i;
          }
        } else {
          for (int64_t i = b; i < e; ++i)
            if (min_dist[i] > bd) bd = min_dist[i], bi = i;
        }
        best_d[ch] = bd;
        best_i[ch] = bi;
      };
      if (chunks == 1) pass(0);
      else parallel_run(chunks, pass);
      int64_t pick = best_i[0];
      float pd = best_d[0];
      for (int64_t ch = 1; ch < chunks; ++ch)
        if (best_d[ch] > pd) pd = best_d[ch], pick = best_i[ch];
      selected[s] = static_cast<int32_t>(pick);
      newest = pick;
    }
  } catch (const std::bad_alloc&) {
    return Status::kOutOfMemory;
  }
  return Status::kOk;
}

}  // namespace

float coreset_sq_dist(const float* a, const float* b, int64_t d) { return sq_dist(a, b, d); }

Status coreset_greedy(const CoresetParams& p, const float* points, const int32_t* start_idx, float* min_dist,
                      int32_t* selected) {
  return greedy(p, points, start_idx, min_dist, selected);
}

Status coreset_greedy_half(const CoresetParams& p, const uint16_t* points, const int32_t* start_idx, float* min_dist,
                           int32_t* selected) {
  return greedy(p, points, start_idx, min_dist, selected);
}

void coreset_project(const CoresetProjectParams& p, const float* x, const float* wt, float* y) {
  const int64_t n = p.n, d = p.d, e = p.e;
  if (n <= 0 || e <= 0) return;
  parallel_for((n + 3) / 4, 16, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) {
      const int64_t i0 = g * 4, rows = std::min<int64_t>(4, n - i0);
      int64_t j0 = 0;
#ifdef MEDIANOMALY_CORESET_AVX2
      if (rows == 4) {
        const float* x0 = x + i0 * d;
        for (; j0 + 16 <= e; j0 += 16) {
          __m256 a[8];
          for (auto& v : a) v = _mm256_setzero_ps();
          for (int64_t t = 0; t < d; ++t) {
            const __m256 w0 = _mm256_loadu_ps(wt + t * e + j0), w1 = _mm256_loadu_ps(wt + t * e + j0 + 8);
            for (int r = 0; r < 4; ++r) {
              const __m256 xv = _mm256_set1_ps(x0[r * d + t]);
              a[2 * r] = _mm256_add_ps(a[2 * r], _mm256_mul_ps(xv, w0));
              a[2 * r + 1] = _mm256_add_ps(a[2 * r + 1], _mm256_mul_ps(xv, w1));
            }
          }
          for (int r = 0; r < 4; ++r) {
            _mm256_storeu_ps(y + (i0 + r) * e + j0, a[2 * r]);
            _mm256_storeu_ps(y + (i0 + r) * e + j0 + 8, a[2 * r + 1]);
          }
        }
      }
#endif
      for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + (i0 + r) * d;
        for (int64_t j = j0; j < e; ++j) {
          float acc = 0.0f;
          for (int64_t t = 0; t < d; ++t) acc = acc + xr[t] * wt[t * e + j];
          y[(i0 + r) * e + j] = acc;
        }
      }
    }
  });
}

}  // namespace medianomaly
