// gemm, gemmBatched.
#include "args.h"
#include "medianomaly/gemm.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

GemmParams read_gemm(const Args& a) {
  GemmParams p;
  p.M = a.size("M");
  p.N = a.size("N");
  p.K = a.size("K");
  p.transA = a.flag("transA");
  p.transB = a.flag("transB");
  p.alpha = static_cast<float>(a.number("alpha"));
  p.beta = static_cast<float>(a.number("beta"));
  return p;
}

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Args a(info, "gemm", 4);
  const GemmParams p = read_gemm(a);
  const F32Arg A = a.f32(1, "a", checked_product(a.env(), "gemm", {p.M, p.K}), "M·K");
  const F32Arg B = a.f32(2, "b", checked_product(a.env(), "gemm", {p.K, p.N}), "K·N");
  const F32Arg C = a.f32(3, "c", checked_product(a.env(), "gemm", {p.M, p.N}), "M·N");
  if (p.M * p.N == 0) return a.env().Undefined();  // C is empty: nothing to write
  throw_if_failed(a.env(), "gemm", sgemm(p, A.data, B.data, C.data));
  return a.env().Undefined();
}

Napi::Value GemmBatched(const Napi::CallbackInfo& info) {
  Args a(info, "gemmBatched", 4);
  const GemmParams p = read_gemm(a);
  const int64_t batch = a.size("batch");
  const F32Arg A = a.f32(1, "a", checked_product(a.env(), "gemmBatched", {batch, p.M, p.K}), "batch·M·K");
  const F32Arg B = a.f32(2, "b", checked_product(a.env(), "gemmBatched", {batch, p.K, p.N}), "batch·K·N");
  const F32Arg C = a.f32(3, "c", checked_product(a.env(), "gemmBatched", {batch, p.M, p.N}), "batch·M·N");
  if (batch * p.M * p.N == 0) return a.env().Undefined();
  throw_if_failed(a.env(), "gemmBatched", sgemm_batched(p, batch, A.data, B.data, C.data));
  return a.env().Undefined();
}

}  // namespace

void register_gemm(Napi::Env env, Napi::Object exports) {
  define(env, exports, "gemm", Gemm);
  define(env, exports, "gemmBatched", GemmBatched);
}

}  // namespace medianomaly::binding
