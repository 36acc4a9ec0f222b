// poissonSolve: Poisson image editing's equation on framed rectangles (float64).
#include <cmath>

#include "args.h"
#include "medianomaly/poisson.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

Napi::Value PoissonSolve(const Napi::CallbackInfo& info) {
  const char* name = "poissonSolve";
  Args a(info, name, 4);
  PoissonParams p;
  p.planes = a.size("planes");
  p.height = a.size("height");
  p.width = a.size("width");
  p.tol = a.number("tol");
  if (!(p.tol >= 0) || !std::isfinite(p.tol)) a.range_error("p.tol must be a finite number ≥ 0");
  p.max_iter = a.size("maxIter");
  if (p.max_iter < 1 || p.max_iter > 1000000) a.range_error("p.maxIter must be an integer in [1, 1000000]");
  const int64_t n = checked_product(a.env(), name, {p.planes, p.height, p.width});
  // Scratch is ~11 doubles per pixel of one plane per thread: bound a plane like the arrays.
  if (n > (int64_t{1} << 31)) a.range_error("planes·height·width must be ≤ 2^31");
  const F64Arg rhs = a.f64(1, "rhs", n, "planes·height·width");
  const F64Arg x = a.f64(2, "x", n, "planes·height·width");
  const F64Arg out = a.f64(3, "info", checked_product(a.env(), name, {p.planes, 2}), "planes·2");
  auto overlap = [](const double* a0, int64_t na, const double* b0, int64_t nb) { return na > 0 && nb > 0 && a0 < b0 + nb && b0 < a0 + na; };
  if (overlap(x.data, n, rhs.data, n) || overlap(out.data, 2 * p.planes, x.data, n) || overlap(out.data, 2 * p.planes, rhs.data, n)) {
    a.range_error("rhs, x and info must not overlap");
  }
  if (p.planes == 0) return a.env().Undefined();
  throw_if_failed(a.env(), name, poisson_solve(p, rhs.data, x.data, out.data));
  return a.env().Undefined();
}

}  // namespace

void register_poisson(Napi::Env env, Napi::Object exports) { define(env, exports, "poissonSolve", PoissonSolve); }

}  // namespace medianomaly::binding
