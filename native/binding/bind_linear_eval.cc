// linearEvalPack, linearEval.
#include "args.h"
#include "medianomaly/linear_eval.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

LinearEvalParams read_linear_eval(const Args& a) {
  LinearEvalParams p;
  p.N = a.size("N");
  p.in = a.size("in");
  p.out = a.size("out");
  checked_product(a.env(), a.kernel(), {p.N, p.in});
  checked_product(a.env(), a.kernel(), {p.N, p.out});
  checked_product(a.env(), a.kernel(), {p.out + 16, p.in});
  return p;
}

Napi::Value LinearEvalPack(const Napi::CallbackInfo& info) {
  Args a(info, "linearEvalPack", 3);
  const LinearEvalParams p = read_linear_eval(a);
  const F32Arg w = a.f32(1, "w", p.out * p.in, "out·in");
  const F32Arg u = a.f32(2, "u", linear_eval_pack_size(p), "⌈out/16⌉·16·in");
  if (linear_eval_pack_size(p) == 0) return a.env().Undefined();
  throw_if_failed(a.env(), "linearEvalPack", linear_eval_pack(p, w.data, u.data));
  return a.env().Undefined();
}

Napi::Value LinearEval(const Napi::CallbackInfo& info) {
  Args a(info, "linearEval", 7);
  LinearEvalParams p = read_linear_eval(a);
  p.relu = a.flag("relu");
  const F32Arg x = a.f32(1, "x", p.N * p.in, "N·in");
  const F32Arg w = a.f32(2, "w", p.out * p.in, "out·in");
  const F32Arg u = a.f32(3, "u", linear_eval_pack_size(p), "⌈out/16⌉·16·in");
  const F32Arg scale = a.f32_or_null(4, "scale", p.out, "out");
  const F32Arg shift = a.f32_or_null(5, "shift", p.out, "out");
  const F32Arg y = a.f32(6, "y", p.N * p.out, "N·out");
  if (p.N * p.out == 0) return a.env().Undefined();
  throw_if_failed(a.env(), "linearEval", linear_eval(p, x.data, w.data, u.data, scale.data, shift.data, y.data));
  return a.env().Undefined();
}

}  // namespace

void register_linear_eval(Napi::Env env, Napi::Object exports) {
  define(env, exports, "linearEvalPack", LinearEvalPack);
  define(env, exports, "linearEval", LinearEval);
}

}  // namespace medianomaly::binding
