// Argument checking for the kernel bindings. Everything that reaches a C++ kernel has
// been checked here: integers are integers, sizes are non-negative, numbers are not
// NaN, typed arrays have the right element type and are long enough for the sizes in
// `p`. A failed check throws a JS TypeError/RangeError naming the kernel and argument.
//
// The binding is the last line of defence: the kernel table is reachable by `require`
// of the .node file, so nothing here trusts that the engine checked first. Limits
// (every index a kernel computes then fits int64 without overflow):
//   - every integer in p is exact in a double: |v| ≤ 2^53;
//   - element counts (products of sizes, and extents of strided views) ≤ 2^53, and
//     every product a binding or kernel forms is checked on its own (a zero factor in
//     N·C·H·W does not bound C·H·W);
//   - window geometry (kernel size, stride, padding, dilation) ≤ kMaxGeometry = 2^20;
//   - output sizes of conv and pooling are at most the number of windows that fit, so
//     window origins stay within the padded input (no overflow in oh·stride);
//   - Int32 indices (argmax, knn, coreset) address < 2^31 elements;
//   - work is bounded by the arrays passed: a call whose outputs are empty returns at
//     once, and sizes that multiply an empty dim (N with HW = 0, outer with mid = 0)
//     are normalised or refused, so no loop runs 2^50 times over nothing.
// Scratch buffers a kernel allocates are sized with checked products and capped (see
// medianomaly/workspace.h); a request beyond the cap is an out-of-memory JS Error.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "medianomaly/status.h"

namespace medianomaly::binding {

/** Largest element count accepted anywhere (2^53: exact in a JS number). */
constexpr double kMaxCount = 9007199254740992.0;

[[noreturn]] void throw_type_error(Napi::Env env, const std::string& msg);
[[noreturn]] void throw_range_error(Napi::Env env, const std::string& msg);
/** Throws a JS Error when a kernel reports a non-Ok status. */
void throw_if_failed(Napi::Env env, const char* kernel, Status s);

/** Largest kernel size, stride, padding or dilation accepted (2^20). */
constexpr int64_t kMaxGeometry = int64_t{1} << 20;

/** Product of non-negative sizes, throwing RangeError if it exceeds kMaxCount. */
int64_t checked_product(Napi::Env env, const char* kernel, std::initializer_list<int64_t> sizes);

/**
 * Lowest and highest element a strided view touches, in checked 64-bit arithmetic:
 * RangeError naming `what` when an index overflows or leaves [−2^53, 2^53]. Empty shape: lo > hi.
 */
void checked_extent(Napi::Env env, const char* kernel, const char* what, int ndim, const int64_t* shape,
                    const int64_t* strides, int64_t offset, int64_t* lo, int64_t* hi);

/** A positional typed array: its data (honouring byteOffset) and element count. */
template <typename T>
struct TypedArg {
  T* data = nullptr;  // null only for an allowed null argument
  int64_t length = 0;
};
using F32Arg = TypedArg<float>;
using F64Arg = TypedArg<double>;
using I32Arg = TypedArg<int32_t>;
using U16Arg = TypedArg<uint16_t>;  // IEEE half values as raw bits

/** Reads the params object (argument 0) and positional typed arrays of one kernel call. */
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* kernel, size_t arity);

  Napi::Env env() const { return info_.Env(); }
  const char* kernel() const { return kernel_; }

  // ---- fields of the params object `p`
  /** Non-negative integer. */
  int64_t size(const char* name) const;
  /** Integer ≥ 1. */
  int64_t positive(const char* name) const;
  /** Window geometry: an integer in [min, kMaxGeometry]. */
  int64_t geometry(const char* name, int64_t min) const;
  /** Any integer (may be negative). */
  int64_t integer(const char* name) const;
  /** Finite or infinite number; NaN rejected unless allow_nan. */
  double number(const char* name, bool allow_nan = false) const;
  bool flag(const char* name) const;
  std::string string(const char* name) const;
  /** Array of integers (≤ max_len entries); non-negative unless allow_negative. */
  std::vector<int64_t> int_list(const char* name, size_t max_len, bool allow_negative) const;
  bool has(const char* name) const;

  // ---- positional typed arrays (index ≥ 1); `need` = elements required, `what` explains it
  F32Arg f32(size_t index, const char* name, int64_t need, const char* what) const;
  /** Like f32 but null/undefined is accepted (data = nullptr). */
  F32Arg f32_or_null(size_t index, const char* name, int64_t need, const char* what) const;
  I32Arg i32(size_t index, const char* name, int64_t need, const char* what) const;
  F64Arg f64(size_t index, const char* name, int64_t need, const char* what) const;
  /** A Uint16Array (IEEE half bits). */
  U16Arg u16(size_t index, const char* name, int64_t need, const char* what) const;

  [[noreturn]] void range_error(const std::string& msg) const;

 private:
  Napi::Value field(const char* name) const;
  std::string prefix() const;
  /** The typed array at `index` if its type is `type` (`label` names it in the error) and it holds ≥ need elements. */
  template <typename T, typename ArrayT>
  TypedArg<T> typed(size_t index, const char* name, int64_t need, const char* what, napi_typedarray_type type,
                    const char* label) const;

  const Napi::CallbackInfo& info_;
  const char* kernel_;
  Napi::Object params_;
};

}  // namespace medianomaly::binding
