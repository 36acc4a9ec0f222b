// adamStep, sgdStep.
#include "args.h"
#include "medianomaly/optim.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  Args a(info, "adamStep", 6);
  AdamParams p;
  p.n = a.size("n");
  p.lr = a.number("lr");
  p.beta1 = a.number("beta1");
  p.beta2 = a.number("beta2");
  p.eps = a.number("eps");
  p.weightDecay = a.number("weightDecay");
  p.step = a.positive("step");
  p.amsgrad = a.flag("amsgrad");
  if (!(p.beta1 >= 0 && p.beta1 < 1)) a.range_error("p.beta1 must be in [0, 1)");
  if (!(p.beta2 >= 0 && p.beta2 < 1)) a.range_error("p.beta2 must be in [0, 1)");
  const F32Arg param = a.f32(1, "param", p.n, "n");
  const F32Arg grad = a.f32(2, "grad", p.n, "n");
  const F32Arg m = a.f32(3, "m", p.n, "n");
  const F32Arg v = a.f32(4, "v", p.n, "n");
  const F32Arg vmax = p.amsgrad ? a.f32(5, "vmax", p.n, "n, required when p.amsgrad") : a.f32_or_null(5, "vmax", p.n, "n");
  adam_step(p, param.data, grad.data, m.data, v.data, vmax.data);
  return a.env().Undefined();
}

Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  Args a(info, "sgdStep", 4);
  SgdParams p;
  p.n = a.size("n");
  p.lr = a.number("lr");
  p.momentum = a.number("momentum");
  p.dampening = a.number("dampening");
  p.weightDecay = a.number("weightDecay");
  p.nesterov = a.flag("nesterov");
  p.firstStep = a.flag("firstStep");
  const F32Arg param = a.f32(1, "param", p.n, "n");
  const F32Arg grad = a.f32(2, "grad", p.n, "n");
  const F32Arg buf = p.momentum != 0.0 ? a.f32(3, "momentumBuf", p.n, "n, required when p.momentum ≠ 0")
                                       : a.f32_or_null(3, "momentumBuf", p.n, "n");
  sgd_step(p, param.data, grad.data, buf.data);
  return a.env().Undefined();
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object exports) {
  define(env, exports, "adamStep", AdamStep);
  define(env, exports, "sgdStep", SgdStep);
}

}  // namespace medianomaly::binding
