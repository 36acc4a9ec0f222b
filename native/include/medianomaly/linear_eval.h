// Inference path for linear layers (y = x·Wᵀ + b, PyTorch's weight layout) with an eval
// BatchNorm1d folded into a per-feature scale and shift and an optional ReLU, applied as the
// outputs are stored: the unified AE's MLP layers under noGrad. The weight is packed once
// (linear_eval_pack, cached by the engine per weight) into 16-feature panels, so a call
// only streams it instead of repacking it as a general GEMM must.
//
// Every output is one chain of fused multiply-adds over the inputs in ascending order
// (blocked in depth, resumed from the stored partial sum), so the bits depend only on the
// shapes: the same on every thread count and for a batch as for its rows one by one. They
// differ from the gemm kernel's by its summation order (compare within a float32 bound).
#pragma once

#include <cstdint>

#include "status.h"

namespace medianomaly {

struct LinearEvalParams {
  int64_t N = 0;    // rows of x
  int64_t in = 0;   // x: [N, in], w: [out, in]
  int64_t out = 0;  // y: [N, out]
  bool relu = false;
};

/** Floats of the packed weight: ⌈out/16⌉·16 · in. */
int64_t linear_eval_pack_size(const LinearEvalParams& p);
/** u[(q·in + k)·16 + l] = w[16q + l, k] (0 past out). */
Status linear_eval_pack(const LinearEvalParams& p, const float* w, float* u);
/** y = relu?((x·Wᵀ) · scale + shift) per output feature (scale/shift may be null: 1/0). Overwrites y. */
Status linear_eval(const LinearEvalParams& p, const float* x, const float* u, const float* scale, const float* shift,
                   float* y);

}  // namespace medianomaly
