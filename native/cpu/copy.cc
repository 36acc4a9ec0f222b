// Strided copy (permute, slice, concat, expand and their backwards). Dims are visited
// with an odometer; the innermost dim gets a contiguous fast path. Work is split over
// the outer index only when no two source positions write the same destination
// element (an accumulating expand-backward with stride 0 stays on one thread, which
// keeps its summation order fixed). Also fill and axpy, the copy family's two
// elementwise helpers.
#include "medianomaly/copy.h"

#include <algorithm>
#include <cstring>
#include <cstdlib>
#include <utility>

#include "medianomaly/threadpool.h"

namespace medianomaly {

void strided_extent(int ndim, const int64_t* shape, const int64_t* strides, int64_t offset, int64_t* lo, int64_t* hi) {
  int64_t l = offset, h = offset;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 0) {
      *lo = 1;
      *hi = 0;
      return;
    }
    const int64_t span = (shape[d] - 1) * strides[d];
    if (span < 0) l += span;
    else h += span;
  }
  *lo = l;
  *hi = h;
}

namespace {

// Every destination element written at most once (sufficient test: sorted by |stride|,
// each stride exceeds the furthest reach of the smaller ones).
bool dst_injective(const StridedCopyParams& p) {
  int order[kMaxCopyDims];
  int n = 0;
  for (int d = 0; d < p.ndim; ++d)
    if (p.shape[d] > 1) order[n++] = d;
  for (int i = 1; i < n; ++i)  // insertion sort by |stride| (n ≤ 6)
    for (int j = i; j > 0 && std::llabs(p.dstStrides[order[j]]) < std::llabs(p.dstStrides[order[j - 1]]); --j)
      std::swap(order[j], order[j - 1]);
  int64_t reach = 0;
  for (int i = 0; i < n; ++i) {
    const int64_t s = std::llabs(p.dstStrides[order[i]]);
    if (s <= reach) return false;
    reach += s * (p.shape[order[i]] - 1);
  }
  return true;
}

template <bool Acc>
void copy_rows(const StridedCopyParams& p, const float* src, float* dst, int64_t r0, int64_t r1) {
  const int nd = p.ndim;
  const int64_t inner = p.shape[nd - 1];
  const int64_t ss = p.srcStrides[nd - 1], ds = p.dstStrides[nd - 1];
  int64_t idx[kMaxCopyDims] = {};
  int64_t rem = r0;
  for (int d = nd - 2; d >= 0; --d) {
    idx[d] = rem % p.shape[d];
    rem /= p.shape[d];
  }
  int64_t so = p.srcOffset, dof = p.dstOffset;
  for (int d = 0; d < nd - 1; ++d) {
    so += idx[d] * p.srcStrides[d];
    dof += idx[d] * p.dstStrides[d];
  }
  for (int64_t r = r0; r < r1; ++r) {
    const float* s = src + so;
    float* t = dst + dof;
    if (ss == 1 && ds == 1) {
      if (Acc) {
        for (int64_t i = 0; i < inner; ++i) t[i] += s[i];
      } else {
        std::memmove(t, s, sizeof(float) * inner);
      }
    } else if (ss == 0 && ds == 1) {
      // expand of a per-row value (a broadcast bias or per-channel statistic): a fill.
      const float v = s[0];
      if (Acc) {
        for (int64_t i = 0; i < inner; ++i) t[i] += v;
      } else {
        std::fill(t, t + inner, v);
      }
    } else if (Acc) {
      for (int64_t i = 0; i < inner; ++i) t[i * ds] += s[i * ss];
    } else {
      for (int64_t i = 0; i < inner; ++i) t[i * ds] = s[i * ss];
    }
    for (int d = nd - 2; d >= 0; --d) {
      so += p.srcStrides[d];
      dof += p.dstStrides[d];
      if (++idx[d] < p.shape[d]) break;
      so -= idx[d] * p.srcStrides[d];
      dof -= idx[d] * p.dstStrides[d];
      idx[d] = 0;
    }
  }
}

}  // namespace

void strided_copy(const StridedCopyParams& p, const float* src, float* dst) {
  if (p.ndim == 0) {
    if (p.accumulate) dst[p.dstOffset] += src[p.srcOffset];
    else dst[p.dstOffset] = src[p.srcOffset];
    return;
  }
  int64_t total = 1;
  for (int d = 0; d < p.ndim; ++d) total *= p.shape[d];
  if (total == 0) return;
  const int64_t inner = p.shape[p.ndim - 1];
  const int64_t rows = total / inner;
  auto run = [&](int64_t r0, int64_t r1) {
    if (p.accumulate) copy_rows<true>(p, src, dst, r0, r1);
    else copy_rows<false>(p, src, dst, r0, r1);
  };
  if (dst_injective(p)) {
    parallel_for(rows, std::max<int64_t>(1, 16384 / inner), run);
  } else {
    run(0, rows);
  }
}

// Elementwise, so any split over the pool gives the same bits.
constexpr int64_t kFillGrain = 65536;
constexpr int64_t kAxpyGrain = 16384;

void fill(int64_t n, float value, float* y) {
  parallel_for(n, kFillGrain, [&](int64_t b, int64_t e) { std::fill(y + b, y + e, value); });
}

void axpy(int64_t n, float alpha, const float* x, float* y) {
  parallel_for(n, kAxpyGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] += alpha * x[i];
  });
}

}  // namespace medianomaly
