// gaussianMoments, choleskyInverse, mahalanobis: Gaussian statistics (PaDiM, Ledoit–Wolf).
#include "args.h"
#include "medianomaly/linalg.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

Napi::Value GaussianMoments(const Napi::CallbackInfo& info) {
  Args a(info, "gaussianMoments", 5);
  GaussianMomentsParams p;
  p.B = a.size("B");
  p.P = a.size("P");
  p.d = a.size("d");
  const int64_t pd = checked_product(a.env(), "gaussianMoments", {p.P, p.d});
  const F32Arg x = a.f32(1, "x", checked_product(a.env(), "gaussianMoments", {p.B, p.P, p.d}), "B·P·d");
  const F32Arg shift = a.f32_or_null(2, "shift", pd, "P·d");
  const F64Arg sum = a.f64(3, "sum", pd, "P·d");
  const F64Arg outer = a.f64(4, "sumOuter", checked_product(a.env(), "gaussianMoments", {p.P, p.d, p.d}), "P·d·d");
  // Work is P·B·d²: every factor is bounded by an array passed (B by x when P·d > 0).
  if (pd == 0 || p.B == 0) return a.env().Undefined();
  throw_if_failed(a.env(), "gaussianMoments", gaussian_moments(p, x.data, shift.data, sum.data, outer.data));
  return a.env().Undefined();
}

// inv may be a itself (exactly in place); any other overlap is rejected.
Napi::Value CholeskyInverse(const Napi::CallbackInfo& info) {
  Args a(info, "choleskyInverse", 4);
  CholeskyParams p;
  p.P = a.size("P");
  p.d = a.size("d");
  const int64_t n = checked_product(a.env(), "choleskyInverse", {p.P, p.d, p.d});
  const F64Arg src = a.f64(1, "a", n, "P·d·d");
  const F64Arg inv = a.f64(2, "inv", n, "P·d·d");
  const I32Arg status = a.i32(3, "info", p.P, "P");
  if (src.data != inv.data && src.data < inv.data + n && inv.data < src.data + n) {
    a.range_error("inv overlaps a without being a itself (in place must be exact)");
  }
  // With d = 0 nothing bounds P by memory but the info array, which holds P entries.
  if (p.P == 0) return a.env().Undefined();
  throw_if_failed(a.env(), "choleskyInverse", cholesky_inverse(p, src.data, inv.data, status.data));
  return a.env().Undefined();
}

Napi::Value Mahalanobis(const Napi::CallbackInfo& info) {
  Args a(info, "mahalanobis", 5);
  MahalanobisParams p;
  p.B = a.size("B");
  p.P = a.size("P");
  p.d = a.size("d");
  const F32Arg x = a.f32(1, "x", checked_product(a.env(), "mahalanobis", {p.B, p.P, p.d}), "B·P·d");
  const F32Arg mean = a.f32(2, "mean", checked_product(a.env(), "mahalanobis", {p.P, p.d}), "P·d");
  const F32Arg inv = a.f32(3, "inv", checked_product(a.env(), "mahalanobis", {p.P, p.d, p.d}), "P·d·d");
  const F32Arg out = a.f32(4, "out", checked_product(a.env(), "mahalanobis", {p.B, p.P}), "B·P");
  // Work is B·P·d²: B·P is bounded by out, d² by inv (when P > 0).
  if (p.B == 0 || p.P == 0) return a.env().Undefined();
  throw_if_failed(a.env(), "mahalanobis", mahalanobis(p, x.data, mean.data, inv.data, out.data));
  return a.env().Undefined();
}

}  // namespace

void register_linalg(Napi::Env env, Napi::Object exports) {
  define(env, exports, "gaussianMoments", GaussianMoments);
  define(env, exports, "choleskyInverse", CholeskyInverse);
  define(env, exports, "mahalanobis", Mahalanobis);
}

}  // namespace medianomaly::binding
