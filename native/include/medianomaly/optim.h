// Optimiser steps with torch.optim semantics (Adam with L2 weight decay, SGD).
#pragma once

#include <cstdint>

namespace medianomaly {

struct AdamParams {
  int64_t n = 0;
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.0;
  int64_t step = 1;
  bool amsgrad = false;
};

struct SgdParams {
  int64_t n = 0;
  double lr = 0.01, momentum = 0.0, dampening = 0.0, weightDecay = 0.0;
  bool nesterov = false;
  bool firstStep = false;
};

/** vmax may be null unless amsgrad. */
void adam_step(const AdamParams& p, float* param, const float* grad, float* m, float* v, float* vmax);
/** momentumBuf may be null when momentum is 0. */
void sgd_step(const SgdParams& p, float* param, const float* grad, float* momentumBuf);

}  // namespace medianomaly
