// Optimiser steps following torch.optim's single-tensor code paths: Adam with L2
// weight decay folded into the gradient (not AdamW), optional AMSGrad; SGD with
// momentum, dampening and Nesterov. Bias corrections are computed once in double.
#include "medianomaly/optim.h"

#include <algorithm>
#include <cmath>

#include "medianomaly/threadpool.h"

namespace medianomaly {

void adam_step(const AdamParams& p, float* param, const float* grad, float* m, float* v, float* vmax) {
  const double bc1 = 1.0 - std::pow(p.beta1, static_cast<double>(p.step));
  const double bc2 = 1.0 - std::pow(p.beta2, static_cast<double>(p.step));
  const float step_size = static_cast<float>(p.lr / bc1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float b1 = static_cast<float>(p.beta1), b2 = static_cast<float>(p.beta2);
  const float eps = static_cast<float>(p.eps), wd = static_cast<float>(p.weightDecay);
  const bool ams = p.amsgrad && vmax;
  parallel_for(p.n, 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float g = wd != 0.0f ? grad[i] + wd * param[i] : grad[i];
      const float mi = m[i] + (1.0f - b1) * (g - m[i]);  // exp_avg.lerp_(grad, 1 − β1)
      const float vi = v[i] * b2 + (1.0f - b2) * g * g;
      m[i] = mi;
      v[i] = vi;
      float vv = vi;
      if (ams) {
        vv = std::max(vmax[i], vi);
        vmax[i] = vv;
      }
      const float denom = std::sqrt(vv) / bc2_sqrt + eps;
      param[i] -= step_size * (mi / denom);
    }
  });
}

void sgd_step(const SgdParams& p, float* param, const float* grad, float* buf) {
  const float lr = static_cast<float>(p.lr), mom = static_cast<float>(p.momentum);
  const float damp = static_cast<float>(p.dampening), wd = static_cast<float>(p.weightDecay);
  const bool use_mom = p.momentum != 0.0 && buf;
  parallel_for(p.n, 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float d = wd != 0.0f ? grad[i] + wd * param[i] : grad[i];
      if (use_mom) {
        const float bi = p.firstStep ? d : mom * buf[i] + (1.0f - damp) * d;
        buf[i] = bi;
        d = p.nesterov ? d + mom * bi : bi;
      }
      param[i] -= lr * d;
    }
  });
}

}  // namespace medianomaly
