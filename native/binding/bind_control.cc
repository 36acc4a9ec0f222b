// Pool and BLAS controls plus the facts `info()` reports.
#include <string>

#include "args.h"
#include "medianomaly/gemm.h"
#include "medianomaly/threadpool.h"
#include "malloc_tuning.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw_type_error(env, "medianomaly cpu setThreads: 'n' must be an integer ≥ 1");
  const double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 1 && n <= 1024) || static_cast<double>(static_cast<int>(n)) != n) {
    throw_range_error(env, "medianomaly cpu setThreads: 'n' must be an integer in [1, 1024], got " + std::to_string(n));
  }
  set_threads(static_cast<int>(n));
  return env.Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), get_threads()); }

const char* mode_name(BlasMode m) {
  switch (m) {
    case BlasMode::kAuto: return "auto";
    case BlasMode::kOpenBlas: return "openblas";
    case BlasMode::kBuiltin: return "builtin";
  }
  return "auto";
}

Napi::Value SetBlas(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw_type_error(env, "medianomaly cpu setBlas: 'mode' must be 'auto', 'openblas' or 'builtin'");
  }
  const std::string s = info[0].As<Napi::String>().Utf8Value();
  BlasMode m;
  if (s == "auto") m = BlasMode::kAuto;
  else if (s == "openblas") m = BlasMode::kOpenBlas;
  else if (s == "builtin") m = BlasMode::kBuiltin;
  else throw_range_error(env, "medianomaly cpu setBlas: 'mode' must be 'auto', 'openblas' or 'builtin', got '" + s + "'");
  if (set_blas_mode(m) != Status::kOk) {
    throw Napi::Error::New(env, "medianomaly cpu setBlas: this build has no OpenBLAS (install libopenblas-dev and rebuild)");
  }
  return env.Undefined();
}

Napi::Value GetBlas(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("mode", mode_name(get_blas_mode()));
  o.Set("active", active_blas());
  return o;
}

const char* build_simd() {
#if defined(__AVX2__) && defined(__FMA__)
  return "avx2+fma";
#elif defined(__SSE2__)
  return "sse2";
#else
  return "scalar";
#endif
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("blas", active_blas());
  o.Set("blasMode", mode_name(get_blas_mode()));
  o.Set("openblasLinked", have_openblas());
  if (have_openblas()) o.Set("openblasConfig", openblas_config());
  o.Set("threads", get_threads());
  o.Set("mallocTuning", tune_malloc());
  o.Set("simd", build_simd());
  o.Set("gemmKernel", std::string(gemm_simd()) + (std::string(gemm_simd()) == "scalar" ? "" : " 6x16"));
#if defined(__clang__)
  o.Set("compiler", std::string("clang ") + __clang_version__);
#elif defined(__GNUC__)
  o.Set("compiler", std::string("gcc ") + __VERSION__);
#endif
  return o;
}

}  // namespace

void register_control(Napi::Env env, Napi::Object exports) {
#if defined(__AVX2__) && defined(__FMA__) && (defined(__GNUC__) || defined(__clang__))
  // Built for AVX2 (x86-64-v3): refuse to load on an older CPU rather than die of SIGILL later.
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    throw Napi::Error::New(env,
                           "medianomaly cpu: this addon was built for AVX2+FMA but the CPU lacks them; rebuild with "
                           "MEDIANOMALY_SIMD=generic npm run build:native");
  }
#endif
  define(env, exports, "setThreads", SetThreads);
  define(env, exports, "getThreads", GetThreads);
  define(env, exports, "setBlas", SetBlas);
  define(env, exports, "getBlas", GetBlas);
  define(env, exports, "info", Info);
}

}  // namespace medianomaly::binding
