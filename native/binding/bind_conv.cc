// conv2d, conv2dBackwardInput, conv2dBackwardWeight.
#include "args.h"
#include "medianomaly/conv.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

Conv2dParams read_conv(const Args& a) {
  Conv2dParams p;
  p.N = a.size("N");
  p.C = a.size("C");
  p.H = a.size("H");
  p.W = a.size("W");
  p.K = a.size("K");
  p.OH = a.size("OH");
  p.OW = a.size("OW");
  p.kh = a.positive("kh");
  p.kw = a.positive("kw");
  p.sh = a.positive("sh");
  p.sw = a.positive("sw");
  p.ph = a.size("ph");
  p.pw = a.size("pw");
  p.dh = a.positive("dh");
  p.dw = a.positive("dw");
  p.groups = a.positive("groups");
  if (p.C % p.groups != 0) a.range_error("p.C (" + std::to_string(p.C) + ") must be divisible by p.groups (" + std::to_string(p.groups) + ")");
  if (p.K % p.groups != 0) a.range_error("p.K (" + std::to_string(p.K) + ") must be divisible by p.groups (" + std::to_string(p.groups) + ")");
  checked_product(a.env(), a.kernel(), {p.N, p.C, p.H, p.W});
  checked_product(a.env(), a.kernel(), {p.N, p.K, p.OH, p.OW});
  checked_product(a.env(), a.kernel(), {p.C, p.kh, p.kw, p.N, p.OH, p.OW});
  return p;
}

int64_t x_size(const Conv2dParams& p) { return p.N * p.C * p.H * p.W; }
int64_t y_size(const Conv2dParams& p) { return p.N * p.K * p.OH * p.OW; }
int64_t w_size(const Conv2dParams& p) { return p.K * (p.C / p.groups) * p.kh * p.kw; }

Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  Args a(info, "conv2d", 5);
  const Conv2dParams p = read_conv(a);
  const F32Arg x = a.f32(1, "x", x_size(p), "N·C·H·W");
  const F32Arg w = a.f32(2, "w", w_size(p), "K·(C/groups)·kh·kw");
  const F32Arg bias = a.f32_or_null(3, "bias", p.K, "K");
  const F32Arg y = a.f32(4, "y", y_size(p), "N·K·OH·OW");
  throw_if_failed(a.env(), "conv2d", conv2d(p, x.data, w.data, bias.data, y.data));
  return a.env().Undefined();
}

Napi::Value Conv2dBackwardInput(const Napi::CallbackInfo& info) {
  Args a(info, "conv2dBackwardInput", 4);
  const Conv2dParams p = read_conv(a);
  const F32Arg dy = a.f32(1, "dy", y_size(p), "N·K·OH·OW");
  const F32Arg w = a.f32(2, "w", w_size(p), "K·(C/groups)·kh·kw");
  const F32Arg dx = a.f32(3, "dx", x_size(p), "N·C·H·W");
  throw_if_failed(a.env(), "conv2dBackwardInput", conv2d_backward_input(p, dy.data, w.data, dx.data));
  return a.env().Undefined();
}

Napi::Value Conv2dBackwardWeight(const Napi::CallbackInfo& info) {
  Args a(info, "conv2dBackwardWeight", 4);
  const Conv2dParams p = read_conv(a);
  const F32Arg x = a.f32(1, "x", x_size(p), "N·C·H·W");
  const F32Arg dy = a.f32(2, "dy", y_size(p), "N·K·OH·OW");
  const F32Arg dw = a.f32(3, "dw", w_size(p), "K·(C/groups)·kh·kw");
  throw_if_failed(a.env(), "conv2dBackwardWeight", conv2d_backward_weight(p, x.data, dy.data, dw.data));
  return a.env().Undefined();
}

}  // namespace

void register_conv(Napi::Env env, Napi::Object exports) {
  define(env, exports, "conv2d", Conv2d);
  define(env, exports, "conv2dBackwardInput", Conv2dBackwardInput);
  define(env, exports, "conv2dBackwardWeight", Conv2dBackwardWeight);
}

}  // namespace medianomaly::binding
