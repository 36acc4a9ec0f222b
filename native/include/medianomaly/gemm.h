// Single-precision GEMM: C = alpha · op(A) · op(B) + beta · C, row-major.
// Two engines: the built-in packed, register-tiled micro-kernel (always compiled) and
// OpenBLAS's cblas_sgemm (when found at build time). beta = 0 overwrites C.
//
// Determinism (what tests may compare bitwise):
// - Both engines: the same M, N, K, flags and inputs give the same bits on every call.
// - Built-in engine: each element of C is accumulated in one fixed order, k ascending in
//   KC-deep slices, whatever M, N, the thread count or how rows are split over threads. So
//   results are also identical across thread counts, and a product over a batch of rows
//   equals the products over its rows one by one.
// - OpenBLAS: no promise beyond the first point. It picks kernels and blockings by shape
//   and CPU (OPENBLAS_CORETYPE), so a batched product and single-row products, or one
//   thread count and another, may differ in the last bits. Compare those within the float32
//   reordering bound (test/float32-tolerance.ts).
#pragma once

#include <cstdint>

#include "status.h"

namespace medianomaly {

struct GemmParams {
  int64_t M = 0, N = 0, K = 0;
  bool transA = false;  // A stored K×M
  bool transB = false;  // B stored N×K
  float alpha = 1.0f;
  float beta = 0.0f;
};

enum class BlasMode { kAuto, kOpenBlas, kBuiltin };

/** True when this build links OpenBLAS. */
bool have_openblas();
/** Selects the engine (initialised from MEDIANOMALY_BLAS). kOpenBlas without OpenBLAS is kUnsupported. */
Status set_blas_mode(BlasMode mode);
BlasMode get_blas_mode();
/** The engine large products actually use: "openblas" or "builtin". */
const char* active_blas();
/** OpenBLAS's own description of its kernel set, or "" without OpenBLAS. */
const char* openblas_config();

/** Dense row-major operands: lda/ldb/ldc implied by M, N, K and the trans flags. */
Status sgemm(const GemmParams& p, const float* a, const float* b, float* c);

/**
 * The general form with leading dimensions; used by conv. Must be called outside a
 * parallel region to use the pool (inside one it runs single-threaded).
 */
Status sgemm_ld(const GemmParams& p, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                int64_t ldc);

/** `batch` independent products over consecutive blocks of A, B and C. */
Status sgemm_batched(const GemmParams& p, int64_t batch, const float* a, const float* b, float* c);

/** The built-in engine alone (for benchmarks and conformance tests of both paths). */
void builtin_sgemm(const GemmParams& p, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                   int64_t ldc);

/** SIMD flavour the micro-kernel was compiled for, e.g. "avx2+fma" or "scalar". */
const char* gemm_simd();

}  // namespace medianomaly
