#include "args.h"

#include <cmath>
#include <sstream>

namespace medianomaly::binding {

namespace {

const char* type_name(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_number: return "a number";
    case napi_string: return "a string";
    case napi_symbol: return "a symbol";
    case napi_object: {
      if (v.IsTypedArray()) {
        switch (v.As<Napi::TypedArray>().TypedArrayType()) {
          case napi_float32_array: return "a Float32Array";
          case napi_float64_array: return "a Float64Array";
          case napi_int32_array: return "an Int32Array";
          case napi_uint8_array: return "a Uint8Array";
          default: return "another typed array";
        }
      }
      if (v.IsArray()) return "an array";
      return "an object";
    }
    case napi_function: return "a function";
    case napi_external: return "an external";
    case napi_bigint: return "a bigint";
  }
  return "an unknown value";
}

std::string show_number(double d) {
  std::ostringstream s;
  s << d;
  return s.str();
}

}  // namespace

void throw_type_error(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }
void throw_range_error(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

void throw_if_failed(Napi::Env env, const char* kernel, Status s) {
  if (s == Status::kOk) return;
  const std::string msg = std::string("medianomaly cpu ") + kernel + ": " + status_message(s);
  if (s == Status::kIndexOutOfRange) throw Napi::RangeError::New(env, msg);
  throw Napi::Error::New(env, msg);
}

int64_t checked_product(Napi::Env env, const char* kernel, std::initializer_list<int64_t> sizes) {
  double prod = 1.0;
  int64_t exact = 1;
  for (int64_t s : sizes) {
    prod *= static_cast<double>(s);
    if (prod > kMaxCount) {
      throw_range_error(env, std::string("medianomaly cpu ") + kernel +
                                 ": the sizes in p describe more than 2^53 elements; check p");
    }
    exact *= s;
  }
  return exact;
}

void checked_extent(Napi::Env env, const char* kernel, const char* what, int ndim, const int64_t* shape,
                    const int64_t* strides, int64_t offset, int64_t* lo, int64_t* hi) {
  const auto fail = [&] {
    throw_range_error(env, std::string("medianomaly cpu ") + kernel + ": " + what +
                               " address elements beyond ±2^53; check the strides and offset");
  };
  constexpr int64_t kMax = static_cast<int64_t>(kMaxCount);
  int64_t l = offset, h = offset;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 0) {
      *lo = 1;
      *hi = 0;
      return;
    }
  }
  for (int d = 0; d < ndim; ++d) {
    int64_t span;
    if (__builtin_mul_overflow(shape[d] - 1, strides[d], &span)) fail();
    if (__builtin_add_overflow(span < 0 ? l : h, span, span < 0 ? &l : &h)) fail();
    if (l < -kMax || h > kMax) fail();
  }
  *lo = l;
  *hi = h;
}

Args::Args(const Napi::CallbackInfo& info, const char* kernel, size_t arity) : info_(info), kernel_(kernel) {
  if (info.Length() < arity) {
    throw_type_error(info.Env(), prefix() + "expected " + std::to_string(arity) + " arguments (p, arrays...), got " +
                                     std::to_string(info.Length()));
  }
  if (!info[0].IsObject() || info[0].IsArray() || info[0].IsTypedArray()) {
    throw_type_error(info.Env(), prefix() + "argument 'p' must be a params object, got " + type_name(info[0]));
  }
  params_ = info[0].As<Napi::Object>();
}

std::string Args::prefix() const { return std::string("medianomaly cpu ") + kernel_ + ": "; }

void Args::range_error(const std::string& msg) const { throw_range_error(env(), prefix() + msg); }

Napi::Value Args::field(const char* name) const { return params_.Get(name); }

bool Args::has(const char* name) const {
  Napi::Value v = field(name);
  return !v.IsUndefined() && !v.IsNull();
}

