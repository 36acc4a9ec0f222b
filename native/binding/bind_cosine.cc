// cosineDistance, cosineDistanceBackward: 1 − cos over the middle axis of [outer, mid, inner].
#include <cmath>

#include "args.h"
#include "medianomaly/cosine.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

struct Sizes {
  CosineParams p;
  int64_t n = 0;  // outer·mid·inner
  int64_t k = 0;  // outer·inner
};

Sizes read_cosine(const Args& a) {
  Sizes s;
  s.p.outer = a.size("outer");
  s.p.mid = a.size("mid");
  s.p.inner = a.size("inner");
  const double eps = a.number("eps");
  if (!(eps >= 0.0) || !std::isfinite(eps)) a.range_error("p.eps must be a finite number ≥ 0");
  s.p.eps = eps;
  s.n = checked_product(a.env(), a.kernel(), {s.p.outer, s.p.mid, s.p.inner});
  // The outputs hold outer·inner: with mid = 0 the product above says nothing about them.
  s.k = checked_product(a.env(), a.kernel(), {s.p.outer, s.p.inner});
  return s;
}

Napi::Value CosineDistance(const Napi::CallbackInfo& info) {
  Args a(info, "cosineDistance", 5);
  const Sizes s = read_cosine(a);
  const F32Arg x = a.f32(1, "a", s.n, "outer·mid·inner");
  const F32Arg y = a.f32(2, "b", s.n, "outer·mid·inner");
  const F32Arg d = a.f32(3, "d", s.k, "outer·inner");
  const F32Arg st = a.f32(4, "stats", 3 * s.k, "3·outer·inner");
  if (s.k == 0) return a.env().Undefined();  // no outputs
  cosine_distance(s.p, x.data, y.data, d.data, st.data);
  return a.env().Undefined();
}

Napi::Value CosineDistanceBackward(const Napi::CallbackInfo& info) {
  Args a(info, "cosineDistanceBackward", 7);
  const Sizes s = read_cosine(a);
  const F32Arg x = a.f32(1, "a", s.n, "outer·mid·inner");
  const F32Arg y = a.f32(2, "b", s.n, "outer·mid·inner");
  const F32Arg st = a.f32(3, "stats", 3 * s.k, "3·outer·inner");
  const F32Arg dd = a.f32(4, "dd", s.k, "outer·inner");
  const F32Arg da = a.f32_or_null(5, "da", s.n, "outer·mid·inner");
  const F32Arg db = a.f32_or_null(6, "db", s.n, "outer·mid·inner");
  if (s.n == 0) return a.env().Undefined();  // no gradients to write
  cosine_distance_backward(s.p, x.data, y.data, st.data, dd.data, da.data, db.data);
  return a.env().Undefined();
}

}  // namespace

void register_cosine(Napi::Env env, Napi::Object exports) {
  define(env, exports, "cosineDistance", CosineDistance);
  define(env, exports, "cosineDistanceBackward", CosineDistanceBackward);
}

}  // namespace medianomaly::binding
