// Padding of the last two dims: constant, reflect (mirror without repeating the edge)
// and replicate, with the backward that folds border gradients back.
#pragma once

#include <cstdint>

namespace medianomaly {

enum class PadMode { kConstant, kReflect, kReplicate };

struct Pad2dParams {
  int64_t NC = 0, H = 0, W = 0;
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  PadMode mode = PadMode::kConstant;
  float value = 0.0f;
};

void pad2d(const Pad2dParams& p, const float* x, float* y);
void pad2d_backward(const Pad2dParams& p, const float* dy, float* dx);

}  // namespace medianomaly
