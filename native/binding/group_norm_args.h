// The GroupNormParams argument of the group-normalisation kernels (groupNormForward /
// Backward in bind_norm.cc, the fused groupNormSilu pair in bind_group_norm_silu.cc).
#pragma once

#include <string>

#include "args.h"
#include "medianomaly/norm.h"

namespace medianomaly::binding {

inline GroupNormParams read_group_norm(const Args& a) {
  GroupNormParams p;
  p.N = a.size("N");
  p.C = a.size("C");
  p.HW = a.size("HW");
  p.G = a.positive("G");
  p.eps = a.number("eps");
  if (!(p.eps >= 0)) a.range_error("p.eps must be ≥ 0, got " + std::to_string(p.eps));
  if (p.C % p.G != 0) a.range_error("p.C (" + std::to_string(p.C) + ") must be divisible by p.G (" + std::to_string(p.G) + ")");
  checked_product(a.env(), a.kernel(), {p.N, p.C, p.HW});
  checked_product(a.env(), a.kernel(), {p.N, p.G});
  return p;
}

}  // namespace medianomaly::binding
