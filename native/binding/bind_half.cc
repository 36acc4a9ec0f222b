// halfFromFloat / halfToFloat: float32 ↔ IEEE half (raw bits in a Uint16Array).
#include "args.h"
#include "medianomaly/half.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

Napi::Value HalfFromFloat(const Napi::CallbackInfo& info) {
  Args a(info, "halfFromFloat", 3);
  const int64_t n = a.size("n");
  const F32Arg x = a.f32(1, "x", n, "n");
  const U16Arg y = a.u16(2, "y", n, "n");
  float_to_half(n, x.data, y.data);
  return a.env().Undefined();
}

Napi::Value HalfToFloat(const Napi::CallbackInfo& info) {
  Args a(info, "halfToFloat", 3);
  const int64_t n = a.size("n");
  const U16Arg x = a.u16(1, "x", n, "n");
  const F32Arg y = a.f32(2, "y", n, "n");
  half_to_float(n, x.data, y.data);
  return a.env().Undefined();
}

}  // namespace

void register_half(Napi::Env env, Napi::Object exports) {
  define(env, exports, "halfFromFloat", HalfFromFloat);
  define(env, exports, "halfToFloat", HalfToFloat);
}

}  // namespace medianomaly::binding
