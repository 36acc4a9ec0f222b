// Bilinear and nearest upsampling with PyTorch's source-index rules, and their backwards.
#pragma once

#include <cstdint>

namespace medianomaly {

struct Upsample2dParams {
  int64_t N = 0, C = 0, H = 0, W = 0, OH = 0, OW = 0;
  bool alignCorners = false;
  double scaleH = 1.0, scaleW = 1.0;  // source-per-destination ratios (align_corners false)
};

void upsample_bilinear2d(const Upsample2dParams& p, const float* x, float* y);
void upsample_bilinear2d_backward(const Upsample2dParams& p, const float* dy, float* dx);
void upsample_nearest2d(const Upsample2dParams& p, const float* x, float* y);
void upsample_nearest2d_backward(const Upsample2dParams& p, const float* dy, float* dx);

}  // namespace medianomaly
