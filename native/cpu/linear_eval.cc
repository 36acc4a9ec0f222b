// Inference linear layers with a folded BN and ReLU (see medianomaly/linear_eval.h).
//
// y[n, 16q + l] for a panel q of 16 features is a 6-row × 16-feature register tile (AVX2+FMA
// when built for it) over the rows of x, with the packed panel u_q [in][16] as the broadcast
// partner. The depth runs in blocks of kDepth so that a panel block (16 KiB) stays in L1 while
// every 6-row group of x passes over it; a block resumes each accumulator from the partial
// sum the previous block stored, so the chain of operations per output is the unblocked one.
// Threads take whole panels.
#include "medianomaly/linear_eval.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "medianomaly/threadpool.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace medianomaly {

namespace {

constexpr int64_t kLanes = 16;
constexpr int64_t kRows = 6;
constexpr int64_t kDepth = 256;

/** c[i·16 + j] (+)= Σ_{k<kc} a[i][k] · b[k·16 + j], i < 6, j < 16; resumes from c when `resume`. */
void tile(int64_t kc, const float* const a[kRows], const float* b, float* c, bool resume) {
#if defined(__AVX2__) && defined(__FMA__)
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = resume ? _mm256_loadu_ps(c + 8 * i) : _mm256_setzero_ps();
  __m256 c00 = acc[0], c01 = acc[1], c10 = acc[2], c11 = acc[3], c20 = acc[4], c21 = acc[5];
  __m256 c30 = acc[6], c31 = acc[7], c40 = acc[8], c41 = acc[9], c50 = acc[10], c51 = acc[11];
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
#define MEDIANOMALY_LINEAR_ROW(i)                    \
  {                                                  \
    const __m256 av = _mm256_broadcast_ss(a##i + k); \
    c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);      \
    c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1);      \
  }
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b + k * kLanes);
    const __m256 b1 = _mm256_loadu_ps(b + k * kLanes + 8);
    MEDIANOMALY_LINEAR_ROW(0)
    MEDIANOMALY_LINEAR_ROW(1)
    MEDIANOMALY_LINEAR_ROW(2)
    MEDIANOMALY_LINEAR_ROW(3)
    MEDIANOMALY_LINEAR_ROW(4)
    MEDIANOMALY_LINEAR_ROW(5)
  }
#undef MEDIANOMALY_LINEAR_ROW
  const __m256 out[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  for (int i = 0; i < 12; ++i) _mm256_storeu_ps(c + 8 * i, out[i]);
#else
  for (int64_t i = 0; i < kRows; ++i)
    for (int64_t j = 0; j < kLanes; ++j) {
      float s = resume ? c[i * kLanes + j] : 0.0f;
      for (int64_t k = 0; k < kc; ++k) s = std::fma(a[i][k], b[k * kLanes + j], s);
      c[i * kLanes + j] = s;
    }
#endif
}

}  // namespace

int64_t linear_eval_pack_size(const LinearEvalParams& p) { return (p.out + kLanes - 1) / kLanes * kLanes * p.in; }

Status linear_eval_pack(const LinearEvalParams& p, const float* w, float* u) {
  const int64_t panels = (p.out + kLanes - 1) / kLanes;
  parallel_for(panels, 1, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q)
      for (int64_t l = 0; l < kLanes; ++l) {
        const int64_t o = q * kLanes + l;
        float* dst = u + q * p.in * kLanes + l;
        if (o < p.out) {
          const float* src = w + o * p.in;
          for (int64_t k = 0; k < p.in; ++k) dst[k * kLanes] = src[k];
        } else {
          for (int64_t k = 0; k < p.in; ++k) dst[k * kLanes] = 0.0f;
        }
      }
  });
  return Status::kOk;
}

Status linear_eval(const LinearEvalParams& p, const float* x, const float* u, const float* scale, const float* shift,
                   float* y) {
  if (p.N <= 0 || p.out <= 0) return Status::kOk;
  const int64_t panels = (p.out + kLanes - 1) / kLanes;
  const int64_t groups = (p.N + kRows - 1) / kRows;
  parallel_for(panels, 1, [&](int64_t q0, int64_t q1) {
    thread_local std::vector<float> acc;
    acc.resize(static_cast<size_t>(groups * kRows * kLanes));
    for (int64_t q = q0; q < q1; ++q) {
      const float* uq = u + q * p.in * kLanes;
      if (p.in == 0) std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t k0 = 0; k0 < p.in; k0 += kDepth) {
        const int64_t kc = std::min(kDepth, p.in - k0);
        for (int64_t gi = 0; gi < groups; ++gi) {
          const float* a[kRows];
          for (int64_t i = 0; i < kRows; ++i) a[i] = x + std::min(gi * kRows + i, p.N - 1) * p.in + k0;
          tile(kc, a, uq + k0 * kLanes, acc.data() + gi * kRows * kLanes, k0 > 0);
        }
      }
      const int64_t n_out = std::min(kLanes, p.out - q * kLanes);
      for (int64_t n = 0; n < p.N; ++n) {
        const float* src = acc.data() + n * kLanes;
        float* dst = y + n * p.out + q * kLanes;
        for (int64_t l = 0; l < n_out; ++l) {
          const int64_t o = q * kLanes + l;
          float v = src[l];
          if (scale) v *= scale[o];
          if (shift) v += shift[o];
          dst[l] = p.relu && v < 0.0f ? 0.0f : v;
        }
      }
    }
  });
  return Status::kOk;
}

}  // namespace medianomaly
