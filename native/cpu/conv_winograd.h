// Internal: 3×3 stride-1 convolutions by Winograd's minimal filtering F(2×2, 3×3)
// (Lavin & Gray 2016): each 2×2 block of outputs ("tile") of each filter costs 16
// products over the input channels instead of 36, so the multiply work is 4/9 of the
// direct kernel's. Per tile t, channel c and filter k, with d the 4×4 input patch of the
// tile and g the 3×3 filter:
//   V = Bᵀ d B,  U = G g Gᵀ,  M[e] = Σ_c U[k,c][e] · V[c,t][e] (e = 16 transform points),
//   y (2×2) = Aᵀ M A + bias
// The 16 channel sums are the direct kernel's 6×16 register tiles (conv_tile_f) over
// transformed operands.
//
// Rounding: results differ from the direct convolution by the transforms' roundings as
// well as the reordered sums (the transformed values are sums of up to 4 inputs or 9
// weight halves); compare them within a float32 bound that counts those (test/native/
// conv-winograd.test.ts). Determinism: each output element is one fixed sequence of
// operations that depends only on the shapes (not on the batch partition, the tile
// chunking or the thread count), so results are bitwise identical across thread counts
// and between a batch and its images one by one.
//
// Non-finite values: an Inf/NaN in x or w would spread through a transform to outputs
// whose windows do not contain it (Inf − Inf), so inputs or weights with any non-finite
// value take the direct kernel, which keeps PyTorch's propagation exactly.
// Finite values near FLT_MAX may overflow in the transforms (sums of 4 inputs).
#pragma once

#include "medianomaly/conv.h"

namespace medianomaly::detail {

/**
 * Whether conv2d takes the Winograd path for p: 3×3, stride 1, dilation 1, groups 1,
 * padding ≤ 1, at least 64 input channels and 64 filters (below that the transforms cost
 * more than they save), and not switched off (MEDIANOMALY_CONV_WINOGRAD=0, read once).
 */
bool winograd_conv(const Conv2dParams& p);

/** y = conv(x, w) + bias through F(2×2, 3×3); falls back to the direct kernel on non-finite input. */
Status conv2d_winograd(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y);

/**
 * Whether conv2d takes the im2col + built-in GEMM path (conv.cc) for p: 3×3, dilation 1,
 * groups 1, stride 2, ≥ 64 filters and 9·C ≥ 4096 taps (C ≥ 512); MEDIANOMALY_CONV_IM2COL=0
 * turns it off.
 */
bool im2col_conv(const Conv2dParams& p);

/** y = conv(x, w) + bias as W · im2col(x) with the built-in GEMM (conv.cc). */
Status conv2d_im2col(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y);

/** The direct kernel (conv.cc), for the fallback. */
Status conv2d_direct(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y);

}  // namespace medianomaly::detail
