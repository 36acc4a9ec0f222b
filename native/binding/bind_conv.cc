// conv2d, conv2dBackwardInput, conv2dBackwardWeight, and the inference path conv2dEvalPack / conv2dEval.
#include "args.h"
#include "medianomaly/conv.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

/** Largest padded input (elements) a conv accepts: the engine's tensor limit. */
constexpr int64_t kMaxPadded = (int64_t{1} << 31) - 1;

/** How many windows of the dilated kernel fit along one padded axis (≤ 0 when none). */
int64_t windows(int64_t size, int64_t k, int64_t s, int64_t pad, int64_t d) {
  const int64_t span = size + 2 * pad - d * (k - 1) - 1;  // ≤ 2^53 + 2^21: no overflow
  return span < 0 ? 0 : span / s + 1;
}

Conv2dParams read_conv(const Args& a) {
  Conv2dParams p;
  p.N = a.size("N");
  p.C = a.size("C");
  p.H = a.size("H");
  p.W = a.size("W");
  p.K = a.size("K");
  p.OH = a.size("OH");
  p.OW = a.size("OW");
  p.kh = a.geometry("kh", 1);
  p.kw = a.geometry("kw", 1);
  p.sh = a.geometry("sh", 1);
  p.sw = a.geometry("sw", 1);
  p.ph = a.geometry("ph", 0);
  p.pw = a.geometry("pw", 0);
  p.dh = a.geometry("dh", 1);
  p.dw = a.geometry("dw", 1);
  p.groups = a.positive("groups");
  if (p.C % p.groups != 0) a.range_error("p.C (" + std::to_string(p.C) + ") must be divisible by p.groups (" + std::to_string(p.groups) + ")");
  if (p.K % p.groups != 0) a.range_error("p.K (" + std::to_string(p.K) + ") must be divisible by p.groups (" + std::to_string(p.groups) + ")");
  checked_product(a.env(), a.kernel(), {p.N, p.C, p.H, p.W});
  checked_product(a.env(), a.kernel(), {p.N, p.K, p.OH, p.OW});
  checked_product(a.env(), a.kernel(), {p.C, p.kh, p.kw, p.N, p.OH, p.OW});
  checked_product(a.env(), a.kernel(), {p.K, p.C, p.kh, p.kw});
  // Products the kernels form per image (taps × output pixels, planes × pixels), checked
  // without N: with N = 0 the products above are 0 and bound nothing.
  checked_product(a.env(), a.kernel(), {p.C + p.K, p.kh, p.kw, p.OH, p.OW});
  checked_product(a.env(), a.kernel(), {p.C + p.K, p.H + 2 * p.ph, p.W + 2 * p.pw});
  // Output positions beyond the windows that fit would read past the padded input (the
  // transposed conv legitimately passes fewer, with output padding, never more).
  const int64_t fit_h = windows(p.H, p.kh, p.sh, p.ph, p.dh), fit_w = windows(p.W, p.kw, p.sw, p.pw, p.dw);
  if (p.OH > fit_h) a.range_error("p.OH (" + std::to_string(p.OH) + ") exceeds the " + std::to_string(fit_h) + " windows that fit in p.H with this kh, sh, ph, dh");
  if (p.OW > fit_w) a.range_error("p.OW (" + std::to_string(p.OW) + ") exceeds the " + std::to_string(fit_w) + " windows that fit in p.W with this kw, sw, pw, dw");
  // The kernels pad the input once; the engine's limit on that padded tensor, restated.
  if (checked_product(a.env(), a.kernel(), {p.N, p.C, p.H + 2 * p.ph, p.W + 2 * p.pw}) > kMaxPadded) {
    a.range_error("the padded input N·C·(H+2·ph)·(W+2·pw) must have at most 2^31 − 1 elements; reduce p.ph/p.pw");
  }
  checked_product(a.env(), a.kernel(), {p.N, p.K, p.OH + p.kh + 1, p.OW + p.kw + 16});
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
  if (y_size(p) == 0) return a.env().Undefined();  // nothing to write (see args.h: no unbacked loops)
  throw_if_failed(a.env(), "conv2d", conv2d(p, x.data, w.data, bias.data, y.data));
  return a.env().Undefined();
}

