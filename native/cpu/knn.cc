// Exact k-NN: squared L2 as ‖q‖² + ‖b‖² − 2·qᵀb with the −2·qᵀb block from the packed GEMM
// (the bank block is GEMM's A operand, the queries its transposed B, so each bank row is
// packed once per query block), then a fused pass folds the block into per-query sorted
// top-k lists. A candidate enters only when strictly closer than the current k-th, and
// bank rows are visited in ascending order, so equal distances keep the lower index.
#include "medianomaly/knn.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <type_traits>
#include <vector>

#include "medianomaly/gemm.h"
#include "medianomaly/half.h"
#include "medianomaly/threadpool.h"
#include "medianomaly/workspace.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define MEDIANOMALY_KNN_AVX2 1
#endif

namespace medianomaly {

namespace {

constexpr int64_t kBankBlock = 288;       // built-in path: bank rows per tile (2 × GEMM's MC)
constexpr int64_t kBlasBankBlock = 2048;  // OpenBLAS path: bank rows per block
constexpr int64_t kQueryBlockMax = 1024;  // queries per block (both paths)
// Fewer queries than this: direct dot products (4 bank rows × 3 queries per register
// block) instead of the GEMM, which with a handful of columns spends most of its time
// packing and on padded lanes. Measured (50,000 × 1024 bank, 2 threads, busy machine):
// 3.6× faster at 1 query, 1.7× at 15, still ahead at 24–48; 32 keeps the GEMM for batches.
constexpr int64_t kDirectMaxQueries = 32;
constexpr float kInf = std::numeric_limits<float>::infinity();

float sq_norm(const float* x, int64_t d) {
  int64_t t = 0;
  float s = 0.0f;
#ifdef MEDIANOMALY_KNN_AVX2
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  for (; t + 16 <= d; t += 16) {
    const __m256 v0 = _mm256_loadu_ps(x + t), v1 = _mm256_loadu_ps(x + t + 8);
    a0 = _mm256_fmadd_ps(v0, v0, a0);
    a1 = _mm256_fmadd_ps(v1, v1, a1);
  }
  const __m256 a = _mm256_add_ps(a0, a1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  s = _mm_cvtss_f32(h);
#endif
  for (; t < d; ++t) s += x[t] * x[t];
  return s;
}

// One query's sorted list (k slots): inserts (v, j) when v < the k-th; returns the new k-th.
inline float insert(float* dist, int32_t* idx, int64_t k, float v, int32_t j) {
  int64_t pos = k - 1;
  while (pos > 0 && dist[pos - 1] > v) {
    dist[pos] = dist[pos - 1];
    idx[pos] = idx[pos - 1];
    --pos;
  }
  dist[pos] = v;
  idx[pos] = j;
  return dist[k - 1];
}

// Folds a block of −2·qᵀb values into the lists of queries [c0, c1) of the block:
// g[r·ldg + c] is bank row j0 + r against query c; qn[c], bn[r] the squared norms;
// dist/idx/thr hold the block's lists (k slots per query) and each list's k-th distance.
void fold(const float* g, int64_t ldg, int64_t rows, int64_t j0, const float* bn, const float* qn, int64_t c0,
          int64_t c1, int64_t k, float* dist, int32_t* idx, float* thr) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* gr = g + r * ldg;
    const float b = bn[r];
    const int32_t j = static_cast<int32_t>(j0 + r);
    int64_t c = c0;
#ifdef MEDIANOMALY_KNN_AVX2
    const __m256 vb = _mm256_set1_ps(b), zero = _mm256_setzero_ps();
    if (k == 1) {
      const __m256i vj = _mm256_set1_epi32(j);
      for (; c + 8 <= c1; c += 8) {
        __m256 v = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(qn + c), _mm256_loadu_ps(gr + c)), vb);
        v = _mm256_max_ps(zero, v);  // clamp at 0; NaN stays NaN (max returns its 2nd operand)
        const __m256 best = _mm256_loadu_ps(dist + c);
        const __m256 lt = _mm256_cmp_ps(v, best, _CMP_LT_OQ);
        _mm256_storeu_ps(dist + c, _mm256_blendv_ps(best, v, lt));
        const __m256i bi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx + c));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + c),
                            _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bi), _mm256_castsi256_ps(vj), lt)));
      }
    } else {
      for (; c + 8 <= c1; c += 8) {
        __m256 v = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(qn + c), _mm256_loadu_ps(gr + c)), vb);
        v = _mm256_max_ps(zero, v);
        int mask = _mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_loadu_ps(thr + c), _CMP_LT_OQ));
        if (!mask) continue;
        alignas(32) float vs[8];
        _mm256_store_ps(vs, v);
        while (mask) {
          const int l = __builtin_ctz(mask);
          mask &= mask - 1;
          const int64_t q = c + l;
          thr[q] = insert(dist + q * k, idx + q * k, k, vs[l], j);
        }
      }
    }
