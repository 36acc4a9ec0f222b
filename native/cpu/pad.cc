// pad2d and its backward. Source indices per output row/column are computed once per
// call (reflect: mirror without repeating the edge; replicate: clamp) and clamped into
// the plane so that even an out-of-contract pad width cannot read outside it.
#include "medianomaly/pad.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "medianomaly/threadpool.h"

namespace medianomaly {

namespace {

// Source index for output position o (−1: constant padding).
int64_t source_index(int64_t o, int64_t before, int64_t size, PadMode mode) {
  int64_t i = o - before;
  if (i >= 0 && i < size) return i;
  if (mode == PadMode::kConstant || size <= 0) return -1;
  if (mode == PadMode::kReplicate) return i < 0 ? 0 : size - 1;
  if (size == 1) return 0;
  // Reflect with period 2·(size−1).
  const int64_t period = 2 * (size - 1);
  i %= period;
  if (i < 0) i += period;
  return i < size ? i : period - i;
}

std::vector<int64_t> source_table(int64_t out, int64_t before, int64_t size, PadMode mode) {
  std::vector<int64_t> t(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) t[o] = source_index(o, before, size, mode);
  return t;
}

}  // namespace

void pad2d(const Pad2dParams& p, const float* x, float* y) {
  const int64_t OH = p.H + p.top + p.bottom, OW = p.W + p.left + p.right;
  const auto rows = source_table(OH, p.top, p.H, p.mode);
  const auto cols = source_table(OW, p.left, p.W, p.mode);
  parallel_for(p.NC, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* xp = x + c * p.H * p.W;
      float* yp = y + c * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh) {
        float* yr = yp + oh * OW;
        const int64_t ih = rows[oh];
        if (ih < 0) {
          std::fill(yr, yr + OW, p.value);
          continue;
        }
        const float* xr = xp + ih * p.W;
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t iw = cols[ow];
          yr[ow] = iw < 0 ? p.value : xr[iw];
        }
      }
    }
  });
}

void pad2d_backward(const Pad2dParams& p, const float* dy, float* dx) {
  const int64_t OH = p.H + p.top + p.bottom, OW = p.W + p.left + p.right;
  const auto rows = source_table(OH, p.top, p.H, p.mode);
  const auto cols = source_table(OW, p.left, p.W, p.mode);
  parallel_for(p.NC, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      float* xp = dx + c * p.H * p.W;
      const float* yp = dy + c * OH * OW;
      std::memset(xp, 0, sizeof(float) * p.H * p.W);
      for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t ih = rows[oh];
        if (ih < 0) continue;
        float* xr = xp + ih * p.W;
        const float* yr = yp + oh * OW;
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t iw = cols[ow];
          if (iw >= 0) xr[iw] += yr[ow];
        }
      }
    }
  });
}

}  // namespace medianomaly
