// Exposes one binding function on the addon's exports, with the exception firewall:
// a C++ exception that is not already a JS error becomes a JS Error instead of
// reaching std::terminate (native code must never take the process down).
#pragma once

#include <napi.h>

namespace medianomaly::binding {

using BindingFn = Napi::Value (*)(const Napi::CallbackInfo&);

void define(Napi::Env env, Napi::Object exports, const char* name, BindingFn fn);

// One registration function per kernel family, in bind_<family>.cc: the same family
// names as native/cpu/<family>.cc, native/include/medianomaly/<family>.h and
// test/native/<family>.test.ts.
void register_gemm(Napi::Env env, Napi::Object exports);
void register_conv(Napi::Env env, Napi::Object exports);
void register_linear_eval(Napi::Env env, Napi::Object exports);
void register_pad(Napi::Env env, Napi::Object exports);
void register_pool(Napi::Env env, Napi::Object exports);
void register_upsample(Napi::Env env, Napi::Object exports);
void register_norm(Napi::Env env, Napi::Object exports);
void register_elementwise(Napi::Env env, Napi::Object exports);
void register_reduce(Napi::Env env, Napi::Object exports);
void register_copy(Napi::Env env, Napi::Object exports);
void register_optim(Napi::Env env, Napi::Object exports);
void register_knn(Napi::Env env, Napi::Object exports);
void register_coreset(Napi::Env env, Napi::Object exports);
void register_half(Napi::Env env, Napi::Object exports);
void register_linalg(Napi::Env env, Napi::Object exports);
void register_poisson(Napi::Env env, Napi::Object exports);
void register_coupling(Napi::Env env, Napi::Object exports);
void register_cosine(Napi::Env env, Napi::Object exports);
void register_simplex(Napi::Env env, Napi::Object exports);
void register_attention(Napi::Env env, Napi::Object exports);
void register_group_norm_silu(Napi::Env env, Napi::Object exports);
void register_control(Napi::Env env, Napi::Object exports);

}  // namespace medianomaly::binding
