// Exact k-nearest-neighbour search with squared L2 distances.
#pragma once

#include <cstdint>

namespace medianomaly {

struct KnnParams {
  int64_t nq = 0, nb = 0, d = 0, k = 0;
};

/**
 * Per query: k smallest distances ascending (ties: lower index first) and their indices.
 * When k > nb the remaining slots hold +inf and index −1 (faiss convention).
 */
void knn_search(const KnnParams& p, const float* queries, const float* base, float* distances, int32_t* indices);

}  // namespace medianomaly
