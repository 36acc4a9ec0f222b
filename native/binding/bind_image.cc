// pad2d, pooling and upsampling.
#include <cmath>

#include "args.h"
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
  pad2d(p, x.data, y.data);
  return a.env().Undefined();
}

Napi::Value Pad2dBackward(const Napi::CallbackInfo& info) {
  Args a(info, "pad2dBackward", 3);
  const Pad2dParams p = read_pad(a);
  const F32Arg dy = a.f32(1, "dy", p.NC * (p.H + p.top + p.bottom) * (p.W + p.left + p.right),
                          "NC·(H+top+bottom)·(W+left+right)");
  const F32Arg dx = a.f32(2, "dx", checked_product(a.env(), "pad2dBackward", {p.NC, p.H, p.W}), "NC·H·W");
  pad2d_backward(p, dy.data, dx.data);
  return a.env().Undefined();
}

Pool2dParams read_pool(const Args& a) {
  Pool2dParams p;
  p.N = a.size("N");
  p.C = a.size("C");
  p.H = a.size("H");
  p.W = a.size("W");
  p.OH = a.size("OH");
  p.OW = a.size("OW");
  p.kh = a.positive("kh");
  p.kw = a.positive("kw");
  p.sh = a.positive("sh");
  p.sw = a.positive("sw");
  p.ph = a.size("ph");
  p.pw = a.size("pw");
  p.dh = a.has("dh") ? a.positive("dh") : 1;
  p.dw = a.has("dw") ? a.positive("dw") : 1;
  p.ceilMode = a.has("ceilMode") ? a.flag("ceilMode") : false;
  p.countIncludePad = a.has("countIncludePad") ? a.flag("countIncludePad") : true;
  p.divisorOverride = a.has("divisorOverride") ? a.integer("divisorOverride") : 0;
  checked_product(a.env(), a.kernel(), {p.N, p.C, p.H, p.W});
  checked_product(a.env(), a.kernel(), {p.N, p.C, p.OH, p.OW});
  if (p.H * p.W > 2147483647) a.range_error("an input plane must have fewer than 2^31 elements (argmax is Int32)");
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
  max_pool2d(p, x.data, y.data, am.data);
  return a.env().Undefined();
}

Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  Args a(info, "maxPool2dBackward", 4);
  const Pool2dParams p = read_pool(a);
  const F32Arg dy = a.f32(1, "dy", out_size(p), "N·C·OH·OW");
  const I32Arg am = a.i32(2, "argmax", out_size(p), "N·C·OH·OW");
  const F32Arg dx = a.f32(3, "dx", in_size(p), "N·C·H·W");
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
  avg_pool2d(p, x.data, y.data);
  return a.env().Undefined();
}

Napi::Value AvgPool2dBackward(const Napi::CallbackInfo& info) {
  Args a(info, "avgPool2dBackward", 3);
  const Pool2dParams p = read_pool(a);
  const F32Arg dy = a.f32(1, "dy", out_size(p), "N·C·OH·OW");
  const F32Arg dx = a.f32(2, "dx", in_size(p), "N·C·H·W");
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
  return p;
}

Napi::Value AdaptiveAvgPool2d(const Napi::CallbackInfo& info) {
  Args a(info, "adaptiveAvgPool2d", 3);
  const AdaptivePool2dParams p = read_adaptive(a);
  const F32Arg x = a.f32(1, "x", p.N * p.C * p.H * p.W, "N·C·H·W");
  const F32Arg y = a.f32(2, "y", p.N * p.C * p.OH * p.OW, "N·C·OH·OW");
  adaptive_avg_pool2d(p, x.data, y.data);
  return a.env().Undefined();
}

Napi::Value AdaptiveAvgPool2dBackward(const Napi::CallbackInfo& info) {
  Args a(info, "adaptiveAvgPool2dBackward", 3);
  const AdaptivePool2dParams p = read_adaptive(a);
  const F32Arg dy = a.f32(1, "dy", p.N * p.C * p.OH * p.OW, "N·C·OH·OW");
  const F32Arg dx = a.f32(2, "dx", p.N * p.C * p.H * p.W, "N·C·H·W");
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
  if (p.N * p.C * p.OH * p.OW > 0 && (p.H == 0 || p.W == 0)) a.range_error("p.H and p.W must be ≥ 1 for a non-empty output");
  checked_product(a.env(), a.kernel(), {p.N, p.C, p.H, p.W});
  checked_product(a.env(), a.kernel(), {p.N, p.C, p.OH, p.OW});
  return p;
}

template <void (*Fn)(const Upsample2dParams&, const float*, float*), bool Backward>
Napi::Value Upsample(const Napi::CallbackInfo& info, const char* name) {
  Args a(info, name, 3);
  const Upsample2dParams p = read_upsample(a);
  const int64_t in = p.N * p.C * p.H * p.W, out = p.N * p.C * p.OH * p.OW;
  const F32Arg src = Backward ? a.f32(1, "dy", out, "N·C·OH·OW") : a.f32(1, "x", in, "N·C·H·W");
  const F32Arg dst = Backward ? a.f32(2, "dx", in, "N·C·H·W") : a.f32(2, "y", out, "N·C·OH·OW");
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
