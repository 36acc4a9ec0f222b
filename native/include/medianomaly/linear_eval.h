// Inference path for linear layers (y = x·Wᵀ + b, PyTorch's weight layout) with an eval
// BatchNorm1d folded into a per-feature scale and shift and an optional ReLU, applied as the
// outputs are stored: the unified AE's MLP layers under noGrad. The weight is packed into
// 16-feature panels once (the engine keeps the packed copy per weight); a call checks each
// panel against the weight and repacks only what changed, instead of repacking it all as a
// general GEMM must.
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
/**
 * y = relu?((x·Wᵀ) · scale + shift) per output feature (scale/shift may be null: 1/0). Overwrites
 * y. u is a cache of linear_eval_pack(w): every panel is checked against w bit for bit and
 * repacked in place when it differs, so any u of the right size gives the same y.
 */
Status linear_eval(const LinearEvalParams& p, const float* x, const float* w, float* u, const float* scale,
                   const float* shift, float* y);

}  // namespace medianomaly
