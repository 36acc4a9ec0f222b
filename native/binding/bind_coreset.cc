// coresetGreedy (farthest-point selection) and coresetProject (the exact-order projection).
#include "args.h"
#include "medianomaly/coreset.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

// Shared argument checks of coresetGreedy and coresetGreedyHalf.
template <bool Half>
Napi::Value Greedy(const Napi::CallbackInfo& info) {
  const char* name = Half ? "coresetGreedyHalf" : "coresetGreedy";
  Args a(info, name, 5);
  CoresetParams p;
  p.n = a.size("n");
  p.d = a.size("d");
  p.m = a.size("m");
  p.newest = a.integer("newest");
  p.starts = a.size("starts");
  if (p.n > 2147483647) a.range_error("p.n must be < 2^31 (indices are Int32)");
  if (p.m > p.n) a.range_error("p.m (" + std::to_string(p.m) + ") must not exceed p.n (" + std::to_string(p.n) + ")");
  if (p.starts > p.n) a.range_error("p.starts (" + std::to_string(p.starts) + ") must not exceed p.n (" + std::to_string(p.n) + ")");
  if (p.newest < -1 || p.newest >= p.n) a.range_error("p.newest must be −1 or a point index < p.n, got " + std::to_string(p.newest));
  const int64_t need = checked_product(a.env(), name, {p.n, p.d});
  F32Arg pf;
  U16Arg ph;
  if (Half) ph = a.u16(1, "points", need, "n·d");
  else pf = a.f32(1, "points", need, "n·d");
  const I32Arg starts = a.i32(2, "startIndices", p.starts, "starts");
  const F32Arg mind = a.f32(3, "minDist", p.n, "n");
  const I32Arg sel = a.i32(4, "selected", p.m, "m");
  if (p.d == 0 && p.n > 0) a.range_error("p.d must be ≥ 1 when p.n > 0");
  throw_if_failed(a.env(), name,
                  Half ? coreset_greedy_half(p, ph.data, starts.data, mind.data, sel.data)
                       : coreset_greedy(p, pf.data, starts.data, mind.data, sel.data));
  return a.env().Undefined();
}

Napi::Value CoresetGreedy(const Napi::CallbackInfo& info) { return Greedy<false>(info); }
Napi::Value CoresetGreedyHalf(const Napi::CallbackInfo& info) { return Greedy<true>(info); }

Napi::Value CoresetProject(const Napi::CallbackInfo& info) {
  Args a(info, "coresetProject", 4);
  CoresetProjectParams p;
  p.n = a.size("n");
  p.d = a.size("d");
  p.e = a.size("e");
  const F32Arg x = a.f32(1, "x", checked_product(a.env(), "coresetProject", {p.n, p.d}), "n·d");
  const F32Arg w = a.f32(2, "wt", checked_product(a.env(), "coresetProject", {p.d, p.e}), "d·e");
  const F32Arg y = a.f32(3, "y", checked_product(a.env(), "coresetProject", {p.n, p.e}), "n·e");
  coreset_project(p, x.data, w.data, y.data);
  return a.env().Undefined();
}

}  // namespace

void register_coreset(Napi::Env env, Napi::Object exports) {
  define(env, exports, "coresetGreedy", CoresetGreedy);
  define(env, exports, "coresetGreedyHalf", CoresetGreedyHalf);
  define(env, exports, "coresetProject", CoresetProject);
}

}  // namespace medianomaly::binding
