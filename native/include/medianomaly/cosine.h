// Cosine distance 1 − cos(a, b) over the middle axis of dense [outer, mid, inner] views,
// with PyTorch's eps rule (each norm clamped at eps), forward and backward. The reverse
// distillation family's loss (inner = 1: one vector per sample) and map (mid = channels,
// inner = pixels). Mirrored operation for operation by src/backend/ts/cosine.ts.
#pragma once

#include <cstdint>

namespace medianomaly {

struct CosineParams {
  int64_t outer = 0, mid = 0, inner = 0;
  double eps = 1e-8;
};

/** Elements of mid summed by one task when inner = 1 (fixed: results do not depend on threads). */
constexpr int64_t kCosineChunk = 32768;

/**
 * d[o·inner + i] = 1 − cos; stats[3·(o·inner + i) + {0, 1, 2}] = cos, max(‖a‖, eps),
 * max(‖b‖, eps), the values the backward reads. Dot product and squared norms accumulate in
 * double: 8 interleaved lanes per chunk of kCosineChunk when inner = 1, one lane per i otherwise.
 */
void cosine_distance(const CosineParams& p, const float* a, const float* b, float* d, float* stats);

/**
 * Gradients of Σ dd·(1 − cos): da = −dd·b/(n_a·n_b) + dd·cos·a/n_a² (db likewise, a and b
 * swapped), overwriting da / db; either may be null (not wanted).
 */
void cosine_distance_backward(const CosineParams& p, const float* a, const float* b, const float* stats, const float* dd,
                              float* da, float* db);

}  // namespace medianomaly
