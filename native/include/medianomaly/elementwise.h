// Elementwise kernels: unary ops and their derivatives, broadcasting binary ops.
#pragma once

#include <cstdint>

namespace medianomaly {

enum class UnaryOp {
  kNeg, kRelu, kLeakyRelu, kSigmoid, kTanh, kSilu, kExp, kLog, kSqrt, kAbs, kSquare,
  kReciprocal, kSoftplus, kClamp, kPowScalar, kAddScalar, kMulScalar,
};

struct UnaryParams {
  UnaryOp op = UnaryOp::kNeg;
  int64_t n = 0;
  float alpha = 0.0f;
  float beta = 0.0f;
};

enum class BinaryOp { kAdd, kSub, kMul, kDiv, kMaximum, kMinimum, kPow };

constexpr int kMaxDims = 6;

/**
 * Broadcasting binary op over `shape` (ndim ≤ 6); y is dense. Strides may be 0. The
 * binding checks each operand's extent in checked 64-bit arithmetic against its array.
 * Unary alpha/beta are data (NaN allowed: x + NaN is NaN), never sizes.
 */
struct BinaryParams {
  BinaryOp op = BinaryOp::kAdd;
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t aStrides[kMaxDims] = {};
  int64_t bStrides[kMaxDims] = {};
};

void unary(const UnaryParams& p, const float* x, float* y);
/** dx = dy · f'(x); y = f(x) is used where it is the cheaper form. */
void unary_backward(const UnaryParams& p, const float* x, const float* y, const float* dy, float* dx);
void binary(const BinaryParams& p, const float* a, const float* b, float* y);

}  // namespace medianomaly
