// coresetGreedy: greedy k-center selection.
#include "args.h"
#include "medianomaly/coreset.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

Napi::Value CoresetGreedy(const Napi::CallbackInfo& info) {
  Args a(info, "coresetGreedy", 3);
  CoresetParams p;
  p.n = a.size("n");
  p.d = a.size("d");
  p.m = a.size("m");
  p.start = a.size("start");
  if (p.m > p.n) a.range_error("p.m (" + std::to_string(p.m) + ") must not exceed p.n (" + std::to_string(p.n) + ")");
  if (p.m > 0 && p.start >= p.n) a.range_error("p.start (" + std::to_string(p.start) + ") must be < p.n (" + std::to_string(p.n) + ")");
  if (p.n > 2147483647) a.range_error("p.n must be < 2^31 (indices are Int32)");
  const F32Arg pts = a.f32(1, "points", checked_product(a.env(), "coresetGreedy", {p.n, p.d}), "n·d");
  const I32Arg sel = a.i32(2, "selected", p.m, "m");
  if (p.d == 0 && p.m > 0) a.range_error("p.d must be ≥ 1 when p.m > 0 (work is m·n·d; n is bounded by memory only through d)");
  if (p.m == 0) return a.env().Undefined();
  coreset_greedy(p, pts.data, sel.data);
  return a.env().Undefined();
}

}  // namespace

void register_coreset(Napi::Env env, Napi::Object exports) {
  define(env, exports, "coresetGreedy", CoresetGreedy);
}

}  // namespace medianomaly::binding
