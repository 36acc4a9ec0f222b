// bilinear and nearest upsampling, with their backwards.
#include <cmath>

#include "args.h"
#include "medianomaly/copy.h"
#include "medianomaly/upsample.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

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

void register_upsample(Napi::Env env, Napi::Object exports) {
  define(env, exports, "upsampleBilinear2d", UpsampleBilinear);
  define(env, exports, "upsampleBilinear2dBackward", UpsampleBilinearBackward);
  define(env, exports, "upsampleNearest2d", UpsampleNearest);
  define(env, exports, "upsampleNearest2dBackward", UpsampleNearestBackward);
}

}  // namespace medianomaly::binding
