// 2-D convolution (cross-correlation, PyTorch semantics) and its two gradients.
// Forward and weight gradient are direct convolutions on a zero-padded input through
// a tap-offset table (no im2col matrix), with all images' pixels as one long loop so
// the small channel counts of the MedIAnomaly networks still fill the register tiles;
// the input gradient (= conv_transpose2d's forward) splits the input into stride phase
// classes, each a plain product that writes every element once (dilated kernels use
// GEMM + col2im). Layers with fewer than 8 input channels (1-channel images) vectorise
// over output pixels instead of filters.
#pragma once

#include <cstdint>

#include "status.h"

namespace medianomaly {

struct Conv2dParams {
  int64_t N = 0, C = 0, H = 0, W = 0;  // x: [N, C, H, W]
  int64_t K = 0, OH = 0, OW = 0;       // y: [N, K, OH, OW]
  int64_t kh = 1, kw = 1;              // w: [K, C/groups, kh, kw]
  int64_t sh = 1, sw = 1;
  int64_t ph = 0, pw = 0;
  int64_t dh = 1, dw = 1;
  int64_t groups = 1;
};

/** y = conv(x, w) + bias (bias may be null). */
Status conv2d(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y);
/** dx = ∂y/∂x applied to dy (overwrites dx). */
Status conv2d_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx);
/** dw = ∂y/∂w applied to dy (overwrites dw). */
Status conv2d_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw);

}  // namespace medianomaly
