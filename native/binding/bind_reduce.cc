// reduceSum, reduceMax, softmax, logSoftmax and their backwards.
#include "args.h"
#include "medianomaly/reduce.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

ReduceParams read_reduce(const Args& a) {
  ReduceParams p;
  p.outer = a.size("outer");
  p.mid = a.size("mid");
  p.inner = a.size("inner");
  checked_product(a.env(), a.kernel(), {p.outer, p.mid, p.inner});
  // y holds outer·inner: with mid = 0 the product above says nothing about it.
  checked_product(a.env(), a.kernel(), {p.outer, p.inner});
  if (p.mid > 2147483647) a.range_error("p.mid must be < 2^31 (indices are Int32)");
  return p;
}

Napi::Value ReduceSum(const Napi::CallbackInfo& info) {
  Args a(info, "reduceSum", 3);
  const ReduceParams p = read_reduce(a);
  const F32Arg x = a.f32(1, "x", p.outer * p.mid * p.inner, "outer·mid·inner");
  const F32Arg y = a.f32(2, "y", p.outer * p.inner, "outer·inner");
  if (p.outer * p.inner == 0) return a.env().Undefined();  // y is empty
  reduce_sum(p, x.data, y.data);
  return a.env().Undefined();
}

Napi::Value ReduceMax(const Napi::CallbackInfo& info) {
  Args a(info, "reduceMax", 4);
  const ReduceParams p = read_reduce(a);
  const F32Arg x = a.f32(1, "x", p.outer * p.mid * p.inner, "outer·mid·inner");
  const F32Arg y = a.f32(2, "y", p.outer * p.inner, "outer·inner");
  const I32Arg am = a.i32(3, "argmax", p.outer * p.inner, "outer·inner");
  if (p.outer * p.inner == 0) return a.env().Undefined();
  reduce_max(p, x.data, y.data, am.data);
  return a.env().Undefined();
}

template <void (*Fn)(const ReduceParams&, const float*, float*)>
Napi::Value Forward(const Napi::CallbackInfo& info, const char* name) {
  Args a(info, name, 3);
  const ReduceParams p = read_reduce(a);
  const int64_t n = p.outer * p.mid * p.inner;
  const F32Arg x = a.f32(1, "x", n, "outer·mid·inner");
  const F32Arg y = a.f32(2, "y", n, "outer·mid·inner");
  if (n == 0) return a.env().Undefined();  // outer·inner may be huge with mid = 0: no loops
  Fn(p, x.data, y.data);
  return a.env().Undefined();
}

template <void (*Fn)(const ReduceParams&, const float*, const float*, float*)>
Napi::Value Backward(const Napi::CallbackInfo& info, const char* name) {
  Args a(info, name, 4);
  const ReduceParams p = read_reduce(a);
  const int64_t n = p.outer * p.mid * p.inner;
  const F32Arg y = a.f32(1, "y", n, "outer·mid·inner");
  const F32Arg dy = a.f32(2, "dy", n, "outer·mid·inner");
  const F32Arg dx = a.f32(3, "dx", n, "outer·mid·inner");
  if (n == 0) return a.env().Undefined();
  Fn(p, y.data, dy.data, dx.data);
  return a.env().Undefined();
}

Napi::Value Softmax(const Napi::CallbackInfo& i) { return Forward<softmax>(i, "softmax"); }
Napi::Value LogSoftmax(const Napi::CallbackInfo& i) { return Forward<log_softmax>(i, "logSoftmax"); }
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& i) { return Backward<softmax_backward>(i, "softmaxBackward"); }
Napi::Value LogSoftmaxBackward(const Napi::CallbackInfo& i) { return Backward<log_softmax_backward>(i, "logSoftmaxBackward"); }

}  // namespace

void register_reduce(Napi::Env env, Napi::Object exports) {
  define(env, exports, "reduceSum", ReduceSum);
  define(env, exports, "reduceMax", ReduceMax);
  define(env, exports, "softmax", Softmax);
  define(env, exports, "softmaxBackward", SoftmaxBackward);
  define(env, exports, "logSoftmax", LogSoftmax);
  define(env, exports, "logSoftmaxBackward", LogSoftmaxBackward);
}

}  // namespace medianomaly::binding