#endif
    for (; c < c1; ++c) {
      float v = (qn[c] + gr[c]) + b;
      v = v < 0.0f ? 0.0f : v;  // same as max(0, v): NaN stays NaN, −0 stays −0
      if (v < thr[c]) thr[c] = insert(dist + c * k, idx + c * k, k, v, j);
    }
  }
  if (k == 1) std::memcpy(thr + c0, dist + c0, static_cast<size_t>(c1 - c0) * sizeof(float));
}

// ---- the direct path (few queries) and bank rows stored as half

#ifdef MEDIANOMALY_KNN_AVX2
inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
#ifdef MEDIANOMALY_HAVE_F16C
inline __m256 load8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
#endif
inline float hsum(__m256 v) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}
#endif
inline float load1(const float* p) { return *p; }
inline float load1(const uint16_t* p) { return half_to_float1(*p); }

template <typename T>
constexpr bool knn_vectorised() {
#if defined(MEDIANOMALY_KNN_AVX2) && defined(MEDIANOMALY_HAVE_F16C)
  return true;
#elif defined(MEDIANOMALY_KNN_AVX2)
  return std::is_same<T, float>::value;
#else
  return false;
#endif
}

// g[r·ldg + j] = −2 · Σ_t b_r[t]·q_j[t] for R bank rows × Q queries: one accumulator per
// pair (R·Q independent FMA chains), each bank and query vector loaded once per 8 values.
template <typename T, int R, int Q>
inline void dot_block(const T* b, int64_t d, const float* const* q, float* g, int64_t ldg) {
  int64_t t = 0;
  float s[R][Q];
  if constexpr (knn_vectorised<T>()) {
#ifdef MEDIANOMALY_KNN_AVX2
    __m256 acc[R][Q];
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < Q; ++j) acc[r][j] = _mm256_setzero_ps();
    for (; t + 8 <= d; t += 8) {
      __m256 qv[Q];
      for (int j = 0; j < Q; ++j) qv[j] = _mm256_loadu_ps(q[j] + t);
      for (int r = 0; r < R; ++r) {
        const __m256 bv = load8(b + r * d + t);
        for (int j = 0; j < Q; ++j) acc[r][j] = _mm256_fmadd_ps(bv, qv[j], acc[r][j]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < Q; ++j) s[r][j] = hsum(acc[r][j]);
#endif
  } else {
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < Q; ++j) s[r][j] = 0.0f;
  }
  for (; t < d; ++t)
    for (int r = 0; r < R; ++r) {
      const float bv = load1(b + r * d + t);
      for (int j = 0; j < Q; ++j) s[r][j] += bv * q[j][t];
    }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < Q; ++j) g[r * ldg + j] = -2.0f * s[r][j];
}

template <typename T, int R>
inline void dot_rows(const T* b, int64_t d, const float* queries, int64_t qc, float* g) {
  const float* q[3];
  int64_t c = 0;
  for (; c + 3 <= qc; c += 3) {
    for (int j = 0; j < 3; ++j) q[j] = queries + (c + j) * d;
    dot_block<T, R, 3>(b, d, q, g + c, qc);
  }
  if (qc - c == 2) {
    q[0] = queries + c * d, q[1] = queries + (c + 1) * d;
    dot_block<T, R, 2>(b, d, q, g + c, qc);
  } else if (qc - c == 1) {
    q[0] = queries + c * d;
    dot_block<T, R, 1>(b, d, q, g + c, qc);
  }
}

// g[r·qc + c] = −2·b_r·q_c for `rows` bank rows and qc (< kDirectMaxQueries) queries:
// blocks of 4 bank rows × 3 queries (the 4 rows stay in L1 across the query groups).
template <typename T>
void direct_tile(const T* base, int64_t rows, int64_t d, const float* queries, int64_t qc, float* g) {
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) dot_rows<T, 4>(base + r * d, d, queries, qc, g + r * qc);
  for (; r < rows; ++r) dot_rows<T, 1>(base + r * d, d, queries, qc, g + r * qc);
}

