// attentionForward, attentionBackward: scaled dot-product attention over [batch, L, d] sets.
#include <cmath>

#include "args.h"
#include "medianomaly/attention.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

struct Sizes {
  AttentionParams p;
  int64_t nq = 0, nk = 0, nv = 0, no = 0, nw = 0;
};

Sizes read_attention(const Args& a) {
  Sizes s;
  s.p.batch = a.size("batch");
  s.p.lq = a.size("lq");
  s.p.lk = a.size("lk");
  s.p.d = a.size("d");
  s.p.dv = a.size("dv");
  const double scale = a.number("scale");
  if (!std::isfinite(scale)) a.range_error("p.scale must be a finite number");
  s.p.scale = static_cast<float>(scale);
  s.nq = checked_product(a.env(), a.kernel(), {s.p.batch, s.p.lq, s.p.d});
  s.nk = checked_product(a.env(), a.kernel(), {s.p.batch, s.p.lk, s.p.d});
  s.nv = checked_product(a.env(), a.kernel(), {s.p.batch, s.p.lk, s.p.dv});
  s.no = checked_product(a.env(), a.kernel(), {s.p.batch, s.p.lq, s.p.dv});
  s.nw = checked_product(a.env(), a.kernel(), {s.p.batch, s.p.lq, s.p.lk});
  return s;
}

Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  Args a(info, "attentionForward", 6);
  const Sizes s = read_attention(a);
  const F32Arg q = a.f32(1, "q", s.nq, "batch·lq·d");
  const F32Arg k = a.f32(2, "k", s.nk, "batch·lk·d");
  const F32Arg v = a.f32(3, "v", s.nv, "batch·lk·dv");
  const F32Arg out = a.f32(4, "out", s.no, "batch·lq·dv");
  const F32Arg w = a.f32(5, "w", s.nw, "batch·lq·lk");
  attention_forward(s.p, q.data, k.data, v.data, out.data, w.data);
  return a.env().Undefined();
}

Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  Args a(info, "attentionBackward", 9);
  const Sizes s = read_attention(a);
  const F32Arg q = a.f32(1, "q", s.nq, "batch·lq·d");
  const F32Arg k = a.f32(2, "k", s.nk, "batch·lk·d");
  const F32Arg v = a.f32(3, "v", s.nv, "batch·lk·dv");
  const F32Arg w = a.f32(4, "w", s.nw, "batch·lq·lk");
  const F32Arg dout = a.f32(5, "dout", s.no, "batch·lq·dv");
  const F32Arg dq = a.f32_or_null(6, "dq", s.nq, "batch·lq·d");
  const F32Arg dk = a.f32_or_null(7, "dk", s.nk, "batch·lk·d");
  const F32Arg dv = a.f32_or_null(8, "dv", s.nv, "batch·lk·dv");
  attention_backward(s.p, q.data, k.data, v.data, w.data, dout.data, dq.data, dk.data, dv.data);
  return a.env().Undefined();
}

}  // namespace

void register_attention(Napi::Env env, Napi::Object exports) {
  define(env, exports, "attentionForward", AttentionForward);
  define(env, exports, "attentionBackward", AttentionBackward);
}

}  // namespace medianomaly::binding
