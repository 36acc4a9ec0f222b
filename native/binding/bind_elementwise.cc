// unary, unaryBackward, binary.
#include <cstring>

#include "args.h"
#include "medianomaly/copy.h"
#include "medianomaly/elementwise.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

struct UnaryName {
  const char* name;
  UnaryOp op;
};
constexpr UnaryName kUnaryOps[] = {
    {"neg", UnaryOp::kNeg},           {"relu", UnaryOp::kRelu},         {"leakyRelu", UnaryOp::kLeakyRelu},
    {"sigmoid", UnaryOp::kSigmoid},   {"tanh", UnaryOp::kTanh},         {"silu", UnaryOp::kSilu},
    {"exp", UnaryOp::kExp},           {"log", UnaryOp::kLog},           {"sqrt", UnaryOp::kSqrt},
    {"abs", UnaryOp::kAbs},           {"square", UnaryOp::kSquare},     {"reciprocal", UnaryOp::kReciprocal},
    {"softplus", UnaryOp::kSoftplus}, {"clamp", UnaryOp::kClamp},       {"powScalar", UnaryOp::kPowScalar},
    {"addScalar", UnaryOp::kAddScalar}, {"mulScalar", UnaryOp::kMulScalar},
};

UnaryParams read_unary(const Args& a) {
  UnaryParams p;
  const std::string op = a.string("op");
  bool found = false;
  for (const auto& u : kUnaryOps)
    if (op == u.name) {
      p.op = u.op;
      found = true;
    }
  if (!found) a.range_error("p.op '" + op + "' is not a unary op (neg, relu, leakyRelu, sigmoid, tanh, silu, exp, log, sqrt, abs, square, reciprocal, softplus, clamp, powScalar, addScalar, mulScalar)");
  p.n = a.size("n");
  // alpha/beta only matter for some ops; absent means 0. clamp bounds may be ±Infinity.
  // They are data, never sizes or indices: NaN is allowed (x + NaN is NaN, as in PyTorch).
  p.alpha = a.has("alpha") ? static_cast<float>(a.number("alpha", true)) : 0.0f;
  p.beta = a.has("beta") ? static_cast<float>(a.number("beta", true)) : 0.0f;
  return p;
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  Args a(info, "unary", 3);
  const UnaryParams p = read_unary(a);
  const F32Arg x = a.f32(1, "x", p.n, "n");
  const F32Arg y = a.f32(2, "y", p.n, "n");
  unary(p, x.data, y.data);
  return a.env().Undefined();
}

Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  Args a(info, "unaryBackward", 5);
  const UnaryParams p = read_unary(a);
  const F32Arg x = a.f32(1, "x", p.n, "n");
  const F32Arg y = a.f32(2, "y", p.n, "n");
  const F32Arg dy = a.f32(3, "dy", p.n, "n");
  const F32Arg dx = a.f32(4, "dx", p.n, "n");
  unary_backward(p, x.data, y.data, dy.data, dx.data);
  return a.env().Undefined();
}

Napi::Value Binary(const Napi::CallbackInfo& info) {
  Args a(info, "binary", 4);
  BinaryParams p;
  const std::string op = a.string("op");
  if (op == "add") p.op = BinaryOp::kAdd;
  else if (op == "sub") p.op = BinaryOp::kSub;
  else if (op == "mul") p.op = BinaryOp::kMul;
  else if (op == "div") p.op = BinaryOp::kDiv;
  else if (op == "maximum") p.op = BinaryOp::kMaximum;
  else if (op == "minimum") p.op = BinaryOp::kMinimum;
  else if (op == "pow") p.op = BinaryOp::kPow;
  else a.range_error("p.op '" + op + "' is not a binary op (add, sub, mul, div, maximum, minimum, pow)");
  const auto shape = a.int_list("shape", kMaxDims, false);
  const auto as = a.int_list("aStrides", kMaxDims, true);
  const auto bs = a.int_list("bStrides", kMaxDims, true);
  if (as.size() != shape.size()) a.range_error("p.aStrides must have one entry per dim of p.shape");
  if (bs.size() != shape.size()) a.range_error("p.bStrides must have one entry per dim of p.shape");
  p.ndim = static_cast<int>(shape.size());
  double total = 1;
  for (int d = 0; d < p.ndim; ++d) {
    p.shape[d] = shape[d];
    p.aStrides[d] = as[d];
    p.bStrides[d] = bs[d];
    total *= static_cast<double>(shape[d]);
  }
  if (total > kMaxCount) a.range_error("p.shape has more than 2^53 elements");
  const int64_t n = static_cast<int64_t>(total);
  int64_t alo, ahi, blo, bhi;
  checked_extent(a.env(), "binary", "p.aStrides", p.ndim, p.shape, p.aStrides, 0, &alo, &ahi);
  checked_extent(a.env(), "binary", "p.bStrides", p.ndim, p.shape, p.bStrides, 0, &blo, &bhi);
  const F32Arg A = a.f32(1, "a", n > 0 ? ahi + 1 : 0, "the extent of p.shape with p.aStrides");
  const F32Arg B = a.f32(2, "b", n > 0 ? bhi + 1 : 0, "the extent of p.shape with p.bStrides");
  const F32Arg Y = a.f32(3, "y", n, "the product of p.shape");
  if (n > 0 && (alo < 0 || blo < 0)) a.range_error("negative strides in p.aStrides/p.bStrides would read before index 0");
  if (n == 0) return a.env().Undefined();
  binary(p, A.data, B.data, Y.data);
  return a.env().Undefined();
}

}  // namespace

void register_elementwise(Napi::Env env, Napi::Object exports) {
  define(env, exports, "unary", Unary);
  define(env, exports, "unaryBackward", UnaryBackward);
  define(env, exports, "binary", Binary);
}

}  // namespace medianomaly::binding
