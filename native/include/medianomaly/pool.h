// Max / average / adaptive-average pooling with PyTorch's window rules.
// argmax holds the flat index h·W + w of the winner inside its [H, W] input plane.
//
// Limits the binding enforces: kh, kw, sh, sw, dh, dw ≤ 2^20; ph ≤ kh/2, pw ≤ kw/2
// (PyTorch's rule); OH, OW at most the windows that fit (ceil mode: ⌈span/s⌉ + 1);
// H·W < 2^31 (Int32 argmax). The engine also rejects a dilated max-pool window that lies
// wholly in the padding (its argmax would be −1); max_pool2d_backward reports such an
// index as kIndexOutOfRange instead of writing outside the plane.
#pragma once

#include <cstdint>

#include "status.h"

namespace medianomaly {

struct Pool2dParams {
  int64_t N = 0, C = 0, H = 0, W = 0, OH = 0, OW = 0;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  bool ceilMode = false;
  bool countIncludePad = true;
  int64_t divisorOverride = 0;
};

struct AdaptivePool2dParams {
  int64_t N = 0, C = 0, H = 0, W = 0, OH = 0, OW = 0;
};

void max_pool2d(const Pool2dParams& p, const float* x, float* y, int32_t* argmax);
/** kIndexOutOfRange when an argmax entry is outside its plane (dx is then incomplete). */
Status max_pool2d_backward(const Pool2dParams& p, const float* dy, const int32_t* argmax, float* dx);
void avg_pool2d(const Pool2dParams& p, const float* x, float* y);
void avg_pool2d_backward(const Pool2dParams& p, const float* dy, float* dx);
void adaptive_avg_pool2d(const AdaptivePool2dParams& p, const float* x, float* y);
void adaptive_avg_pool2d_backward(const AdaptivePool2dParams& p, const float* dy, float* dx);

}  // namespace medianomaly
