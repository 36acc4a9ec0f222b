// Scaled dot-product attention (see medianomaly/attention.h). One task per (batch) set: the
// three products of a set run on one thread with the built-in GEMM (each element summed in
// one fixed order), and the softmax rows in a fixed order, so results do not depend on the
// thread count.
#include "medianomaly/attention.h"

#include <algorithm>
#include <cmath>
#include <new>

#include "medianomaly/gemm.h"
#include "medianomaly/threadpool.h"
#include "medianomaly/workspace.h"
#include "vec_math.h"

namespace medianomaly {

namespace {

// Rows of w: w_j = exp(s_j − max s) / Σ exp(s − max s). exp in float (vectorised with
// AVX2, libm otherwise); the sum in 8 double lanes (element j into lane j mod 8), the lanes
// added in order, then the tail.
void softmax_rows(float* s, int64_t rows, int64_t n) {
  for (int64_t i = 0; i < rows; ++i) {
    float* r = s + i * n;
    float m = r[0];
    for (int64_t j = 1; j < n; ++j) m = std::max(m, r[j]);
    double lane[8] = {};
    int64_t j = 0;
#ifdef MEDIANOMALY_VEC_MATH
    const __m256 mv = _mm256_set1_ps(m);
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    for (; j + 8 <= n; j += 8) {
      const __m256 e = vec::exp(_mm256_sub_ps(_mm256_loadu_ps(r + j), mv));
      _mm256_storeu_ps(r + j, e);
      lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
      hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    _mm256_storeu_pd(lane, lo);
    _mm256_storeu_pd(lane + 4, hi);
#else
    for (; j + 8 <= n; j += 8) {
      for (int l = 0; l < 8; ++l) {
        const float e = std::exp(r[j + l] - m);
        r[j + l] = e;
        lane[l] += e;
      }
    }
#endif
    double sum = 0.0;
    for (int l = 0; l < 8; ++l) sum += lane[l];
    for (; j < n; ++j) {
      const float e = std::exp(r[j] - m);
      r[j] = e;
      sum += e;
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (int64_t k = 0; k < n; ++k) r[k] *= inv;
  }
}

// Grain: sets per task so that a task holds at least ~64 Ki multiply-adds.
int64_t grain_of(const AttentionParams& p) {
  const int64_t work = std::max<int64_t>(1, p.lq * p.lk * (p.d + p.dv));
  return std::max<int64_t>(1, 65536 / work);
}

}  // namespace

void attention_forward(const AttentionParams& p, const float* q, const float* k, const float* v, float* out, float* w) {
  const int64_t B = p.batch, Lq = p.lq, Lk = p.lk, D = p.d, Dv = p.dv;
  if (B <= 0 || Lq <= 0) return;
  if (Lk <= 0) {  // softmax over nothing: PyTorch gives NaN rows; out is an empty sum
    std::fill(out, out + B * Lq * Dv, 0.0f);
    return;
  }
  parallel_for(B, grain_of(p), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const float* qb = q + b * Lq * D;
      const float* kb = k + b * Lk * D;
      const float* vb = v + b * Lk * Dv;
      float* wb = w + b * Lq * Lk;
      GemmParams s;  // S = scale · Q Kᵀ
      s.M = Lq, s.N = Lk, s.K = D, s.transB = true, s.alpha = p.scale;
      builtin_sgemm(s, qb, D, kb, D, wb, Lk);
      softmax_rows(wb, Lq, Lk);
      GemmParams o;  // out = w V
      o.M = Lq, o.N = Dv, o.K = Lk;
      builtin_sgemm(o, wb, Lk, vb, Dv, out + b * Lq * Dv, Dv);
    }
  });
}

void attention_backward(const AttentionParams& p, const float* q, const float* k, const float* v, const float* w,
                        const float* dout, float* dq, float* dk, float* dv) {
  const int64_t B = p.batch, Lq = p.lq, Lk = p.lk, D = p.d, Dv = p.dv;
  if (B <= 0) return;
  if (Lq <= 0 || Lk <= 0) {
    if (dq) std::fill(dq, dq + B * Lq * D, 0.0f);
    if (dk) std::fill(dk, dk + B * Lk * D, 0.0f);
    if (dv) std::fill(dv, dv + B * Lk * Dv, 0.0f);
    return;
  }
  parallel_for(B, grain_of(p), [&](int64_t b0, int64_t b1) {
    float* ds = (dq || dk) ? scratch(Scratch::kMisc, scratch_size({Lq, Lk})) : nullptr;
    if ((dq || dk) && !ds) throw std::bad_alloc();
    for (int64_t b = b0; b < b1; ++b) {
      const float* qb = q + b * Lq * D;
      const float* kb = k + b * Lk * D;
      const float* vb = v + b * Lk * Dv;
      const float* wb = w + b * Lq * Lk;
      const float* gb = dout + b * Lq * Dv;
      if (dv) {  // dv = wᵀ dout
        GemmParams g;
        g.M = Lk, g.N = Dv, g.K = Lq, g.transA = true;
        builtin_sgemm(g, wb, Lk, gb, Dv, dv + b * Lk * Dv, Dv);
      }
      if (!ds) continue;
      GemmParams g;  // dw = dout Vᵀ
      g.M = Lq, g.N = Lk, g.K = Dv, g.transB = true;
      builtin_sgemm(g, gb, Dv, vb, Dv, ds, Lk);
      for (int64_t i = 0; i < Lq; ++i) {  // dS = scale · w ⊙ (dw − Σ_row dw ⊙ w)
        float* r = ds + i * Lk;
        const float* wr = wb + i * Lk;
        double acc = 0.0;
        for (int64_t j = 0; j < Lk; ++j) acc += static_cast<double>(r[j]) * wr[j];
        const float rs = static_cast<float>(acc);
        for (int64_t j = 0; j < Lk; ++j) r[j] = p.scale * (wr[j] * (r[j] - rs));
      }
      if (dq) {  // dq = dS K
        GemmParams h;
        h.M = Lq, h.N = D, h.K = Lk;
        builtin_sgemm(h, ds, Lk, kb, D, dq + b * Lq * D, D);
      }
      if (dk) {  // dk = dSᵀ Q
        GemmParams h;
        h.M = Lk, h.N = D, h.K = Lq, h.transA = true;
        builtin_sgemm(h, ds, Lk, qb, D, dk + b * Lk * D, D);
      }
    }
  });
}

}  // namespace medianomaly
