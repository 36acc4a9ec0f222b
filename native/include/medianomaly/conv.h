// 2-D convolution (cross-correlation, PyTorch semantics) and its two gradients.
// Forward and weight gradient are direct convolutions on a zero-padded input through
// a tap-offset table (no im2col matrix), with all images' pixels as one long loop so
// the small channel counts of the MedIAnomaly networks still fill the register tiles;
// the input gradient (= conv_transpose2d's forward) splits the input into stride phase
// classes, each a plain product that writes every element once (dilated kernels use
// GEMM + col2im). Layers with fewer than 8 input channels (1-channel images) vectorise
// over output pixels instead of filters. Forward fast paths for torchvision backbones:
// 1×1 convs without padding (≥ 8 channels) are the built-in GEMM per image (or over the
// gathered pixels of all images), and 3×3 stride-1 convs with ≥ 64 input channels and
// filters use Winograd F(2×2, 3×3) (native/cpu/conv_winograd.h; MEDIANOMALY_CONV_WINOGRAD=0
// turns it off); 3×3 stride-2 convs with ≥ 512 input channels are im2col + the built-in GEMM
// (MEDIANOMALY_CONV_IM2COL=0 turns it off). Every path gives the same bits on every thread
// count and for a batch as for its images one by one, whatever the GEMM mode; Winograd's results differ from the
// direct sums by its transforms' roundings (compare within a float32 bound), and inputs
// or weights with any non-finite value take the direct kernel.
//
// Zero padding is defined as materialised zeros, as in PyTorch: in the forward and the
// weight gradient a tap that lands in the padding multiplies its zero, so a non-finite
// weight (forward) or output gradient (weight gradient) there gives NaN. The input
// gradient (= conv_transpose2d) sums only real output positions, like PyTorch's col2im:
// a non-finite weight never meets a padded zero there (such weights take the col2im
// path, since the phase-class paths read a zero-padded dy).
//
// Limits the binding enforces before any call (native/binding/args.h): kh, kw, sh, sw,
// ph, pw, dh, dw ≤ 2^20; every element count ≤ 2^53; OH, OW at most the windows that fit
// in the padded input (the transposed conv passes fewer with output padding); the
// padded input N·C·(H+2·ph)·(W+2·pw) ≤ 2^31 − 1. Scratch buffers are sized with checked
// products (workspace.h): a request that overflows or exceeds the cap is kOutOfMemory.
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

namespace medianomaly {

// Inference path for 4×4, stride-2, padding-1 convs and transposed convs (groups 1,
// dilation 1: the unified AE's blocks), with a per-channel scale, shift and ReLU applied
// as outputs are stored (eval BatchNorm + ReLU folded in): Winograd F(4×4, 2×2) on the
// stride phases (native/cpu/conv_eval.cc), 25 products per 4×4 output block instead of 64.
// Geometry p is conv2d's (transposed: the conv whose input gradient this is, as in
// conv2d_backward_input). Results differ from conv2d / conv2d_backward_input by the
// transforms' roundings (compare within a float32 bound); every thread count gives the same
// bits, and inputs or weights with a non-finite value take the exact kernels.

/** Whether p is a geometry conv2d_eval runs (4×4, stride 2, padding 1, dilation 1, groups 1). */
bool conv2d_eval_supported(const Conv2dParams& p);
/** Floats of the packed filters u for p: 100 · ⌈Cin/16⌉·16 · ⌈Cout/16⌉·16. */
int64_t conv2d_eval_pack_size(const Conv2dParams& p, bool transposed);
/** u = the transformed filters of w (conv2d's or conv_transpose2d's weight layout). */
Status conv2d_eval_pack(const Conv2dParams& p, bool transposed, const float* w, float* u);
/**
 * y = relu?(conv(x, w) · scale + shift) per output channel (scale/shift may be null: 1/0),
 * u = conv2d_eval_pack(p, transposed, w). Overwrites y.
 */
Status conv2d_eval(const Conv2dParams& p, bool transposed, const float* x, const float* w, const float* u,
                   const float* scale, const float* shift, bool relu, float* y);

}  // namespace medianomaly
