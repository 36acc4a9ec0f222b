// Internal: the stride phase classes of a convolution's input gradient (see
// conv_input_grad.cc). Input positions are split by residue modulo the stride; inside
// one class every position is reached by the same kernel taps, from consecutive output
// positions, so the gradient of a class is a plain correlation with a sub-kernel.
#pragma once

#include <algorithm>
#include <cstdint>

#include "medianomaly/conv.h"

namespace medianomaly::detail {

/**
 * One axis of one phase class: input positions first + s·u (u < count) are reached by
 * taps r + s·a (a < taps) from output position base + u − a.
 */
struct PhaseAxis {
  int64_t first = 0, count = 0, taps = 0, base = 0;
  PhaseAxis(int64_t r, int64_t size, int64_t k, int64_t s, int64_t pad) {
    first = ((r - pad) % s + s) % s;
    count = first < size ? (size - 1 - first) / s + 1 : 0;
    taps = r < k ? (k - 1 - r) / s + 1 : 0;
    base = (first + pad - r) / s;  // exact: first + pad − r is a non-negative multiple of s
  }
};

/**
 * Zero padding of dy so that every tap of every phase class reads inside the buffer;
 * `slack` extra zero columns on the right let vector loops read whole vectors past the
 * last position of a class.
 */
struct PaddedGrad {
  int64_t top = 0, bottom = 0, left = 0, right = 0, OHp = 0, OWp = 0;
  explicit PaddedGrad(const Conv2dParams& p, int64_t slack = 0) {
    for (int64_t r = 0; r < p.sh; ++r) {
      const PhaseAxis a(r, p.H, p.kh, p.sh, p.ph);
      if (a.count == 0 || a.taps == 0) continue;
      top = std::max(top, (a.taps - 1) - a.base);
      bottom = std::max(bottom, a.base + a.count - 1 - (p.OH - 1));
    }
    for (int64_t r = 0; r < p.sw; ++r) {
      const PhaseAxis a(r, p.W, p.kw, p.sw, p.pw);
      if (a.count == 0 || a.taps == 0) continue;
      left = std::max(left, (a.taps - 1) - a.base);
      right = std::max(right, a.base + a.count - 1 - (p.OW - 1));
    }
    right += slack;
    OHp = p.OH + top + bottom;
    OWp = p.OW + left + right;
  }
};

}  // namespace medianomaly::detail
