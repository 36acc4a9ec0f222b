// couplingForward, couplingBackward, couplingRotation: FrEIA AllInOneBlock's coupling
// step and its Haar rotation.
#include <cmath>
#include <string>
#include <vector>

#include "args.h"
#include "medianomaly/coupling.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

struct Sizes {
  CouplingParams p;
  int64_t n = 0;   // B·C·HW
  int64_t nr = 0;  // B·2·C2·HW
  int64_t nh = 0;  // B·C2·HW
};

Sizes read_coupling(const Args& a) {
  Sizes s;
  CouplingParams& p = s.p;
  p.B = a.size("B");
  p.C = a.size("C");
  p.C1 = a.size("C1");
  p.HW = a.size("HW");
  if (p.C1 > p.C) a.range_error("p.C1 must be ≤ p.C");
  const double clamp = a.number("clamp");
  if (!(clamp > 0.0) || !std::isfinite(clamp)) a.range_error("p.clamp must be a positive finite number");
  p.clamp = static_cast<float>(clamp);
  p.scaled = a.flag("scaled");
  const int64_t C2 = p.C - p.C1;
  s.n = checked_product(a.env(), a.kernel(), {p.B, p.C, p.HW});
  s.nr = checked_product(a.env(), a.kernel(), {p.B, 2, C2, p.HW});
  s.nh = checked_product(a.env(), a.kernel(), {p.B, C2, p.HW});
  return s;
}

// A permutation of 0..C−1 or null: an index outside it, or a repeated one, would write
// outside y or leave a channel unwritten.
const int32_t* read_perm(const Napi::CallbackInfo& info, const Args& a, size_t index, int64_t C) {
  Napi::Value v = info[index];
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  const I32Arg perm = a.i32(index, "permInv", C, "C");
  std::vector<bool> seen(static_cast<size_t>(C), false);
  for (int64_t k = 0; k < C; ++k) {
    const int32_t o = perm.data[k];
    if (o < 0 || o >= C || seen[static_cast<size_t>(o)]) {
      a.range_error("permInv must be a permutation of 0..C−1 (entry " + std::to_string(k) + " is " + std::to_string(o) + ")");
    }
    seen[static_cast<size_t>(o)] = true;
  }
  return perm.data;
}

Napi::Value CouplingForward(const Napi::CallbackInfo& info) {
  Args a(info, "couplingForward", 9);
  const Sizes s = read_coupling(a);
  const CouplingParams& p = s.p;
  const F32Arg x = a.f32(1, "x", s.n, "B·C·HW");
  const F32Arg r = a.f32(2, "r", s.nr, "B·2·(C−C1)·HW");
  const F32Arg gamma = a.f32(3, "gamma", p.C, "C");
  const F32Arg offset = a.f32(4, "offset", p.C, "C");
  const int32_t* perm = read_perm(info, a, 5, p.C);
  const F32Arg y = a.f32(6, "y", s.n, "B·C·HW");
  const F32Arg th = a.f32(7, "th", s.nh, "B·(C−C1)·HW");
  const F32Arg logdet = a.f32(8, "logdet", p.B, "B");
  // Work is bounded by y (B·C·HW) plus C for the scale sum (bounded by gamma).
  if (p.B == 0) return a.env().Undefined();
  if (p.HW == 0 && p.C > 0) {
    // No positions: every log-det is 0·Σ ln g = 0.
    for (int64_t b = 0; b < p.B; ++b) logdet.data[b] = 0.0f;
    return a.env().Undefined();
  }
  coupling_forward(p, x.data, r.data, gamma.data, offset.data, perm, y.data, th.data, logdet.data);
  return a.env().Undefined();
}

Napi::Value CouplingBackward(const Napi::CallbackInfo& info) {
  Args a(info, "couplingBackward", 12);
  const Sizes s = read_coupling(a);
  const CouplingParams& p = s.p;
  const F32Arg x = a.f32(1, "x", s.n, "B·C·HW");
  const F32Arg r = a.f32(2, "r", s.nr, "B·2·(C−C1)·HW");
  const F32Arg th = a.f32(3, "th", s.nh, "B·(C−C1)·HW");
  const F32Arg gamma = a.f32(4, "gamma", p.C, "C");
  const int32_t* perm = read_perm(info, a, 5, p.C);
  const F32Arg dy = a.f32(6, "dy", s.n, "B·C·HW");
  const F32Arg dlogdet = a.f32_or_null(7, "dlogdet", p.B, "B");
  const F32Arg dx = a.f32(8, "dx", s.n, "B·C·HW");
  const F32Arg dr = a.f32(9, "dr", s.nr, "B·2·(C−C1)·HW");
  const F32Arg dgamma = a.f32(10, "dgamma", p.C, "C");
  const F32Arg doffset = a.f32(11, "doffset", p.C, "C");
  (void)info;
  if (p.B == 0 || p.HW == 0) {
    // Nothing flows: the γ gradient is only the log-det's HW·Σ dlogdet term, 0 here.
    for (int64_t k = 0; k < p.C; ++k) dgamma.data[k] = doffset.data[k] = 0.0f;
    return a.env().Undefined();
  }
  coupling_backward(p, x.data, r.data, th.data, gamma.data, perm, dy.data, dlogdet.data, dx.data, dr.data,
                    dgamma.data, doffset.data);
  return a.env().Undefined();
}

Napi::Value CouplingRotation(const Napi::CallbackInfo& info) {
  Args a(info, "couplingRotation", 3);
  const int64_t C = a.size("C");
  if (C > 65536) a.range_error("p.C must be ≤ 65536 (a C×C rotation)");
  const int64_t n = checked_product(a.env(), "couplingRotation", {C, C});
  const F64Arg src = a.f64(1, "a", n, "C·C");
  const F64Arg q = a.f64(2, "q", n, "C·C");
  if (src.data < q.data + n && q.data < src.data + n && n > 0) a.range_error("q overlaps a");
  if (C == 0) return a.env().Undefined();
  throw_if_failed(a.env(), "couplingRotation", coupling_rotation(C, src.data, q.data));
  return a.env().Undefined();
}

}  // namespace

void register_coupling(Napi::Env env, Napi::Object exports) {
  define(env, exports, "couplingForward", CouplingForward);
  define(env, exports, "couplingBackward", CouplingBackward);
  define(env, exports, "couplingRotation", CouplingRotation);
}

}  // namespace medianomaly::binding
