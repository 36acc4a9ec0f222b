// Optimiser steps following torch.optim's single-tensor code paths: Adam with L2
// weight decay folded into the gradient (not AdamW), optional AMSGrad; SGD with
// momentum, dampening and Nesterov. Same operation order as the ts reference.
#include "medianomaly/optim.h"

#include <algorithm>
#include <cmath>

#include "medianomaly/threadpool.h"

namespace medianomaly {

void adam_step(const AdamParams& p, float* param, const float* grad, float* m, float* v, float* vmax) {
  // Per-element arithmetic in double (it is memory-bound anyway): 1 − β rounded to
  // float would bias v by ~1e-5 relative.
  const double step_size = p.lr / (1.0 - std::pow(p.beta1, static_cast<double>(p.step)));
  const double bc2_sqrt = std::sqrt(1.0 - std::pow(p.beta2, static_cast<double>(p.step)));
  const double b1 = p.beta1, b2 = p.beta2, eps = p.eps, wd = p.weightDecay;
  const bool ams = p.amsgrad && vmax;
  parallel_for(p.n, 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const double g = wd != 0.0 ? grad[i] + wd * param[i] : static_cast<double>(grad[i]);
      const float mi = static_cast<float>(b1 * m[i] + (1.0 - b1) * g);
      const float vi = static_cast<float>(b2 * v[i] + (1.0 - b2) * g * g);
      m[i] = mi;
      v[i] = vi;
      float vv = vi;
      if (ams) {
        vv = std::max(vmax[i], vi);
        vmax[i] = vv;
      }
      param[i] = static_cast<float>(param[i] - step_size * mi / (std::sqrt(static_cast<double>(vv)) / bc2_sqrt + eps));
    }
  });
}

void sgd_step(const SgdParams& p, float* param, const float* grad, float* buf) {
  const double lr = p.lr, mom = p.momentum, damp = p.dampening, wd = p.weightDecay;
  const bool use_mom = p.momentum != 0.0 && buf;
  parallel_for(p.n, 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      double d = wd != 0.0 ? grad[i] + wd * param[i] : static_cast<double>(grad[i]);
      if (use_mom) {
        const float bi = static_cast<float>(p.firstStep ? d : mom * buf[i] + (1.0 - damp) * d);
        buf[i] = bi;
        d = p.nesterov ? d + mom * bi : bi;
      }
      param[i] = static_cast<float>(param[i] - lr * d);
    }
  });
}

}  // namespace medianomaly