// kDirectMaxQueries, or MEDIANOMALY_KNN_DIRECT_BELOW (0 = always the GEMM; for benchmarks).
// Read per search (a getenv is negligible next to a search), so a bench can switch paths.
int64_t direct_max_queries() {
  const char* e = std::getenv("MEDIANOMALY_KNN_DIRECT_BELOW");
  if (!e || !*e) return kDirectMaxQueries;
  char* end = nullptr;
  const long x = std::strtol(e, &end, 10);
  return end && *end == '\0' && x >= 0 && x <= 1024 ? static_cast<int64_t>(x) : kDirectMaxQueries;
}

inline const float* as_float_rows(const float* base, int64_t, int64_t, float*) { return base; }
inline const float* as_float_rows(const uint16_t* base, int64_t rows, int64_t d, float* buf) {
  half_to_float_serial(rows * d, base, buf);
  return buf;
}

// ‖b‖² of bank rows stored as half (float32 values of the halves).
void half_row_sq_norms(int64_t n, int64_t d, const uint16_t* x, float* out) {
  parallel_for(n, 256, [&](int64_t b, int64_t e) {
    std::vector<float> row(static_cast<size_t>(d));
    for (int64_t i = b; i < e; ++i) {
      half_to_float_serial(d, x + i * d, row.data());
      out[i] = sq_norm(row.data(), d);
    }
  });
}

template <typename T>
Status search(const KnnParams& p, const float* queries, const T* base, const float* base_norms, float* distances,
              int32_t* indices);

}  // namespace

void row_sq_norms(int64_t n, int64_t d, const float* x, float* out) {
  parallel_for(n, 1024, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = sq_norm(x + i * d, d);
  });
}

