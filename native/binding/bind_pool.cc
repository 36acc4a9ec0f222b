// max, average and adaptive average pooling, with their backwards.
#include "args.h"
#include "medianomaly/pool.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

/** Windows along one axis in ceil mode (an upper bound for floor mode); 0 when none fit. */
int64_t pooled_windows(int64_t size, int64_t k, int64_t s, int64_t pad, int64_t d) {
  const int64_t span = size + 2 * pad - d * (k - 1) - 1;  // ≤ 2^53 + 2^21: no overflow
  return span + s - 1 < 0 ? 0 : (span + s - 1) / s + 1;  // PyTorch: ⌈span/s⌉ + 1 in ceil mode
}

Pool2dParams read_pool(const Args& a) {
  Pool2dParams p;
  p.N = a.size("N");
  p.C = a.size("C");
  p.H = a.size("H");
  p.W = a.size("W");
  p.OH = a.size("OH");
  p.OW = a.size("OW");
  p.kh = a.geometry("kh", 1);
  p.kw = a.geometry("kw", 1);
  p.sh = a.geometry("sh", 1);
  p.sw = a.geometry("sw", 1);
  p.ph = a.geometry("ph", 0);
  p.pw = a.geometry("pw", 0);
  p.dh = a.has("dh") ? a.geometry("dh", 1) : 1;
  p.dw = a.has("dw") ? a.geometry("dw", 1) : 1;
  p.ceilMode = a.has("ceilMode") ? a.flag("ceilMode") : false;
  p.countIncludePad = a.has("countIncludePad") ? a.flag("countIncludePad") : true;
  p.divisorOverride = a.has("divisorOverride") ? a.integer("divisorOverride") : 0;
  checked_product(a.env(), a.kernel(), {p.N, p.C, p.H, p.W});
  checked_product(a.env(), a.kernel(), {p.N, p.C, p.OH, p.OW});
  if (p.H * p.W > 2147483647) a.range_error("an input plane must have fewer than 2^31 elements (argmax is Int32)");
  // PyTorch's rule (the engine enforces it too): bounds the padding a window skips.
  if (2 * p.ph > p.kh || 2 * p.pw > p.kw) a.range_error("p.ph and p.pw must be at most half of p.kh and p.kw");
  // Window origins oh·sh − ph must stay inside the padded input (ceil mode: one more window).
  const int64_t fit_h = pooled_windows(p.H, p.kh, p.sh, p.ph, p.dh), fit_w = pooled_windows(p.W, p.kw, p.sw, p.pw, p.dw);
  if (p.OH > fit_h) a.range_error("p.OH (" + std::to_string(p.OH) + ") exceeds the " + std::to_string(fit_h) + " windows that fit in p.H with this kh, sh, ph, dh");
  if (p.OW > fit_w) a.range_error("p.OW (" + std::to_string(p.OW) + ") exceeds the " + std::to_string(fit_w) + " windows that fit in p.W with this kw, sw, pw, dw");
  if (p.divisorOverride < 0 || p.divisorOverride > kMaxGeometry * kMaxGeometry) a.range_error("p.divisorOverride must be in [0, 2^40]");
  return p;
}

int64_t in_size(const Pool2dParams& p) { return p.N * p.C * p.H * p.W; }
int64_t out_size(const Pool2dParams& p) { return p.N * p.C * p.OH * p.OW; }

Napi::Value MaxPool2d(const Napi::CallbackInfo& info) {
  Args a(info, "maxPool2d", 4);
  const Pool2dParams p = read_pool(a);
  const F32Arg x = a.f32(1, "x", in_size(p), "N·C·H·W");
  const F32Arg y = a.f32(2, "y", out_size(p), "N·C·OH·OW");
  const I32Arg am = a.i32(3, "argmax", out_size(p), "N·C·OH·OW");
  if (out_size(p) == 0) return a.env().Undefined();
  max_pool2d(p, x.data, y.data, am.data);
  return a.env().Undefined();
}

Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  Args a(info, "maxPool2dBackward", 4);
  const Pool2dParams p = read_pool(a);
  const F32Arg dy = a.f32(1, "dy", out_size(p), "N·C·OH·OW");
  const I32Arg am = a.i32(2, "argmax", out_size(p), "N·C·OH·OW");
  const F32Arg dx = a.f32(3, "dx", in_size(p), "N·C·H·W");
  if (in_size(p) == 0) return a.env().Undefined();
  if (max_pool2d_backward(p, dy.data, am.data, dx.data) != Status::kOk) {
    a.range_error("argument 'argmax' holds an index outside [0, H·W)");
  }
  return a.env().Undefined();
}

