// Pooling with PyTorch's CPU window rules (windows clipped to the input; average
// pooling's divisor follows count_include_pad / divisor_override). Parallel over
// [N·C] planes; backwards scatter within one plane, so no two threads share an output.
#include "medianomaly/pool.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

#include "medianomaly/threadpool.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define MEDIANOMALY_POOL_AVX2 1
#endif

namespace medianomaly {

namespace {

struct AvgWindow {
  int64_t h0, h1, w0, w1;
  double divisor;
};

// PyTorch's avg_pool2d window: the divisor is computed before clipping to the input.
AvgWindow avg_window(const Pool2dParams& p, int64_t oh, int64_t ow) {
  int64_t h0 = oh * p.sh - p.ph, w0 = ow * p.sw - p.pw;
  int64_t h1 = std::min(h0 + p.kh, p.H + p.ph), w1 = std::min(w0 + p.kw, p.W + p.pw);
  const int64_t pool_size = (h1 - h0) * (w1 - w0);
  h0 = std::max<int64_t>(h0, 0);
  w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, p.H);
  w1 = std::min(w1, p.W);
  double divisor;
  if (p.divisorOverride != 0) divisor = static_cast<double>(p.divisorOverride);
  else if (p.countIncludePad) divisor = static_cast<double>(pool_size);
  else divisor = static_cast<double>((h1 - h0) * (w1 - w0));
  return {h0, h1, w0, w1, divisor};
}

inline int64_t adaptive_start(int64_t i, int64_t in, int64_t out) { return (i * in) / out; }
inline int64_t adaptive_end(int64_t i, int64_t in, int64_t out) { return ((i + 1) * in + out - 1) / out; }

}  // namespace

namespace {

/** One output of max pooling: the first maximum in (ih, iw) order, the first NaN winning. */
inline void max_pool_one(const Pool2dParams& p, const float* xp, float* yp, int32_t* ap, int64_t oh, int64_t ow,
                         int64_t h0, int64_t h1) {
  int64_t w0 = ow * p.sw - p.pw;
  const int64_t w1 = std::min(w0 + (p.kw - 1) * p.dw + 1, p.W);
  while (w0 < 0) w0 += p.dw;
  float best = -std::numeric_limits<float>::infinity();
  int64_t best_i = (h0 < h1 && w0 < w1) ? h0 * p.W + w0 : -1;
  for (int64_t ih = h0; ih < h1; ih += p.dh) {
    for (int64_t iw = w0; iw < w1; iw += p.dw) {
      const float v = xp[ih * p.W + iw];
      if (v > best || (std::isnan(v) && !std::isnan(best))) {  // the first NaN wins
        best = v;
        best_i = ih * p.W + iw;
      }
    }
  }
  yp[oh * p.OW + ow] = best;
  ap[oh * p.OW + ow] = static_cast<int32_t>(best_i);
}

}  // namespace

void max_pool2d(const Pool2dParams& p, const float* x, float* y, int32_t* argmax) {
  const int64_t planes = p.N * p.C, in = p.H * p.W, out = p.OH * p.OW;
  parallel_for(planes, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* xp = x + c * in;
      float* yp = y + c * out;
      int32_t* ap = argmax + c * out;
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        int64_t h0 = oh * p.sh - p.ph;
        const int64_t h1 = std::min(h0 + (p.kh - 1) * p.dh + 1, p.H);
        while (h0 < 0) h0 += p.dh;
        int64_t ow = 0;
#ifdef MEDIANOMALY_POOL_AVX2
        // Stride 2, dilation 1 (ResNet's 3×3/2 stem pool, VGG's 2×2/2): eight outputs at a
        // time over the columns whose whole window (and the 16 floats loaded) lie inside
        // the row, with the scalar rule and tap order: a tap replaces the best when
        // !(v ≤ best) and best is not NaN (v > best, or the first NaN). Same values and argmax.
        if (p.sw == 2 && p.dw == 1 && p.dh == 1 && h0 < h1) {
          const int64_t lo = std::min(p.OW, (p.pw + 1) / 2);  // first ow with 2·ow − pw ≥ 0
          for (; ow < lo; ++ow) max_pool_one(p, xp, yp, ap, oh, ow, h0, h1);
          const __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
          for (; ow + 8 <= p.OW && 2 * (ow + 7) - p.pw + p.kw < p.W; ow += 8) {
            const int64_t w0 = 2 * ow - p.pw;
            __m256 best = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
            __m256i idx = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(h0 * p.W + w0)), lane2);
            for (int64_t ih = h0; ih < h1; ++ih) {
              const float* row = xp + ih * p.W + w0;
              for (int64_t j = 0; j < p.kw; ++j) {
                const __m256 a = _mm256_loadu_ps(row + j), b = _mm256_loadu_ps(row + j + 8);
                const __m256 v = _mm256_castpd_ps(
                    _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
                const __m256 take =
                    _mm256_and_ps(_mm256_cmp_ps(v, best, _CMP_NLE_UQ), _mm256_cmp_ps(best, best, _CMP_ORD_Q));
                best = _mm256_blendv_ps(best, v, take);
                const __m256i at = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(ih * p.W + w0 + j)), lane2);
                idx = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(idx), _mm256_castsi256_ps(at), take));
              }
            }
            _mm256_storeu_ps(yp + oh * p.OW + ow, best);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(ap + oh * p.OW + ow), idx);
          }
        }