namespace {

template <typename T>
Status search(const KnnParams& p, const float* queries, const T* base, const float* base_norms, float* distances,
              int32_t* indices) {
  constexpr bool kHalf = std::is_same<T, uint16_t>::value;
  const int64_t nq = p.nq, nb = p.nb, d = p.d, k = p.k;
  if (nq <= 0 || k <= 0) return Status::kOk;
  std::fill(distances, distances + nq * k, kInf);
  std::fill(indices, indices + nq * k, -1);
  if (nb <= 0) return Status::kOk;
  try {
    std::vector<float> qn(static_cast<size_t>(nq));
    row_sq_norms(nq, d, queries, qn.data());
    std::vector<float> bn_own;
    const float* bn = base_norms;
    if (!bn) {
      bn_own.resize(static_cast<size_t>(nb));
      if constexpr (kHalf) half_row_sq_norms(nb, d, base, bn_own.data());
      else row_sq_norms(nb, d, base, bn_own.data());
      bn = bn_own.data();
    }
    const int64_t nqb = (nq + kQueryBlockMax - 1) / kQueryBlockMax;
    const int64_t qbs = (nq + nqb - 1) / nqb;  // queries per block (the last may be shorter)
    const bool small = nq < direct_max_queries();
    const bool blas = !small && std::strcmp(active_blas(), "openblas") == 0;

    if (blas) {
      // The calling thread multiplies (OpenBLAS threads it); the pool folds column groups.
      std::vector<float> thr(static_cast<size_t>(nq), kInf);
      std::vector<float> block(static_cast<size_t>(std::min(kBlasBankBlock, nb) * qbs));
      std::vector<float> rows_f;  // a half bank's block as float32
      if (kHalf) rows_f.resize(static_cast<size_t>(std::min(kBlasBankBlock, nb) * d));
      for (int64_t q0 = 0; q0 < nq; q0 += qbs) {
        const int64_t qc = std::min(qbs, nq - q0);
        for (int64_t j0 = 0; j0 < nb; j0 += kBlasBankBlock) {
          const int64_t rows = std::min(kBlasBankBlock, nb - j0);
          GemmParams gp;
          gp.M = rows, gp.N = qc, gp.K = d, gp.transB = true, gp.alpha = -2.0f, gp.beta = 0.0f;
          const float* a = nullptr;
          if constexpr (kHalf) {
            half_to_float(rows * d, base + j0 * d, rows_f.data());
            a = rows_f.data();
          } else {
            a = base + j0 * d;
          }
          const Status s = sgemm_ld(gp, a, d, queries + q0 * d, d, block.data(), qc);
          if (s != Status::kOk) return s;
          parallel_for((qc + 7) / 8, 4, [&](int64_t g0, int64_t g1) {
            const int64_t c0 = g0 * 8, c1 = std::min(qc, g1 * 8);
            fold(block.data(), qc, rows, j0, bn + j0, qn.data() + q0, c0, c1, k, distances + q0 * k,
                 indices + q0 * k, thr.data() + q0);
          });
        }
      }
      return Status::kOk;
    }

    // Built-in GEMM: items = query blocks × bank segments, each thread multiplies its own
    // tiles; segments keep their own lists, merged below by (distance, index).
    const int64_t threads = get_threads();
    const int64_t nbb = (nb + kBankBlock - 1) / kBankBlock;
    const int64_t segs = std::max<int64_t>(1, std::min(nbb, (2 * threads + nqb - 1) / nqb));
    const bool direct = segs == 1;  // lists live in the outputs themselves
    std::vector<float> sd, sthr(static_cast<size_t>(segs * nq), kInf);
    std::vector<int32_t> si;
    if (!direct) {
      sd.assign(static_cast<size_t>(segs * nq * k), kInf);
      si.assign(static_cast<size_t>(segs * nq * k), -1);
    }
    std::atomic<int> oom{0};
    parallel_for(nqb * segs, 1, [&](int64_t i0, int64_t i1) {
      float* tile = scratch(Scratch::kMisc, scratch_size({kBankBlock, qbs}));
      float* conv = kHalf && !small ? scratch(Scratch::kConvAux, scratch_size({kBankBlock, d})) : nullptr;
      if (!tile || (kHalf && !small && !conv)) {
        oom.store(1);
        return;
      }
      for (int64_t it = i0; it < i1; ++it) {
        const int64_t qb = it / segs, sg = it % segs;
        const int64_t q0 = qb * qbs, qc = std::min(qbs, nq - q0);
        float* ld = direct ? distances + q0 * k : sd.data() + (sg * nq + q0) * k;
        int32_t* li = direct ? indices + q0 * k : si.data() + (sg * nq + q0) * k;
        float* lt = sthr.data() + sg * nq + q0;
        const int64_t b0 = nbb * sg / segs, b1 = nbb * (sg + 1) / segs;
        for (int64_t bb = b0; bb < b1; ++bb) {
          const int64_t j0 = bb * kBankBlock, rows = std::min(kBankBlock, nb - j0);
          GemmParams gp;
          gp.M = rows, gp.N = qc, gp.K = d, gp.transB = true, gp.alpha = -2.0f, gp.beta = 0.0f;
          if (small) direct_tile(base + j0 * d, rows, d, queries + q0 * d, qc, tile);
          else builtin_sgemm(gp, as_float_rows(base + j0 * d, rows, d, conv), d, queries + q0 * d, d, tile, qc);
          fold(tile, qc, rows, j0, bn + j0, qn.data() + q0, 0, qc, k, ld, li, lt);
        }
      }
    });
    if (oom.load()) return Status::kOutOfMemory;
    if (direct) return Status::kOk;
    parallel_for(nq, 64, [&](int64_t a, int64_t e) {
      std::vector<int64_t> pos(static_cast<size_t>(segs));
      for (int64_t q = a; q < e; ++q) {
        std::fill(pos.begin(), pos.end(), 0);
        for (int64_t t = 0; t < k; ++t) {
          int64_t best = -1;
          float bd = kInf;
          int32_t bi = -1;
          for (int64_t sg = 0; sg < segs; ++sg) {
            if (pos[sg] >= k) continue;
            const int64_t off = (sg * nq + q) * k + pos[sg];
            const int32_t i = si[off];
            if (i < 0) continue;
            const float v = sd[off];
            if (best < 0 || v < bd || (v == bd && i < bi)) {
              best = sg;
              bd = v;
              bi = i;
            }
          }
          if (best < 0) break;  // the rest stays +inf / −1
          distances[q * k + t] = bd;
          indices[q * k + t] = bi;
          ++pos[best];
        }
      }
    });
  } catch (const std::bad_alloc&) {
    return Status::kOutOfMemory;
  }
  return Status::kOk;
}

}  // namespace

Status knn_search(const KnnParams& p, const float* queries, const float* base, const float* base_norms,
                  float* distances, int32_t* indices) {
  return search(p, queries, base, base_norms, distances, indices);
}

Status knn_search_half(const KnnParams& p, const float* queries, const uint16_t* base, const float* base_norms,
                       float* distances, int32_t* indices) {
  return search(p, queries, base, base_norms, distances, indices);
}

}  // namespace medianomaly
