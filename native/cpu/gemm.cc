// SGEMM: a BLIS-style built-in engine and the OpenBLAS dispatch.
//
// Built-in engine: C is computed in NC-wide column blocks; for each KC-deep slice of
// the product a KC×NC block of op(B) is packed into NR-wide panels (shared by all
// threads, it lives in L3), each MC×KC block of op(A) into MR-tall panels (per thread,
// it lives in L2), and an MR×NR register-tiled micro-kernel walks the panels (one B
// panel stays in L1). transA/transB only change how the packing reads memory.
// Every C element is produced by the same sequence of FMAs whatever the thread count,
// so the result does not depend on how the work is split.
#include "medianomaly/gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "medianomaly/threadpool.h"
#include "medianomaly/workspace.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define MEDIANOMALY_GEMM_AVX2 1
#endif

#ifdef MEDIANOMALY_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace medianomaly {

namespace {

constexpr int64_t MR = 6;
constexpr int64_t NR = 16;
constexpr int64_t MC = 144;   // 144·256·4 B = 144 KiB of packed A per thread (L2)
constexpr int64_t KC = 256;   // 256·16·4 B = 16 KiB B micro-panel (L1)
constexpr int64_t NC = 4080;  // 4080·256·4 B ≈ 4 MiB packed B (L3)

// ---------------------------------------------------------------- packing

// A(i, k) = a[i·rs + k·cs]; panels of MR rows, k-major inside a panel, zero padded.
void pack_a(int64_t mc, int64_t kc, const float* a, int64_t rs, int64_t cs, float* out) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    const int64_t mr = std::min(MR, mc - i0);
    float* dst = out + i0 * kc;
    if (mr == MR && cs == 1) {
      const float* r[MR];
      for (int64_t i = 0; i < MR; ++i) r[i] = a + (i0 + i) * rs;
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t i = 0; i < MR; ++i) dst[k * MR + i] = r[i][k];
    } else if (mr == MR && rs == 1) {
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = a + i0 + k * cs;
        for (int64_t i = 0; i < MR; ++i) dst[k * MR + i] = src[i];
      }
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        for (int64_t i = 0; i < mr; ++i) dst[k * MR + i] = a[(i0 + i) * rs + k * cs];
        for (int64_t i = mr; i < MR; ++i) dst[k * MR + i] = 0.0f;
      }
    }
  }
}

