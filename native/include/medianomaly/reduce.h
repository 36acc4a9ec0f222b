// Reductions and softmax over the middle axis of a dense [outer, mid, inner] view.
#pragma once

#include <cstdint>

namespace medianomaly {

struct ReduceParams {
  int64_t outer = 0, mid = 0, inner = 0;
};

void reduce_sum(const ReduceParams& p, const float* x, float* y);
/** argmax = first index of the maximum; a NaN wins (like torch.max). */
void reduce_max(const ReduceParams& p, const float* x, float* y, int32_t* argmax);
void softmax(const ReduceParams& p, const float* x, float* y);
void softmax_backward(const ReduceParams& p, const float* y, const float* dy, float* dx);
void log_softmax(const ReduceParams& p, const float* x, float* y);
void log_softmax_backward(const ReduceParams& p, const float* y, const float* dy, float* dx);

}  // namespace medianomaly
