// groupNormSiluForward / groupNormSiluBackward: GroupNorm → SiLU fused (diffusion U-Nets).
#include "args.h"
#include "group_norm_args.h"
#include "medianomaly/copy.h"
#include "medianomaly/group_norm_silu.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

bool overlaps(const float* a, const float* b, int64_t n) { return n > 0 && a < b + n && b < a + n; }

Napi::Value GroupNormSiluForward(const Napi::CallbackInfo& info) {
  Args a(info, "groupNormSiluForward", 7);
  GroupNormParams p = read_group_norm(a);
  const int64_t n = p.N * p.C * p.HW;
  const F32Arg x = a.f32(1, "x", n, "N·C·HW");
  const F32Arg gamma = a.f32_or_null(2, "gamma", p.C, "C");
  const F32Arg beta = a.f32_or_null(3, "beta", p.C, "C");
  const F32Arg y = a.f32(4, "y", n, "N·C·HW");
  const F32Arg mean = a.f32(5, "mean", p.N * p.G, "N·G");
  const F32Arg invstd = a.f32(6, "invstd", p.N * p.G, "N·G");
  // With HW = 0 every group is empty whatever C is (mean 0, invstd 1/√eps): drop C to G
  // so the per-channel loops stay bounded by the arrays (as groupNormForward does).
  if (p.HW == 0) p.C = p.G;
  group_norm_silu_forward(p, x.data, gamma.data, beta.data, y.data, mean.data, invstd.data);
  return a.env().Undefined();
}

Napi::Value GroupNormSiluBackward(const Napi::CallbackInfo& info) {
  Args a(info, "groupNormSiluBackward", 10);
  const GroupNormParams p = read_group_norm(a);
  const int64_t n = p.N * p.C * p.HW;
  const F32Arg x = a.f32(1, "x", n, "N·C·HW");
  const F32Arg dy = a.f32(2, "dy", n, "N·C·HW");
  const F32Arg mean = a.f32(3, "mean", p.N * p.G, "N·G");
  const F32Arg invstd = a.f32(4, "invstd", p.N * p.G, "N·G");
  const F32Arg gamma = a.f32_or_null(5, "gamma", p.C, "C");
  const F32Arg beta = a.f32_or_null(6, "beta", p.C, "C");
  const F32Arg dx = a.f32(7, "dx", n, "N·C·HW");
  const F32Arg dgamma = a.f32_or_null(8, "dgamma", p.C, "C");
  const F32Arg dbeta = a.f32_or_null(9, "dbeta", p.C, "C");
  if (overlaps(dx.data, x.data, n) || overlaps(dx.data, dy.data, n)) {
    a.range_error("dx must not share memory with x or dy (it holds intermediate gradients until the last pass)");
  }
  if (n == 0) {
    // No elements: dx is empty and dgamma, dbeta are sums over nothing.
    if (dgamma.data) fill(p.C, 0.0f, dgamma.data);
    if (dbeta.data) fill(p.C, 0.0f, dbeta.data);
    return a.env().Undefined();
  }
  group_norm_silu_backward(p, x.data, dy.data, mean.data, invstd.data, gamma.data, beta.data, dx.data, dgamma.data,
                           dbeta.data);
  return a.env().Undefined();
}

}  // namespace

void register_group_norm_silu(Napi::Env env, Napi::Object exports) {
  define(env, exports, "groupNormSiluForward", GroupNormSiluForward);
  define(env, exports, "groupNormSiluBackward", GroupNormSiluBackward);
}

}  // namespace medianomaly::binding
