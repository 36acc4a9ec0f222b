// Strided copy over up to 6 dims: dst[dOff + Σ i·dStride] (=|+=) src[sOff + Σ i·sStride].
// Strides may be negative or 0. The binding computes both extents in checked 64-bit
// arithmetic (|index| ≤ 2^53, no wrap-around) and checks them against the arrays before
// the copy runs; strided_extent itself assumes that has been done.
#pragma once

#include <cstdint>

namespace medianomaly {

constexpr int kMaxCopyDims = 6;

struct StridedCopyParams {
  int ndim = 0;
  int64_t shape[kMaxCopyDims] = {};
  int64_t srcStrides[kMaxCopyDims] = {};
  int64_t dstStrides[kMaxCopyDims] = {};
  int64_t srcOffset = 0;
  int64_t dstOffset = 0;
  bool accumulate = false;
};

/** Lowest and highest element index the copy touches on each side (empty shape: lo > hi). */
void strided_extent(int ndim, const int64_t* shape, const int64_t* strides, int64_t offset, int64_t* lo, int64_t* hi);

void strided_copy(const StridedCopyParams& p, const float* src, float* dst);

/** y[0..n) = value. */
void fill(int64_t n, float value, float* y);
/** y += alpha · x over n elements. */
void axpy(int64_t n, float alpha, const float* x, float* y);

}  // namespace medianomaly