Napi::Value AvgPool2d(const Napi::CallbackInfo& info) {
  Args a(info, "avgPool2d", 3);
  const Pool2dParams p = read_pool(a);
  const F32Arg x = a.f32(1, "x", in_size(p), "N·C·H·W");
  const F32Arg y = a.f32(2, "y", out_size(p), "N·C·OH·OW");
  if (out_size(p) == 0) return a.env().Undefined();
  avg_pool2d(p, x.data, y.data);
  return a.env().Undefined();
}

Napi::Value AvgPool2dBackward(const Napi::CallbackInfo& info) {
  Args a(info, "avgPool2dBackward", 3);
  const Pool2dParams p = read_pool(a);
  const F32Arg dy = a.f32(1, "dy", out_size(p), "N·C·OH·OW");
  const F32Arg dx = a.f32(2, "dx", in_size(p), "N·C·H·W");
  if (in_size(p) == 0) return a.env().Undefined();
  avg_pool2d_backward(p, dy.data, dx.data);
  return a.env().Undefined();
}

AdaptivePool2dParams read_adaptive(const Args& a) {
  AdaptivePool2dParams p;
  p.N = a.size("N");
  p.C = a.size("C");
  p.H = a.size("H");
  p.W = a.size("W");
  p.OH = a.size("OH");
  p.OW = a.size("OW");
  checked_product(a.env(), a.kernel(), {p.N, p.C, p.H, p.W});
  checked_product(a.env(), a.kernel(), {p.N, p.C, p.OH, p.OW});
  // Cell bounds are computed as (i + 1)·H: keep that product countable.
  checked_product(a.env(), a.kernel(), {p.OH + 1, p.H});
  checked_product(a.env(), a.kernel(), {p.OW + 1, p.W});
  if (p.N * p.C > 0 && p.OH * p.OW > 0 && (p.H == 0 || p.W == 0)) a.range_error("p.H and p.W must be ≥ 1 for a non-empty output");
  return p;
}

Napi::Value AdaptiveAvgPool2d(const Napi::CallbackInfo& info) {
  Args a(info, "adaptiveAvgPool2d", 3);
  const AdaptivePool2dParams p = read_adaptive(a);
  const F32Arg x = a.f32(1, "x", p.N * p.C * p.H * p.W, "N·C·H·W");
  const F32Arg y = a.f32(2, "y", p.N * p.C * p.OH * p.OW, "N·C·OH·OW");
  if (p.N * p.C * p.OH * p.OW == 0) return a.env().Undefined();
  adaptive_avg_pool2d(p, x.data, y.data);
  return a.env().Undefined();
}

Napi::Value AdaptiveAvgPool2dBackward(const Napi::CallbackInfo& info) {
  Args a(info, "adaptiveAvgPool2dBackward", 3);
  const AdaptivePool2dParams p = read_adaptive(a);
  const F32Arg dy = a.f32(1, "dy", p.N * p.C * p.OH * p.OW, "N·C·OH·OW");
  const F32Arg dx = a.f32(2, "dx", p.N * p.C * p.H * p.W, "N·C·H·W");
  if (p.N * p.C * p.H * p.W == 0) return a.env().Undefined();
  adaptive_avg_pool2d_backward(p, dy.data, dx.data);
  return a.env().Undefined();
}

}  // namespace

void register_pool(Napi::Env env, Napi::Object exports) {
  define(env, exports, "maxPool2d", MaxPool2d);
  define(env, exports, "maxPool2dBackward", MaxPool2dBackward);
  define(env, exports, "avgPool2d", AvgPool2d);
  define(env, exports, "avgPool2dBackward", AvgPool2dBackward);
  define(env, exports, "adaptiveAvgPool2d", AdaptiveAvgPool2d);
  define(env, exports, "adaptiveAvgPool2dBackward", AdaptiveAvgPool2dBackward);
}

}  // namespace medianomaly::binding
