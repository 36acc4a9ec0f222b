// Inference linear layers with a folded BN and ReLU (see medianomaly/linear_eval.h).
//
// y[n, 16q + l] for a panel q of 16 features is a 6-row × 16-feature register tile (AVX2+FMA
// when built for it) over the rows of x, with the packed panel u_q [in][16] as the broadcast
// partner. The depth runs in blocks of kDepth so that a panel block (16 KiB) stays in L1 while
// every 6-row group of x passes over it; a block resumes each accumulator from the partial
// sum the previous block stored, so the chain of operations per output is the unblocked one.
// Threads take whole panels. Each panel of the packed weight is first checked against w (bit
// for bit, 8 × 8 blocks transposed in registers) and repacked when it differs, so u is only a
// cache: a weight changed in place since it was packed is never used stale, and no copy of the
// weight is kept to compare against.
#include "medianomaly/linear_eval.h"

#include <algorithm>
#include <cmath>
#include <cstring>
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

/** Packs panel q: uq[k·16 + l] = w[16q + l, k] (0 past out). */
void pack_panel(const LinearEvalParams& p, const float* w, int64_t q, float* uq) {
  for (int64_t l = 0; l < kLanes; ++l) {
    const int64_t o = q * kLanes + l;
    float* dst = uq + l;
    if (o < p.out) {
      const float* src = w + o * p.in;
      for (int64_t k = 0; k < p.in; ++k) dst[k * kLanes] = src[k];
    } else {
      for (int64_t k = 0; k < p.in; ++k) dst[k * kLanes] = 0.0f;
    }
  }
}

/**
 * Whether panel q of u holds w's rows 16q … 16q + 15 bit for bit (the lanes past `out` are
 * never stored, so they are not compared). Full panels compare 8 × 8 blocks of w transposed
 * in registers against u's rows.
 */
bool panel_current(const LinearEvalParams& p, const float* w, int64_t q, const float* uq) {
  const int64_t rows = std::min(kLanes, p.out - q * kLanes);
#if defined(__AVX2__) && defined(__FMA__)
  if (rows == kLanes && p.in % 8 == 0) {
    __m256i diff = _mm256_setzero_si256();
    for (int64_t lb = 0; lb < kLanes; lb += 8) {
      const float* wb = w + (q * kLanes + lb) * p.in;
      for (int64_t k0 = 0; k0 < p.in; k0 += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(wb + i * p.in + k0);
        const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
        const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
        const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
        const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
        const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
        const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
        const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
        const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
        // column j of the block (w[16q + lb + 0…7, k0 + j]) against u's row k0 + j, lanes lb…lb+7
        const __m256 col[8] = {_mm256_permute2f128_ps(s0, s4, 0x20), _mm256_permute2f128_ps(s1, s5, 0x20),
                               _mm256_permute2f128_ps(s2, s6, 0x20), _mm256_permute2f128_ps(s3, s7, 0x20),
                               _mm256_permute2f128_ps(s0, s4, 0x31), _mm256_permute2f128_ps(s1, s5, 0x31),
                               _mm256_permute2f128_ps(s2, s6, 0x31), _mm256_permute2f128_ps(s3, s7, 0x31)};
        for (int j = 0; j < 8; ++j) {
          const __m256i a = _mm256_castps_si256(col[j]);
          const __m256i b = _mm256_castps_si256(_mm256_loadu_ps(uq + (k0 + j) * kLanes + lb));
          diff = _mm256_or_si256(diff, _mm256_xor_si256(a, b));
        }
      }
    }
    return _mm256_testz_si256(diff, diff) != 0;
  }
#endif
  uint32_t diff = 0;
  for (int64_t l = 0; l < rows; ++l) {
    const float* src = w + (q * kLanes + l) * p.in;
    for (int64_t k = 0; k < p.in; ++k) {
      uint32_t a, b;
      std::memcpy(&a, src + k, 4);
      std::memcpy(&b, uq + k * kLanes + l, 4);
      diff |= a ^ b;
    }
  }
  return diff == 0;
}

}  // namespace

int64_t linear_eval_pack_size(const LinearEvalParams& p) { return (p.out + kLanes - 1) / kLanes * kLanes * p.in; }

Status linear_eval_pack(const LinearEvalParams& p, const float* w, float* u) {
  const int64_t panels = (p.out + kLanes - 1) / kLanes;
  parallel_for(panels, 1, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) pack_panel(p, w, q, u + q * p.in * kLanes);
  });
  return Status::kOk;
}

Status linear_eval(const LinearEvalParams& p, const float* x, const float* w, float* u, const float* scale,
                   const float* shift, float* y) {
  if (p.N <= 0 || p.out <= 0) return Status::kOk;
  const int64_t panels = (p.out + kLanes - 1) / kLanes;
  const int64_t groups = (p.N + kRows - 1) / kRows;
  parallel_for(panels, 1, [&](int64_t q0, int64_t q1) {
    thread_local std::vector<float> acc;
    acc.resize(static_cast<size_t>(groups * kRows * kLanes));
    for (int64_t q = q0; q < q1; ++q) {
      float* uq = u + q * p.in * kLanes;
      if (!panel_current(p, w, q, uq)) pack_panel(p, w, q, uq);
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
