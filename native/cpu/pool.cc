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
        for (int64_t ow = 0; ow < p.OW; ++ow) {
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
