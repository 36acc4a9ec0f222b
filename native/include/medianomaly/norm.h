// Batch and group normalisation: statistics, application and gradients.
// Statistics are two-pass (mean, then centred squares) with double accumulation across
// planes, never E[x²] − E[x]².
//
// Empty inputs are valid: HW = 0 or N = 0 gives mean 0, variance 0 and zero sums (the
// binding normalises N = HW = 0 then, so no loop runs over empty planes). The backward
// follows PyTorch's factoring: training dx = (dy − mean(dy) − (x − mean)·invstd²·
// mean(dy·(x − mean)))·invstd·γ, eval dx = γ·invstd·dy exactly (an infinite x cannot
// turn a zero term into NaN); dgamma = Σ dy·(x − mean) · invstd.
#pragma once

#include <cstdint>

namespace medianomaly {

struct ChannelParams {
  int64_t N = 0, C = 0, HW = 0;  // x viewed as [N, C, HW]
};

struct GroupNormParams {
  int64_t N = 0, C = 0, HW = 0, G = 1;
  double eps = 1e-5;
};

void batch_norm_stats(const ChannelParams& p, const float* x, float* mean, float* variance);
/** gamma/beta may be null (1 / 0). */
void batch_norm_apply(const ChannelParams& p, const float* x, const float* mean, const float* invstd,
                      const float* gamma, const float* beta, float* y);
/**
 * batch_norm_apply then ReLU in one pass, the same arithmetic per element, so the values are
 * bitwise those of batch_norm_apply followed by the unary relu (NaN passes through). y may
 * alias x exactly (in place).
 */
void batch_norm_apply_relu(const ChannelParams& p, const float* x, const float* mean, const float* invstd,
                           const float* gamma, const float* beta, float* y);
/** gamma, dgamma, dbeta may be null. */
void batch_norm_backward(const ChannelParams& p, bool training, const float* x, const float* dy, const float* mean,
                         const float* invstd, const float* gamma, float* dx, float* dgamma, float* dbeta);

void group_norm_forward(const GroupNormParams& p, const float* x, const float* gamma, const float* beta, float* y,
                        float* mean, float* invstd);
void group_norm_backward(const GroupNormParams& p, const float* x, const float* dy, const float* mean,
                         const float* invstd, const float* gamma, float* dx, float* dgamma, float* dbeta);

}  // namespace medianomaly
