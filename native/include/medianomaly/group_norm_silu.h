// GroupNorm followed by SiLU in one kernel (the diffusion U-Nets' GN → SiLU pairs, spec §7.1,
// §7.2): y = silu(γ·(x − μ)·invstd + β) per sample and group of C/G channels.
//
// Both directions compute bitwise what group_norm_forward / group_norm_backward and the
// unary silu (forward and backward) of this build compute when run one after the other, on
// any thread count; they save the memory pass and the [N, C, HW] buffer between the two
// ops, and the backward keeps nothing but x, mean and invstd (the normalised values are
// recomputed) and sums every plane once instead of twice.
#pragma once

#include "medianomaly/norm.h"

namespace medianomaly {

/** gamma / beta may be null (1 / 0); mean and invstd ([N, G]) are written for the backward. */
void group_norm_silu_forward(const GroupNormParams& p, const float* x, const float* gamma, const float* beta, float* y,
                             float* mean, float* invstd);

/**
 * dx (and dgamma, dbeta when not null) of y = silu(groupNorm(x)) for upstream dy, from the
 * forward's mean and invstd. dx must not alias x or dy (it holds the gradient at the
 * GroupNorm's output until the last pass).
 */
void group_norm_silu_backward(const GroupNormParams& p, const float* x, const float* dy, const float* mean,
                              const float* invstd, const float* gamma, const float* beta, float* dx, float* dgamma,
                              float* dbeta);

}  // namespace medianomaly
