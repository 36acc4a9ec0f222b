// pad2d and its backward.
#include "args.h"
#include "medianomaly/pad.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

Pad2dParams read_pad(const Args& a) {
  Pad2dParams p;
  p.NC = a.size("NC");
  p.H = a.size("H");
  p.W = a.size("W");
  p.top = a.size("top");
  p.bottom = a.size("bottom");
  p.left = a.size("left");
  p.right = a.size("right");
  const std::string mode = a.string("mode");
  if (mode == "constant") p.mode = PadMode::kConstant;
  else if (mode == "reflect") p.mode = PadMode::kReflect;
  else if (mode == "replicate") p.mode = PadMode::kReplicate;
  else a.range_error("p.mode must be 'constant', 'reflect' or 'replicate', got '" + mode + "'");
  // The fill value is data, not a hyper-parameter: NaN padding is allowed.
  p.value = p.mode == PadMode::kConstant ? static_cast<float>(a.number("value", true)) : 0.0f;
  if (p.mode != PadMode::kConstant && p.NC > 0 && (p.H == 0 || p.W == 0) &&
      (p.top + p.bottom + p.left + p.right) > 0) {
    a.range_error("p.H and p.W must be ≥ 1 to pad in '" + mode + "' mode");
  }
  checked_product(a.env(), a.kernel(), {p.NC, p.H + p.top + p.bottom, p.W + p.left + p.right});
  return p;
}

Napi::Value Pad2d(const Napi::CallbackInfo& info) {
  Args a(info, "pad2d", 3);
  const Pad2dParams p = read_pad(a);
  const F32Arg x = a.f32(1, "x", checked_product(a.env(), "pad2d", {p.NC, p.H, p.W}), "NC·H·W");
  const F32Arg y = a.f32(2, "y", p.NC * (p.H + p.top + p.bottom) * (p.W + p.left + p.right),
                         "NC·(H+top+bottom)·(W+left+right)");
  if (y.length == 0 || p.NC * (p.H + p.top + p.bottom) * (p.W + p.left + p.right) == 0) return a.env().Undefined();
  pad2d(p, x.data, y.data);
  return a.env().Undefined();
}

Napi::Value Pad2dBackward(const Napi::CallbackInfo& info) {
  Args a(info, "pad2dBackward", 3);
  const Pad2dParams p = read_pad(a);
  const F32Arg dy = a.f32(1, "dy", p.NC * (p.H + p.top + p.bottom) * (p.W + p.left + p.right),
                          "NC·(H+top+bottom)·(W+left+right)");
  const F32Arg dx = a.f32(2, "dx", checked_product(a.env(), "pad2dBackward", {p.NC, p.H, p.W}), "NC·H·W");
  if (p.NC * p.H * p.W == 0) return a.env().Undefined();
  pad2d_backward(p, dy.data, dx.data);
  return a.env().Undefined();
}

}  // namespace

void register_pad(Napi::Env env, Napi::Object exports) {
  define(env, exports, "pad2d", Pad2d);
  define(env, exports, "pad2dBackward", Pad2dBackward);
}

}  // namespace medianomaly::binding