int64_t Args::integer(const char* name) const {
  Napi::Value v = field(name);
  if (!v.IsNumber()) throw_type_error(env(), prefix() + "p." + name + " must be an integer, got " + type_name(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > kMaxCount) {
    range_error(std::string("p.") + name + " must be an integer, got " + show_number(d));
  }
  return static_cast<int64_t>(d);
}

int64_t Args::size(const char* name) const {
  const int64_t v = integer(name);
  if (v < 0) range_error(std::string("p.") + name + " must be a non-negative integer, got " + std::to_string(v));
  return v;
}

int64_t Args::positive(const char* name) const {
  const int64_t v = integer(name);
  if (v < 1) range_error(std::string("p.") + name + " must be an integer ≥ 1, got " + std::to_string(v));
  return v;
}

int64_t Args::geometry(const char* name, int64_t min) const {
  const int64_t v = integer(name);
  if (v < min || v > kMaxGeometry) {
    range_error(std::string("p.") + name + " must be an integer in [" + std::to_string(min) + ", 2^20], got " +
                std::to_string(v));
  }
  return v;
}

double Args::number(const char* name, bool allow_nan) const {
  Napi::Value v = field(name);
  if (!v.IsNumber()) throw_type_error(env(), prefix() + "p." + name + " must be a number, got " + type_name(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!allow_nan && std::isnan(d)) range_error(std::string("p.") + name + " must not be NaN");
  return d;
}

bool Args::flag(const char* name) const {
  Napi::Value v = field(name);
  if (!v.IsBoolean()) throw_type_error(env(), prefix() + "p." + name + " must be a boolean, got " + type_name(v));
  return v.As<Napi::Boolean>().Value();
}

std::string Args::string(const char* name) const {
  Napi::Value v = field(name);
  if (!v.IsString()) throw_type_error(env(), prefix() + "p." + name + " must be a string, got " + type_name(v));
  return v.As<Napi::String>().Utf8Value();
}

std::vector<int64_t> Args::int_list(const char* name, size_t max_len, bool allow_negative) const {
  Napi::Value v = field(name);
  if (!v.IsArray()) throw_type_error(env(), prefix() + "p." + name + " must be an array of integers, got " + type_name(v));
  Napi::Array arr = v.As<Napi::Array>();
  const uint32_t len = arr.Length();
  if (len > max_len) {
    range_error(std::string("p.") + name + " has " + std::to_string(len) + " entries; at most " +
                std::to_string(max_len) + " are supported (collapse dims first)");
  }
  std::vector<int64_t> out(len);
  for (uint32_t i = 0; i < len; ++i) {
    Napi::Value e = arr.Get(i);
    const std::string what = std::string("p.") + name + "[" + std::to_string(i) + "]";
    if (!e.IsNumber()) throw_type_error(env(), prefix() + what + " must be an integer, got " + type_name(e));
    const double d = e.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > kMaxCount) {
      range_error(what + " must be an integer, got " + show_number(d));
    }
    if (!allow_negative && d < 0) range_error(what + " must be non-negative, got " + show_number(d));
    out[i] = static_cast<int64_t>(d);
  }
  return out;
}

template <typename T, typename ArrayT>
TypedArg<T> Args::typed(size_t index, const char* name, int64_t need, const char* what, napi_typedarray_type type,
                        const char* label) const {
  Napi::Value v = info_[index];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw_type_error(env(), prefix() + "argument '" + name + "' must be " + label + ", got " + type_name(v));
  }
  ArrayT arr = v.As<ArrayT>();
  TypedArg<T> out;
  out.data = arr.Data();  // honours byteOffset
  out.length = static_cast<int64_t>(arr.ElementLength());
  if (out.length < need) {
    range_error(std::string("argument '") + name + "' has " + std::to_string(out.length) +
                " elements but needs at least " + std::to_string(need) + " (" + what + ")");
  }
  return out;
}

F32Arg Args::f32(size_t index, const char* name, int64_t need, const char* what) const {
  return typed<float, Napi::Float32Array>(index, name, need, what, napi_float32_array, "a Float32Array");
}

F32Arg Args::f32_or_null(size_t index, const char* name, int64_t need, const char* what) const {
  Napi::Value v = info_[index];
  if (v.IsNull() || v.IsUndefined()) return F32Arg{};
  return f32(index, name, need, what);
}

I32Arg Args::i32(size_t index, const char* name, int64_t need, const char* what) const {
  return typed<int32_t, Napi::Int32Array>(index, name, need, what, napi_int32_array, "an Int32Array");
}

U16Arg Args::u16(size_t index, const char* name, int64_t need, const char* what) const {
  return typed<uint16_t, Napi::Uint16Array>(index, name, need, what, napi_uint16_array, "a Uint16Array (IEEE half bits)");
}

F64Arg Args::f64(size_t index, const char* name, int64_t need, const char* what) const {
  return typed<double, Napi::Float64Array>(index, name, need, what, napi_float64_array, "a Float64Array");
}

}  // namespace medianomaly::binding
