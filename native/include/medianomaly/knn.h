// Exact k-nearest-neighbour search with squared L2 distances, through the packed GEMM.
#pragma once

#include <cstdint>

#include "status.h"

namespace medianomaly {

struct KnnParams {
  int64_t nq = 0, nb = 0, d = 0, k = 0;
};

/**
 * Per query: the k smallest squared distances, ascending, and their base indices.
 *
 * Distances use the expansion ‖q‖² + ‖b‖² − 2·qᵀb (float32, the −2·qᵀb term from the
 * GEMM), clamped at 0: it differs from Σ (q − b)² by rounding (cancellation when the
 * distance is small against the norms), as faiss's IndexFlatL2 does. `base_norms` holds
 * ‖b‖² per base row (computed here when null). Ties (equal float32 distances) keep the
 * lower base index; when k > nb the remaining slots hold +inf and index −1 (faiss
 * convention). NaN distances never enter the list.
 *
 * Work: query blocks (≤ 1024 queries) × bank blocks; with the built-in GEMM each thread
 * multiplies its own tile (288 bank rows × the query block) and folds it into its top-k
 * lists at once, with OpenBLAS the calling thread multiplies 2048-row blocks (OpenBLAS
 * threads the product) and the pool folds them. Memory: one tile per thread (or one block),
 * never nq × nb.
 *
 * Determinism: with the built-in GEMM each distance is computed by the same operations
 * whatever the thread count or blocking, and per-thread lists are merged by (distance,
 * index), so results are bitwise identical for every thread count. With OpenBLAS, results
 * are reproducible for a given thread count (OpenBLAS's own guarantee).
 */
Status knn_search(const KnnParams& p, const float* queries, const float* base, const float* base_norms,
                  float* distances, int32_t* indices);

/**
 * knn_search against a base stored as IEEE half (raw bits; a float16 memory bank): bank
 * blocks are converted exactly to float32 on the fly (into a per-thread buffer before the
 * GEMM, or inside the direct dot products), so the results equal knn_search on the float32
 * values of the halves within the float32 bound. `base_norms`: ‖b‖² of those float32 values.
 *
 * Both forms: fewer than 32 queries take a direct path (dot products per bank row, FMA)
 * instead of the GEMM; its distances agree with the GEMM path's within the float32 bound
 * and the ties rule is the same. MEDIANOMALY_KNN_DIRECT_BELOW=<n> moves the switch (0:
 * always the GEMM), for benchmarks.
 */
Status knn_search_half(const KnnParams& p, const float* queries, const uint16_t* base, const float* base_norms,
                       float* distances, int32_t* indices);

/** out[i] = ‖x_i‖² for n rows of d values (float32, a fixed summation order), threaded. */
void row_sq_norms(int64_t n, int64_t d, const float* x, float* out);

}  // namespace medianomaly