#ifdef MEDIANOMALY_GEMM_AVX2
// dst[k·ldd + j] = src[j·lds + k] for an 8×8 block: the register transpose that packs a
// transposed B (Linear's x·Wᵀ) with contiguous loads and stores instead of 16-float-strided
// scalar writes. Packing only moves values, so the product's bits do not change.
inline void transpose_8x8(const float* src, int64_t lds, float* dst, int64_t ldd) {
  __m256 r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * lds);
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) {
    _mm256_storeu_ps(dst + i * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(dst + (i + 4) * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}
#endif

// B(k, j) = b[k·rs + j·cs]; one NR-wide panel (columns j0..j0+nr), k-major, zero padded.
void pack_b_panel(int64_t kc, int64_t nr, const float* b, int64_t rs, int64_t cs, float* dst) {
  if (nr == NR && cs == 1) {
    for (int64_t k = 0; k < kc; ++k) std::memcpy(dst + k * NR, b + k * rs, NR * sizeof(float));
  } else if (nr == NR && rs == 1) {
    // op(B) = Bᵀ: each of the NR columns is a contiguous run of length kc.
    int64_t k0 = 0;
#ifdef MEDIANOMALY_GEMM_AVX2
    for (; k0 + 8 <= kc; k0 += 8)
      for (int64_t j0 = 0; j0 < NR; j0 += 8) transpose_8x8(b + j0 * cs + k0, cs, dst + k0 * NR + j0, NR);
#endif
    for (int64_t j = 0; j < NR; ++j) {
      const float* src = b + j * cs;
      for (int64_t k = k0; k < kc; ++k) dst[k * NR + j] = src[k];
    }
  } else {
    for (int64_t k = 0; k < kc; ++k) {
      for (int64_t j = 0; j < nr; ++j) dst[k * NR + j] = b[k * rs + j * cs];
      for (int64_t j = nr; j < NR; ++j) dst[k * NR + j] = 0.0f;
    }
  }
}

// ---------------------------------------------------------------- micro-kernels

// Writes alpha·acc (+ beta·C) for an m×n corner of an MR×NR tile held row-major in `acc`.
inline void store_tile(const float* acc, int64_t m, int64_t n, float alpha, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    const float* t = acc + i * NR;
    if (beta == 0.0f) {
      for (int64_t j = 0; j < n; ++j) row[j] = alpha * t[j];
    } else {
      for (int64_t j = 0; j < n; ++j) row[j] = alpha * t[j] + beta * row[j];
    }
  }
}

#ifdef MEDIANOMALY_GEMM_AVX2

// 6×16 tile: 12 ymm accumulators, two B vectors and one broadcast A value per k.
void micro_kernel(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, int64_t ldc,
                  float alpha, float beta, int64_t m, int64_t n) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  if (m == MR && n == NR) {
    for (int64_t i = 0; i < MR; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    _mm_prefetch(reinterpret_cast<const char*>(b + 8 * NR), _MM_HINT_T0);
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
    __m256 av = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(av, b0, c00);
    c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(av, b0, c10);
    c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(av, b0, c20);
    c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(av, b0, c30);
    c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(av, b0, c40);
    c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(av, b0, c50);
    c51 = _mm256_fmadd_ps(av, b1, c51);
    a += MR;
    b += NR;
  }
  if (m == MR && n == NR) {
    const __m256 va = _mm256_set1_ps(alpha);
    __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    if (beta == 0.0f) {
      for (int64_t i = 0; i < MR; ++i) {
        _mm256_storeu_ps(c + i * ldc, _mm256_mul_ps(va, acc[2 * i]));
        _mm256_storeu_ps(c + i * ldc + 8, _mm256_mul_ps(va, acc[2 * i + 1]));
      }
    } else if (beta == 1.0f) {
      for (int64_t i = 0; i < MR; ++i) {
        float* row = c + i * ldc;
        _mm256_storeu_ps(row, _mm256_fmadd_ps(va, acc[2 * i], _mm256_loadu_ps(row)));
        _mm256_storeu_ps(row + 8, _mm256_fmadd_ps(va, acc[2 * i + 1], _mm256_loadu_ps(row + 8)));
      }
    } else {
      const __m256 vb = _mm256_set1_ps(beta);
      for (int64_t i = 0; i < MR; ++i) {
        float* row = c + i * ldc;
        _mm256_storeu_ps(row, _mm256_fmadd_ps(va, acc[2 * i], _mm256_mul_ps(vb, _mm256_loadu_ps(row))));
        _mm256_storeu_ps(row + 8,
                         _mm256_fmadd_ps(va, acc[2 * i + 1], _mm256_mul_ps(vb, _mm256_loadu_ps(row + 8))));
      }
    }
    return;
  }
  alignas(32) float tile[MR * NR];
  const __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  for (int64_t i = 0; i < 12; ++i) _mm256_store_ps(tile + 8 * i, acc[i]);
  store_tile(tile, m, n, alpha, beta, c, ldc);
}

#else

// Portable fallback: the same MR×NR tile in plain C++ (the compiler vectorises the j loop).
void micro_kernel(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, int64_t ldc,
                  float alpha, float beta, int64_t m, int64_t n) {
  float tile[MR * NR] = {};
  for (int64_t k = 0; k < kc; ++k) {
    for (int64_t i = 0; i < MR; ++i) {
      const float av = a[k * MR + i];
      for (int64_t j = 0; j < NR; ++j) tile[i * NR + j] += av * b[k * NR + j];
    }
  }
  store_tile(tile, m, n, alpha, beta, c, ldc);
}

#endif

// C = beta·C for an M×N block (beta = 0 writes zeros, ignoring NaN in C).
void scale_c(int64_t M, int64_t N, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    float* row = c + i * ldc;
    if (beta == 0.0f) {
      std::fill(row, row + N, 0.0f);
    } else if (beta != 1.0f) {
      for (int64_t j = 0; j < N; ++j) row[j] *= beta;
    }
  }
}

