// stridedCopy, fill, axpy.
#include "args.h"
#include "medianomaly/copy.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

Napi::Value StridedCopy(const Napi::CallbackInfo& info) {
  Args a(info, "stridedCopy", 3);
  StridedCopyParams p;
  const auto shape = a.int_list("shape", kMaxCopyDims, false);
  const auto ss = a.int_list("srcStrides", kMaxCopyDims, true);
  const auto ds = a.int_list("dstStrides", kMaxCopyDims, true);
  if (ss.size() != shape.size()) a.range_error("p.srcStrides must have one entry per dim of p.shape");
  if (ds.size() != shape.size()) a.range_error("p.dstStrides must have one entry per dim of p.shape");
  p.ndim = static_cast<int>(shape.size());
  double total = 1;
  for (int d = 0; d < p.ndim; ++d) {
    p.shape[d] = shape[d];
    p.srcStrides[d] = ss[d];
    p.dstStrides[d] = ds[d];
    total *= static_cast<double>(shape[d]);
  }
  if (total > kMaxCount) a.range_error("p.shape has more than 2^53 elements");
  p.srcOffset = a.size("srcOffset");
  p.dstOffset = a.size("dstOffset");
  p.accumulate = a.flag("accumulate");
  const F32Arg src = a.f32(1, "src", 0, "");
  const F32Arg dst = a.f32(2, "dst", 0, "");
  if (total > 0) {
    int64_t lo, hi;
    checked_extent(a.env(), "stridedCopy", "p.srcStrides/p.srcOffset", p.ndim, p.shape, p.srcStrides, p.srcOffset, &lo, &hi);
    if (lo < 0 || hi >= src.length) {
      a.range_error("the copy reads 'src' elements [" + std::to_string(lo) + ", " + std::to_string(hi) +
                    "] but 'src' has " + std::to_string(src.length) + " elements");
    }
    checked_extent(a.env(), "stridedCopy", "p.dstStrides/p.dstOffset", p.ndim, p.shape, p.dstStrides, p.dstOffset, &lo, &hi);
    if (lo < 0 || hi >= dst.length) {
      a.range_error("the copy writes 'dst' elements [" + std::to_string(lo) + ", " + std::to_string(hi) +
                    "] but 'dst' has " + std::to_string(dst.length) + " elements");
    }
  }
  if (total == 0) return a.env().Undefined();  // an empty shape may still have huge other dims
  strided_copy(p, src.data, dst.data);
  return a.env().Undefined();
}

Napi::Value Fill(const Napi::CallbackInfo& info) {
  Args a(info, "fill", 2);
  const int64_t n = a.size("n");
  const float value = static_cast<float>(a.number("value", true));  // data: NaN fill allowed
  const F32Arg y = a.f32(1, "y", n, "n");
  fill(n, value, y.data);
  return a.env().Undefined();
}

Napi::Value Axpy(const Napi::CallbackInfo& info) {
  Args a(info, "axpy", 3);
  const int64_t n = a.size("n");
  const float alpha = static_cast<float>(a.number("alpha"));
  const F32Arg x = a.f32(1, "x", n, "n");
  const F32Arg y = a.f32(2, "y", n, "n");
  axpy(n, alpha, x.data, y.data);
  return a.env().Undefined();
}

}  // namespace

void register_copy(Napi::Env env, Napi::Object exports) {
  define(env, exports, "stridedCopy", StridedCopy);
  define(env, exports, "fill", Fill);
  define(env, exports, "axpy", Axpy);
}

}  // namespace medianomaly::binding
