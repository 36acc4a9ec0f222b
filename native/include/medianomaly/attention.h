// Scaled dot-product attention over a batch of independent (query, key, value) sets, forward
// and backward: S = scale · Q Kᵀ, w = softmax over the key axis (row max subtracted, fp32),
// out = w V. Mirrored step for step by src/backend/ts/attention.ts.
#pragma once

#include <cstdint>

namespace medianomaly {

struct AttentionParams {
  int64_t batch = 0;  // B·heads
  int64_t lq = 0;     // queries per set
  int64_t lk = 0;     // keys (and values) per set
  int64_t d = 0;      // query / key width
  int64_t dv = 0;     // value width
  float scale = 1.0f; // usually 1/√d
};

/**
 * q [batch, lq, d], k [batch, lk, d], v [batch, lk, dv] → out [batch, lq, dv] and the
 * softmax weights w [batch, lq, lk] (kept for the backward). Threads over the batch; each
 * set runs on one thread with the built-in GEMM, so results do not depend on the thread count.
 */
void attention_forward(const AttentionParams& p, const float* q, const float* k, const float* v, float* out, float* w);

/**
 * Gradients of Σ dout ⊙ out: dv = wᵀ dout, dw = dout Vᵀ, dS = w ⊙ (dw − Σ_row dw ⊙ w),
 * dq = scale · dS K, dk = scale · dSᵀ Q; each overwritten, any may be null (not wanted).
 */
void attention_backward(const AttentionParams& p, const float* q, const float* k, const float* v, const float* w,
                        const float* dout, float* dq, float* dk, float* dv);

}  // namespace medianomaly