// ---------------------------------------------------------------- engine selection

BlasMode mode_from_env() {
  const char* s = std::getenv("MEDIANOMALY_BLAS");
  if (s && std::strcmp(s, "builtin") == 0) return BlasMode::kBuiltin;
  if (s && std::strcmp(s, "openblas") == 0) return BlasMode::kOpenBlas;
  return BlasMode::kAuto;
}

std::atomic<int>& mode_slot() {
  static std::atomic<int> mode{static_cast<int>(mode_from_env())};
  return mode;
}

bool use_openblas() {
#ifdef MEDIANOMALY_HAVE_OPENBLAS
  return static_cast<BlasMode>(mode_slot().load(std::memory_order_relaxed)) != BlasMode::kBuiltin;
#else
  return false;
#endif
}

}  // namespace

// ---------------------------------------------------------------- built-in driver

void builtin_sgemm(const GemmParams& p, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                   int64_t ldc) {
  const int64_t M = p.M, N = p.N, K = p.K;
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || p.alpha == 0.0f) {
    scale_c(M, N, p.beta, c, ldc);
    return;
  }
  const int64_t rsa = p.transA ? 1 : lda, csa = p.transA ? lda : 1;
  const int64_t rsb = p.transB ? 1 : ldb, csb = p.transB ? ldb : 1;
  const int64_t threads = in_parallel_region() ? 1 : get_threads();

  // Small M: shrink MC so that the row blocks still spread over the threads.
  int64_t mc = MC;
  if (threads > 1) {
    const int64_t per = (M + threads - 1) / threads;
    mc = std::min(MC, std::max(MR, (per + MR - 1) / MR * MR));
  }
  const int64_t nc_max = std::min(NC, (N + NR - 1) / NR * NR);
  const int64_t kc_max = std::min(KC, K);
  float* bpack = scratch(Scratch::kGemmB, scratch_size({kc_max, nc_max}));
  if (!bpack) throw std::bad_alloc();

  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc);
    const int64_t npanels = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const float beta = pc == 0 ? p.beta : 1.0f;
      parallel_for(npanels, 8, [&](int64_t q0, int64_t q1) {
        for (int64_t q = q0; q < q1; ++q) {
          const int64_t j0 = q * NR;
          pack_b_panel(kc, std::min(NR, nc - j0), b + pc * rsb + (jc + j0) * csb, rsb, csb, bpack + q * NR * kc);
        }
      });
      // Work items: MC row blocks × column ranges (more ranges when there are few row blocks).
      const int64_t nblocks = (M + mc - 1) / mc;
      int64_t nsplit = 1;
      if (nblocks < threads) nsplit = std::min(npanels, (threads + nblocks - 1) / nblocks);
      const int64_t items = nblocks * nsplit;
      parallel_for(items, 1, [&](int64_t it0, int64_t it1) {
        float* apack = scratch(Scratch::kGemmA, scratch_size({mc, kc}));
        if (!apack) throw std::bad_alloc();
        int64_t packed_block = -1;
        for (int64_t it = it0; it < it1; ++it) {
          const int64_t blk = it / nsplit, part = it % nsplit;
          const int64_t ic = blk * mc;
          const int64_t mcur = std::min(mc, M - ic);
          if (blk != packed_block) {
            pack_a(mcur, kc, a + ic * rsa + pc * csa, rsa, csa, apack);
            packed_block = blk;
          }
          const int64_t q0 = npanels * part / nsplit, q1 = npanels * (part + 1) / nsplit;
          for (int64_t q = q0; q < q1; ++q) {
            const int64_t j0 = q * NR;
            const int64_t nr = std::min(NR, nc - j0);
            const float* bp = bpack + q * NR * kc;
            for (int64_t i0 = 0; i0 < mcur; i0 += MR) {
              micro_kernel(kc, apack + i0 * kc, bp, c + (ic + i0) * ldc + jc + j0, ldc, p.alpha, beta,
                           std::min(MR, mcur - i0), nr);
            }
          }
        }
      });
    }
  }
}

