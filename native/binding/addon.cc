// Module entry point. N-API modules are context-aware: this init runs once per
// environment (main thread and every worker_thread); the kernels and their thread pool
// are process-wide and hold no per-environment state.
#include <napi.h>

#include <exception>
#include <new>
#include <string>

#include "malloc_tuning.h"
#include "register.h"

namespace medianomaly::binding {

void define(Napi::Env env, Napi::Object exports, const char* name, BindingFn fn) {
  auto guarded = [fn, name](const Napi::CallbackInfo& info) -> Napi::Value {
    try {
      return fn(info);
    } catch (const Napi::Error&) {
      throw;  // already a JS exception with a message naming the argument
    } catch (const std::bad_alloc&) {
      throw Napi::Error::New(info.Env(), std::string("medianomaly cpu ") + name + ": out of memory");
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), std::string("medianomaly cpu ") + name + ": " + e.what());
    } catch (...) {
      throw Napi::Error::New(info.Env(), std::string("medianomaly cpu ") + name + ": unknown native error");
    }
  };
  exports.Set(name, Napi::Function::New(env, guarded, name));
}

}  // namespace medianomaly::binding

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace medianomaly::binding;
  tune_malloc();
  register_control(env, exports);
  register_gemm(env, exports);
  register_conv(env, exports);
  register_linear_eval(env, exports);
  register_pad(env, exports);
  register_pool(env, exports);
  register_upsample(env, exports);
  register_norm(env, exports);
  register_elementwise(env, exports);
  register_reduce(env, exports);
  register_copy(env, exports);
  register_optim(env, exports);
  register_knn(env, exports);
  register_coreset(env, exports);
  register_half(env, exports);
  register_linalg(env, exports);
  register_poisson(env, exports);
  register_coupling(env, exports);
  register_cosine(env, exports);
  register_simplex(env, exports);
  register_attention(env, exports);
  register_group_norm_silu(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(medianomaly, Init)
