// Internal: convolutions with few input channels (the 1-channel first encoder layer and
// last decoder layer of the MedIAnomaly networks), vectorised over output pixels.
//
// With Cg·kh·kw = 16 taps the general kernels spend as long moving their 6×16 tiles in
// and out as multiplying. Here eight neighbouring output pixels share one vector: input
// columns are first split by stride phase (conv_small.cc), so the window column j of
// pixels ow..ow+7 is one contiguous load, and the filters are broadcast scalars.
// Available in AVX2+FMA builds only; elsewhere the general kernels run.
#pragma once

#include "medianomaly/conv.h"

namespace medianomaly::detail {

/** Whether conv2d and its weight gradient take the small-channel path for p. */
bool small_channel_conv(const Conv2dParams& p);
/** Whether the input gradient (conv_transpose2d's forward) takes the small-channel path. */
bool small_channel_input_grad(const Conv2dParams& p);

/**
 * y = conv(x, w) + bias. Each output element is the same FMA chain over taps (c, i, j)
 * in order, then + bias, as in the general kernel: the results are bit-identical.
 */
Status conv2d_small_channels(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y);

/**
 * dw for the small-channel geometry. Each weight is a sum over all pixels in eight
 * interleaved partial sums (by ow mod 8) added at the end; the order depends only on p.
 */
Status conv2d_backward_weight_small_channels(const Conv2dParams& p, const float* x, const float* dy, float* dw);

/**
 * dx for few input channels: per input pixel the FMA chain over (k, a, b) of its phase
 * class, the order of the general polyphase kernel.
 */
Status conv2d_backward_input_small_channels(const Conv2dParams& p, const float* dy, const float* w, float* dx);

}  // namespace medianomaly::detail