// ---------------------------------------------------------------- public entry points

void blas_set_threads(int n) {
#ifdef MEDIANOMALY_HAVE_OPENBLAS
  openblas_set_num_threads(n);
#else
  (void)n;
#endif
}

bool have_openblas() {
#ifdef MEDIANOMALY_HAVE_OPENBLAS
  return true;
#else
  return false;
#endif
}

Status set_blas_mode(BlasMode mode) {
  if (mode == BlasMode::kOpenBlas && !have_openblas()) return Status::kUnsupported;
  mode_slot().store(static_cast<int>(mode), std::memory_order_relaxed);
  return Status::kOk;
}

BlasMode get_blas_mode() { return static_cast<BlasMode>(mode_slot().load(std::memory_order_relaxed)); }

const char* active_blas() { return use_openblas() ? "openblas" : "builtin"; }

const char* openblas_config() {
#ifdef MEDIANOMALY_HAVE_OPENBLAS
  return openblas_get_config();
#else
  return "";
#endif
}

const char* gemm_simd() {
#ifdef MEDIANOMALY_GEMM_AVX2
  return "avx2+fma";
#else
  return "scalar";
#endif
}

Status sgemm_ld(const GemmParams& p, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                int64_t ldc) {
  if (p.M <= 0 || p.N <= 0) return Status::kOk;
#ifdef MEDIANOMALY_HAVE_OPENBLAS
  // OpenBLAS threads itself; from inside one of our parallel regions it would fight the
  // pool, so nested calls (batched small products) stay on the built-in engine.
  if (use_openblas() && p.K > 0 && p.alpha != 0.0f && !in_parallel_region()) {
    cblas_sgemm(CblasRowMajor, p.transA ? CblasTrans : CblasNoTrans, p.transB ? CblasTrans : CblasNoTrans,
                static_cast<blasint>(p.M), static_cast<blasint>(p.N), static_cast<blasint>(p.K), p.alpha, a,
                static_cast<blasint>(lda), b, static_cast<blasint>(ldb), p.beta, c, static_cast<blasint>(ldc));
    return Status::kOk;
  }
#endif
  try {
    builtin_sgemm(p, a, lda, b, ldb, c, ldc);
  } catch (const std::bad_alloc&) {
    return Status::kOutOfMemory;
  }
  return Status::kOk;
}

Status sgemm(const GemmParams& p, const float* a, const float* b, float* c) {
  const int64_t lda = p.transA ? p.M : p.K;
  const int64_t ldb = p.transB ? p.K : p.N;
  return sgemm_ld(p, a, std::max<int64_t>(lda, 1), b, std::max<int64_t>(ldb, 1), c, std::max<int64_t>(p.N, 1));
}

Status sgemm_batched(const GemmParams& p, int64_t batch, const float* a, const float* b, float* c) {
  const int64_t sa = p.M * p.K, sb = p.K * p.N, sc = p.M * p.N;
  // Small products: one product per chunk, each single-threaded; large ones: one at a
  // time, each using all threads. Either way each product is computed identically.
  const double flops = 2.0 * static_cast<double>(p.M) * static_cast<double>(p.N) * static_cast<double>(p.K);
  if (flops < 4.0e6 && batch > 1 && !use_openblas()) {
    std::atomic<int> failed{0};
    parallel_for(batch, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t i = b0; i < b1; ++i)
        if (sgemm(p, a + i * sa, b + i * sb, c + i * sc) != Status::kOk) failed.store(1);
    });
    return failed.load() ? Status::kOutOfMemory : Status::kOk;
  }
  for (int64_t i = 0; i < batch; ++i) {
    const Status s = sgemm(p, a + i * sa, b + i * sb, c + i * sc);
    if (s != Status::kOk) return s;
  }
  return Status::kOk;
}

}  // namespace medianomaly
