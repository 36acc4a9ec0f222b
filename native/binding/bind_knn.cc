// knnSearch: exact k-nearest neighbours (squared L2) through the packed GEMM.
#include "args.h"
#include "medianomaly/knn.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

template <bool Half>
Napi::Value Search(const Napi::CallbackInfo& info) {
  const char* name = Half ? "knnSearchHalf" : "knnSearch";
  Args a(info, name, 6);
  KnnParams p;
  p.nq = a.size("nq");
  p.nb = a.size("nb");
  p.d = a.size("d");
  p.k = a.size("k");
  if (p.nb > 2147483647) a.range_error("p.nb must be < 2^31 (indices are Int32)");
  const F32Arg q = a.f32(1, "queries", checked_product(a.env(), name, {p.nq, p.d}), "nq·d");
  const int64_t nbd = checked_product(a.env(), name, {p.nb, p.d});
  F32Arg bf;
  U16Arg bh;
  if (Half) bh = a.u16(2, "base", nbd, "nb·d");
  else bf = a.f32(2, "base", nbd, "nb·d");
  const F32Arg bn = a.f32_or_null(3, "baseNorms", p.nb, "nb");
  const F32Arg dist = a.f32(4, "distances", checked_product(a.env(), name, {p.nq, p.k}), "nq·k");
  const I32Arg idx = a.i32(5, "indices", p.nq * p.k, "nq·k");
  // Work is nq·nb·d: with d = 0 nothing bounds nb by memory, and 0-dim points are meaningless.
  if (p.d == 0 && p.nb > 0) a.range_error("p.d must be ≥ 1 when p.nb > 0");
  if (p.nq * p.k == 0) return a.env().Undefined();
  throw_if_failed(a.env(), name,
                  Half ? knn_search_half(p, q.data, bh.data, bn.data, dist.data, idx.data)
                       : knn_search(p, q.data, bf.data, bn.data, dist.data, idx.data));
  return a.env().Undefined();
}

Napi::Value KnnSearch(const Napi::CallbackInfo& info) { return Search<false>(info); }
Napi::Value KnnSearchHalf(const Napi::CallbackInfo& info) { return Search<true>(info); }

}  // namespace

void register_knn(Napi::Env env, Napi::Object exports) {
  define(env, exports, "knnSearch", KnnSearch);
  define(env, exports, "knnSearchHalf", KnnSearchHalf);
}

}  // namespace medianomaly::binding
