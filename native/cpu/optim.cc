// Optimiser steps following torch.optim's single-tensor code paths: Adam with L2
// weight decay folded into the gradient (not AdamW), optional AMSGrad; SGD with
// momentum, dampening and Nesterov. Same operation order as the ts reference.
#include "medianomaly/optim.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "medianomaly/threadpool.h"

namespace medianomaly {

void adam_step(const AdamParams& p, float* param, const float* grad, float* m, float* v, float* vmax) {
  // Float arithmetic so the loop vectorises (Adam is memory-bound); the constants are
  // formed in double first: 1 − β rounded from float β would bias v by ~1e-5.
  const double bc1 = 1.0 - std::pow(p.beta1, static_cast<double>(p.step));
  const double bc2 = 1.0 - std::pow(p.beta2, static_cast<double>(p.step));
  const float step_size = static_cast<float>(p.lr / bc1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float b1 = static_cast<float>(p.beta1), omb1 = static_cast<float>(1.0 - p.beta1);
  const float b2 = static_cast<float>(p.beta2), omb2 = static_cast<float>(1.0 - p.beta2);
  const float eps = static_cast<float>(p.eps), wd = static_cast<float>(p.weightDecay);
  // One branch-free loop per (weight decay, amsgrad) combination, so each vectorises.
  auto run = [&](auto decay, auto ams) {
    parallel_for(p.n, 16384, [&](int64_t b, int64_t e) {
      // Local copies: through the closure's references a float store could alias the
      // constants, and the five arrays are distinct tensors; either would keep the loop scalar.
      const float b1_ = b1, omb1_ = omb1, b2_ = b2, omb2_ = omb2, wd_ = wd, step_ = step_size, bc2_ = bc2_sqrt,
                  eps_ = eps;
      float* __restrict param_ = param;
      const float* __restrict grad_ = grad;
      float* __restrict m_ = m;
      float* __restrict v_ = v;
      float* __restrict vmax_ = vmax;
      for (int64_t i = b; i < e; ++i) {
        float g = grad_[i];
        if constexpr (decltype(decay)::value) g += wd_ * param_[i];
        const float mi = b1_ * m_[i] + omb1_ * g;
        const float vi = b2_ * v_[i] + omb2_ * g * g;
        m_[i] = mi;
        v_[i] = vi;
        float vv = vi;
        if constexpr (decltype(ams)::value) {
          vv = std::max(vmax_[i], vi);
          vmax_[i] = vv;
        }
        param_[i] -= step_ * mi / (std::sqrt(vv) / bc2_ + eps_);
      }
    });
  };
  using yes = std::true_type;
  using no = std::false_type;
  const bool decay = wd != 0.0f, ams = p.amsgrad && vmax;
  if (decay && ams) run(yes{}, yes{});
  else if (decay) run(yes{}, no{});
  else if (ams) run(no{}, yes{});
  else run(no{}, no{});
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
