// batchNormStats / Apply / Backward, groupNormForward / Backward.
#include "args.h"
#include "group_norm_args.h"
#include "medianomaly/copy.h"
#include "medianomaly/norm.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

ChannelParams read_channels(const Args& a) {
  ChannelParams p;
  p.N = a.size("N");
  p.C = a.size("C");
  p.HW = a.size("HW");
  checked_product(a.env(), a.kernel(), {p.N, p.C, p.HW});
  // With no elements the results do not depend on N or HW (sums over nothing), but the
  // kernels would still loop over N·C planes: normalise so the work is bounded by C.
  if (p.N * p.HW == 0) p.N = p.HW = 0;
  return p;
}

Napi::Value BatchNormStats(const Napi::CallbackInfo& info) {
  Args a(info, "batchNormStats", 4);
  const ChannelParams p = read_channels(a);
  const F32Arg x = a.f32(1, "x", p.N * p.C * p.HW, "N·C·HW");
  const F32Arg mean = a.f32(2, "mean", p.C, "C");
  const F32Arg var = a.f32(3, "variance", p.C, "C");
  batch_norm_stats(p, x.data, mean.data, var.data);
  return a.env().Undefined();
}

Napi::Value BatchNormApply(const Napi::CallbackInfo& info) {
  Args a(info, "batchNormApply", 7);
  const ChannelParams p = read_channels(a);
  const F32Arg x = a.f32(1, "x", p.N * p.C * p.HW, "N·C·HW");
  const F32Arg mean = a.f32(2, "mean", p.C, "C");
  const F32Arg invstd = a.f32(3, "invstd", p.C, "C");
  const F32Arg gamma = a.f32_or_null(4, "gamma", p.C, "C");
  const F32Arg beta = a.f32_or_null(5, "beta", p.C, "C");
  const F32Arg y = a.f32(6, "y", p.N * p.C * p.HW, "N·C·HW");
  batch_norm_apply(p, x.data, mean.data, invstd.data, gamma.data, beta.data, y.data);
  return a.env().Undefined();
}

// y may be x itself (in place, the eval-time fusion's use); any other overlap is rejected.
Napi::Value BatchNormApplyRelu(const Napi::CallbackInfo& info) {
  Args a(info, "batchNormApplyRelu", 7);
  const ChannelParams p = read_channels(a);
  const F32Arg x = a.f32(1, "x", p.N * p.C * p.HW, "N·C·HW");
  const F32Arg mean = a.f32(2, "mean", p.C, "C");
  const F32Arg invstd = a.f32(3, "invstd", p.C, "C");
  const F32Arg gamma = a.f32_or_null(4, "gamma", p.C, "C");
  const F32Arg beta = a.f32_or_null(5, "beta", p.C, "C");
  const F32Arg y = a.f32(6, "y", p.N * p.C * p.HW, "N·C·HW");
  const int64_t n = p.N * p.C * p.HW;
  if (x.data != y.data && x.data < y.data + n && y.data < x.data + n) {
    a.range_error("y overlaps x without being x itself (in place must be exact)");
  }
  batch_norm_apply_relu(p, x.data, mean.data, invstd.data, gamma.data, beta.data, y.data);
  return a.env().Undefined();
}

Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "batchNormBackward", 9);
  const ChannelParams p = read_channels(a);
  const bool training = a.flag("training");
  const int64_t n = p.N * p.C * p.HW;
  const F32Arg x = a.f32(1, "x", n, "N·C·HW");
  const F32Arg dy = a.f32(2, "dy", n, "N·C·HW");
  const F32Arg mean = a.f32(3, "mean", p.C, "C");
  const F32Arg invstd = a.f32(4, "invstd", p.C, "C");
  const F32Arg gamma = a.f32_or_null(5, "gamma", p.C, "C");
  const F32Arg dx = a.f32(6, "dx", n, "N·C·HW");
  const F32Arg dgamma = a.f32_or_null(7, "dgamma", p.C, "C");
  const F32Arg dbeta = a.f32_or_null(8, "dbeta", p.C, "C");
  batch_norm_backward(p, training, x.data, dy.data, mean.data, invstd.data, gamma.data, dx.data, dgamma.data,
                      dbeta.data);
  return a.env().Undefined();
}

Napi::Value GroupNormForward(const Napi::CallbackInfo& info) {
  Args a(info, "groupNormForward", 7);
  const GroupNormParams p = read_group_norm(a);
  const int64_t n = p.N * p.C * p.HW;
  const F32Arg x = a.f32(1, "x", n, "N·C·HW");
  const F32Arg gamma = a.f32_or_null(2, "gamma", p.C, "C");
  const F32Arg beta = a.f32_or_null(3, "beta", p.C, "C");
  const F32Arg y = a.f32(4, "y", n, "N·C·HW");
  const F32Arg mean = a.f32(5, "mean", p.N * p.G, "N·G");
  const F32Arg invstd = a.f32(6, "invstd", p.N * p.G, "N·G");
  // With HW = 0 every group is empty whatever C is (mean 0, invstd 1/√eps): drop C to G
  // so the per-channel loops stay bounded by the arrays (C is unbacked then).
  GroupNormParams q = p;
  if (q.HW == 0) q.C = q.G;
  group_norm_forward(q, x.data, gamma.data, beta.data, y.data, mean.data, invstd.data);
  return a.env().Undefined();
}

Napi::Value GroupNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "groupNormBackward", 9);
  const GroupNormParams p = read_group_norm(a);
  const int64_t n = p.N * p.C * p.HW;
  const F32Arg x = a.f32(1, "x", n, "N·C·HW");
  const F32Arg dy = a.f32(2, "dy", n, "N·C·HW");
  const F32Arg mean = a.f32(3, "mean", p.N * p.G, "N·G");
  const F32Arg invstd = a.f32(4, "invstd", p.N * p.G, "N·G");
  const F32Arg gamma = a.f32_or_null(5, "gamma", p.C, "C");
  const F32Arg dx = a.f32(6, "dx", n, "N·C·HW");
  const F32Arg dgamma = a.f32_or_null(7, "dgamma", p.C, "C");
  const F32Arg dbeta = a.f32_or_null(8, "dbeta", p.C, "C");
  if (n == 0) {
    // No elements: dx is empty and dgamma, dbeta are sums over nothing.
    if (dgamma.data) fill(p.C, 0.0f, dgamma.data);
    if (dbeta.data) fill(p.C, 0.0f, dbeta.data);
    return a.env().Undefined();
  }
  group_norm_backward(p, x.data, dy.data, mean.data, invstd.data, gamma.data, dx.data, dgamma.data, dbeta.data);
  return a.env().Undefined();
}

}  // namespace

void register_norm(Napi::Env env, Napi::Object exports) {
  define(env, exports, "batchNormStats", BatchNormStats);
  define(env, exports, "batchNormApply", BatchNormApply);
  define(env, exports, "batchNormApplyRelu", BatchNormApplyRelu);
  define(env, exports, "batchNormBackward", BatchNormBackward);
  define(env, exports, "groupNormForward", GroupNormForward);
  define(env, exports, "groupNormBackward", GroupNormBackward);
}

}  // namespace medianomaly::binding