#endif
        for (; ow < p.OW; ++ow) max_pool_one(p, xp, yp, ap, oh, ow, h0, h1);
      }
    }
  });
}

Status max_pool2d_backward(const Pool2dParams& p, const float* dy, const int32_t* argmax, float* dx) {
  const int64_t planes = p.N * p.C, in = p.H * p.W, out = p.OH * p.OW;
  std::atomic<bool> bad{false};
  parallel_for(planes, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      float* xp = dx + c * in;
      const float* yp = dy + c * out;
      const int32_t* ap = argmax + c * out;
      std::memset(xp, 0, sizeof(float) * in);
      for (int64_t o = 0; o < out; ++o) {
        const int64_t i = ap[o];
        if (i < 0 || i >= in) {
          bad.store(true, std::memory_order_relaxed);
          continue;
        }
        xp[i] += yp[o];
      }
    }
  });
  return bad.load() ? Status::kIndexOutOfRange : Status::kOk;
}

void avg_pool2d(const Pool2dParams& p, const float* x, float* y) {
  const int64_t planes = p.N * p.C, in = p.H * p.W, out = p.OH * p.OW;
  parallel_for(planes, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* xp = x + c * in;
      float* yp = y + c * out;
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          const AvgWindow win = avg_window(p, oh, ow);
          if (win.h0 >= win.h1 || win.w0 >= win.w1) {
            yp[oh * p.OW + ow] = 0.0f;
            continue;
          }
          double sum = 0.0;
          for (int64_t ih = win.h0; ih < win.h1; ++ih)
            for (int64_t iw = win.w0; iw < win.w1; ++iw) sum += xp[ih * p.W + iw];
          yp[oh * p.OW + ow] = static_cast<float>(sum / win.divisor);
        }
      }
    }
  });
}

void avg_pool2d_backward(const Pool2dParams& p, const float* dy, float* dx) {
  const int64_t planes = p.N * p.C, in = p.H * p.W, out = p.OH * p.OW;
  parallel_for(planes, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      float* xp = dx + c * in;
      const float* yp = dy + c * out;
      std::memset(xp, 0, sizeof(float) * in);
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          const AvgWindow win = avg_window(p, oh, ow);
          if (win.h0 >= win.h1 || win.w0 >= win.w1) continue;
          const float g = static_cast<float>(yp[oh * p.OW + ow] / win.divisor);
          for (int64_t ih = win.h0; ih < win.h1; ++ih)
            for (int64_t iw = win.w0; iw < win.w1; ++iw) xp[ih * p.W + iw] += g;
        }
      }
    }
  });
}

void adaptive_avg_pool2d(const AdaptivePool2dParams& p, const float* x, float* y) {
  const int64_t planes = p.N * p.C, in = p.H * p.W, out = p.OH * p.OW;
  parallel_for(planes, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* xp = x + c * in;
      float* yp = y + c * out;
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        const int64_t h0 = adaptive_start(oh, p.H, p.OH), h1 = adaptive_end(oh, p.H, p.OH);
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          const int64_t w0 = adaptive_start(ow, p.W, p.OW), w1 = adaptive_end(ow, p.W, p.OW);
          double sum = 0.0;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) sum += xp[ih * p.W + iw];
          const int64_t area = (h1 - h0) * (w1 - w0);
          yp[oh * p.OW + ow] = area > 0 ? static_cast<float>(sum / static_cast<double>(area)) : 0.0f;
        }
      }
    }
  });
}

void adaptive_avg_pool2d_backward(const AdaptivePool2dParams& p, const float* dy, float* dx) {
  const int64_t planes = p.N * p.C, in = p.H * p.W, out = p.OH * p.OW;
  parallel_for(planes, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      float* xp = dx + c * in;
      const float* yp = dy + c * out;
      std::memset(xp, 0, sizeof(float) * in);
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        const int64_t h0 = adaptive_start(oh, p.H, p.OH), h1 = adaptive_end(oh, p.H, p.OH);
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          const int64_t w0 = adaptive_start(ow, p.W, p.OW), w1 = adaptive_end(ow, p.W, p.OW);
          const int64_t area = (h1 - h0) * (w1 - w0);
          if (area <= 0) continue;
          const float g = static_cast<float>(yp[oh * p.OW + ow] / static_cast<double>(area));
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) xp[ih * p.W + iw] += g;
        }
      }
    }
  });
}

}  // namespace medianomaly
