// Upsampling with PyTorch's source-index rules (area_pixel_compute_source_index for
// bilinear, nearest_idx for nearest), in float32 like PyTorch's CPU kernels. Index and weight tables are built once per
// call; every source index is clamped into the input plane.
#include "medianomaly/upsample.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "medianomaly/threadpool.h"

namespace medianomaly {

namespace {

struct Lerp {
  int64_t i0, i1;
  float w0, w1;
};

// Source taps in float32 arithmetic, as PyTorch computes them for float tensors:
// align_corners: src = dst·(in−1)/(out−1); otherwise src = max(0, (dst + 0.5)·scale − 0.5).
std::vector<Lerp> lerp_table(int64_t out, int64_t in, bool align_corners, double scale) {
  std::vector<Lerp> t(static_cast<size_t>(out));
  const float s = align_corners ? (out > 1 ? static_cast<float>(static_cast<double>(in - 1) / static_cast<double>(out - 1)) : 0.0f)
                                : static_cast<float>(scale);
  for (int64_t o = 0; o < out; ++o) {
    float src;
    if (align_corners) {
      src = s * static_cast<float>(o);
    } else {
      src = s * (static_cast<float>(o) + 0.5f) - 0.5f;
      if (src < 0) src = 0;
    }
    int64_t i0 = static_cast<int64_t>(std::floor(src));
    if (i0 > in - 1) i0 = in - 1;
    if (i0 < 0) i0 = 0;
    const int64_t i1 = i0 < in - 1 ? i0 + 1 : i0;
    const float l1 = src - static_cast<float>(i0);
    t[o] = {i0, i1, 1.0f - l1, l1};
  }
  return t;
}

// PyTorch's nearest_idx: identity and halving shortcuts, else min(floor(dst·scale), in − 1) in float32.
std::vector<int64_t> nearest_table(int64_t out, int64_t in, double scale) {
  std::vector<int64_t> t(static_cast<size_t>(out));
  const float s = static_cast<float>(scale);
  for (int64_t o = 0; o < out; ++o) {
    int64_t i;
    if (out == in) i = o;
    else if (out == 2 * in) i = o >> 1;
    else i = static_cast<int64_t>(std::floor(static_cast<float>(o) * s));
    t[o] = std::max<int64_t>(0, std::min(i, in - 1));
  }
  return t;
}

}  // namespace

void upsample_bilinear2d(const Upsample2dParams& p, const float* x, float* y) {
  if (p.H <= 0 || p.W <= 0) return;
  const auto th = lerp_table(p.OH, p.H, p.alignCorners, p.scaleH);
  const auto tw = lerp_table(p.OW, p.W, p.alignCorners, p.scaleW);
  const int64_t in = p.H * p.W, out = p.OH * p.OW;
  parallel_for(p.N * p.C, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* xp = x + c * in;
      float* yp = y + c * out;
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        const Lerp h = th[oh];
        const float* r0 = xp + h.i0 * p.W;
        const float* r1 = xp + h.i1 * p.W;
        float* yr = yp + oh * p.OW;
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          const Lerp w = tw[ow];
          yr[ow] = h.w0 * (w.w0 * r0[w.i0] + w.w1 * r0[w.i1]) + h.w1 * (w.w0 * r1[w.i0] + w.w1 * r1[w.i1]);
        }
      }
    }
  });
}

void upsample_bilinear2d_backward(const Upsample2dParams& p, const float* dy, float* dx) {
  const int64_t in = p.H * p.W, out = p.OH * p.OW;
  if (p.H <= 0 || p.W <= 0) return;
  const auto th = lerp_table(p.OH, p.H, p.alignCorners, p.scaleH);
  const auto tw = lerp_table(p.OW, p.W, p.alignCorners, p.scaleW);
  parallel_for(p.N * p.C, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      float* xp = dx + c * in;
      const float* yp = dy + c * out;
      std::memset(xp, 0, sizeof(float) * in);
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        const Lerp h = th[oh];
        float* r0 = xp + h.i0 * p.W;
        float* r1 = xp + h.i1 * p.W;
        const float* yr = yp + oh * p.OW;
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          const Lerp w = tw[ow];
          const float g = yr[ow];
          r0[w.i0] += h.w0 * w.w0 * g;
          r0[w.i1] += h.w0 * w.w1 * g;
          r1[w.i0] += h.w1 * w.w0 * g;
          r1[w.i1] += h.w1 * w.w1 * g;
        }
      }
    }
  });
}

void upsample_nearest2d(const Upsample2dParams& p, const float* x, float* y) {
  if (p.H <= 0 || p.W <= 0) return;
  const auto th = nearest_table(p.OH, p.H, p.scaleH);
  const auto tw = nearest_table(p.OW, p.W, p.scaleW);
  const int64_t in = p.H * p.W, out = p.OH * p.OW;
  parallel_for(p.N * p.C, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* xp = x + c * in;
      float* yp = y + c * out;
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        const float* xr = xp + th[oh] * p.W;
        float* yr = yp + oh * p.OW;
        for (int64_t ow = 0; ow < p.OW; ++ow) yr[ow] = xr[tw[ow]];
      }
    }
  });
}

void upsample_nearest2d_backward(const Upsample2dParams& p, const float* dy, float* dx) {
  if (p.H <= 0 || p.W <= 0) return;
  const auto th = nearest_table(p.OH, p.H, p.scaleH);
  const auto tw = nearest_table(p.OW, p.W, p.scaleW);
  const int64_t in = p.H * p.W, out = p.OH * p.OW;
  parallel_for(p.N * p.C, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      float* xp = dx + c * in;
      const float* yp = dy + c * out;
      std::memset(xp, 0, sizeof(float) * in);
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        float* xr = xp + th[oh] * p.W;
        const float* yr = yp + oh * p.OW;
        for (int64_t ow = 0; ow < p.OW; ++ow) xr[tw[ow]] += yr[ow];
      }
    }
  });
}

}  // namespace medianomaly