Napi::Value Conv2dBackwardInput(const Napi::CallbackInfo& info) {
  Args a(info, "conv2dBackwardInput", 4);
  const Conv2dParams p = read_conv(a);
  const F32Arg dy = a.f32(1, "dy", y_size(p), "N·K·OH·OW");
  const F32Arg w = a.f32(2, "w", w_size(p), "K·(C/groups)·kh·kw");
  const F32Arg dx = a.f32(3, "dx", x_size(p), "N·C·H·W");
  if (x_size(p) == 0) return a.env().Undefined();
  throw_if_failed(a.env(), "conv2dBackwardInput", conv2d_backward_input(p, dy.data, w.data, dx.data));
  return a.env().Undefined();
}

Napi::Value Conv2dBackwardWeight(const Napi::CallbackInfo& info) {
  Args a(info, "conv2dBackwardWeight", 4);
  const Conv2dParams p = read_conv(a);
  const F32Arg x = a.f32(1, "x", x_size(p), "N·C·H·W");
  const F32Arg dy = a.f32(2, "dy", y_size(p), "N·K·OH·OW");
  const F32Arg dw = a.f32(3, "dw", w_size(p), "K·(C/groups)·kh·kw");
  if (w_size(p) == 0) return a.env().Undefined();
  throw_if_failed(a.env(), "conv2dBackwardWeight", conv2d_backward_weight(p, x.data, dy.data, dw.data));
  return a.env().Undefined();
}

/** The layer's input and output sizes for conv2dEval (transposed: p's roles swapped). */
int64_t eval_in_size(const Conv2dParams& p, bool transposed) { return transposed ? y_size(p) : x_size(p); }
int64_t eval_out_size(const Conv2dParams& p, bool transposed) { return transposed ? x_size(p) : y_size(p); }

Conv2dParams read_eval(const Args& a) {
  const Conv2dParams p = read_conv(a);
  if (!conv2d_eval_supported(p)) {
    a.range_error("only 4×4 kernels with stride 2, padding 1, dilation 1 and groups 1 (p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw, p.groups)");
  }
  return p;
}

Napi::Value Conv2dEvalPack(const Napi::CallbackInfo& info) {
  Args a(info, "conv2dEvalPack", 3);
  const Conv2dParams p = read_eval(a);
  const bool transposed = a.flag("transposed");
  const F32Arg w = a.f32(1, "w", w_size(p), "K·C·4·4");
  const F32Arg u = a.f32(2, "u", conv2d_eval_pack_size(p, transposed), "100·⌈Cin/16⌉·16·⌈Cout/16⌉·16");
  throw_if_failed(a.env(), "conv2dEvalPack", conv2d_eval_pack(p, transposed, w.data, u.data));
  return a.env().Undefined();
}

Napi::Value Conv2dEval(const Napi::CallbackInfo& info) {
  Args a(info, "conv2dEval", 7);
  const Conv2dParams p = read_eval(a);
  const bool transposed = a.flag("transposed");
  const bool relu = a.flag("relu");
  const int64_t cout = transposed ? p.C : p.K;
  const F32Arg x = a.f32(1, "x", eval_in_size(p, transposed), transposed ? "N·K·OH·OW" : "N·C·H·W");
  const F32Arg w = a.f32(2, "w", w_size(p), "K·C·4·4");
  const F32Arg u = a.f32(3, "u", conv2d_eval_pack_size(p, transposed), "100·⌈Cin/16⌉·16·⌈Cout/16⌉·16");
  const F32Arg scale = a.f32_or_null(4, "scale", cout, "output channels");
  const F32Arg shift = a.f32_or_null(5, "shift", cout, "output channels");
  const F32Arg y = a.f32(6, "y", eval_out_size(p, transposed), transposed ? "N·C·H·W" : "N·K·OH·OW");
  if (eval_out_size(p, transposed) == 0) return a.env().Undefined();
  throw_if_failed(a.env(), "conv2dEval", conv2d_eval(p, transposed, x.data, w.data, u.data, scale.data, shift.data, relu, y.data));
  return a.env().Undefined();
}

}  // namespace

void register_conv(Napi::Env env, Napi::Object exports) {
  define(env, exports, "conv2d", Conv2d);
  define(env, exports, "conv2dBackwardInput", Conv2dBackwardInput);
  define(env, exports, "conv2dBackwardWeight", Conv2dBackwardWeight);
  define(env, exports, "conv2dEvalPack", Conv2dEvalPack);
  define(env, exports, "conv2dEval", Conv2dEval);
}

}  // namespace medianomaly::binding
