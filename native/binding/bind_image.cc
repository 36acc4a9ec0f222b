// pad2d, pooling and upsampling.
#include <cmath>

#include "args.h"
#include "medianomaly/elementwise.h"
#include "medianomaly/pad.h"
#include "medianomaly/pool.h"
#include "medianomaly/upsample.h"
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

Upsample2dParams read_upsample(const Args& a) {
  Upsample2dParams p;
  p.N = a.size("N");
  p.C = a.size("C");
  p.H = a.size("H");
  p.W = a.size("W");
  p.OH = a.size("OH");
  p.OW = a.size("OW");
  p.alignCorners = a.flag("alignCorners");
  p.scaleH = a.number("scaleH");
  p.scaleW = a.number("scaleW");
  if (!(std::isfinite(p.scaleH) && p.scaleH >= 0)) a.range_error("p.scaleH must be a finite number ≥ 0");
  if (!(std::isfinite(p.scaleW) && p.scaleW >= 0)) a.range_error("p.scaleW must be a finite number ≥ 0");
  checked_product(a.env(), a.kernel(), {p.N, p.C, p.H, p.W});
  checked_product(a.env(), a.kernel(), {p.N, p.C, p.OH, p.OW});
  if (p.N * p.C * p.OH * p.OW > 0 && (p.H == 0 || p.W == 0)) a.range_error("p.H and p.W must be ≥ 1 for a non-empty output");
  return p;
}

template <void (*Fn)(const Upsample2dParams&, const float*, float*), bool Backward>
Napi::Value Upsample(const Napi::CallbackInfo& info, const char* name) {
  Args a(info, name, 3);
  const Upsample2dParams p = read_upsample(a);
  const int64_t in = p.N * p.C * p.H * p.W, out = p.N * p.C * p.OH * p.OW;
  const F32Arg src = Backward ? a.f32(1, "dy", out, "N·C·OH·OW") : a.f32(1, "x", in, "N·C·H·W");
  const F32Arg dst = Backward ? a.f32(2, "dx", in, "N·C·H·W") : a.f32(2, "y", out, "N·C·OH·OW");
  if ((Backward ? in : out) == 0) return a.env().Undefined();  // nothing to write
  if (out == 0) {
    // Backward of an empty output: dx = 0. Not the kernel: it builds OH- and OW-long
    // index tables, and one of them may be huge while the other is 0.
    fill(in, 0.0f, dst.data);
    return a.env().Undefined();
  }
  Fn(p, src.data, dst.data);
  return a.env().Undefined();
}

Napi::Value UpsampleBilinear(const Napi::CallbackInfo& i) { return Upsample<upsample_bilinear2d, false>(i, "upsampleBilinear2d"); }
Napi::Value UpsampleBilinearBackward(const Napi::CallbackInfo& i) {
  return Upsample<upsample_bilinear2d_backward, true>(i, "upsampleBilinear2dBackward");
}
Napi::Value UpsampleNearest(const Napi::CallbackInfo& i) { return Upsample<upsample_nearest2d, false>(i, "upsampleNearest2d"); }
Napi::Value UpsampleNearestBackward(const Napi::CallbackInfo& i) {
  return Upsample<upsample_nearest2d_backward, true>(i, "upsampleNearest2dBackward");
}

}  // namespace

void register_image(Napi::Env env, Napi::Object exports) {
  define(env, exports, "pad2d", Pad2d);
  define(env, exports, "pad2dBackward", Pad2dBackward);
  define(env, exports, "maxPool2d", MaxPool2d);
  define(env, exports, "maxPool2dBackward", MaxPool2dBackward);
  define(env, exports, "avgPool2d", AvgPool2d);
  define(env, exports, "avgPool2dBackward", AvgPool2dBackward);
  define(env, exports, "adaptiveAvgPool2d", AdaptiveAvgPool2d);
  define(env, exports, "adaptiveAvgPool2dBackward", AdaptiveAvgPool2dBackward);
  define(env, exports, "upsampleBilinear2d", UpsampleBilinear);
  define(env, exports, "upsampleBilinear2dBackward", UpsampleBilinearBackward);
  define(env, exports, "upsampleNearest2d", UpsampleNearest);
  define(env, exports, "upsampleNearest2dBackward", UpsampleNearestBackward);
}

}  // namespace medianomaly::binding
