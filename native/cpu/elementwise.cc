// Elementwise kernels. The op switch sits outside the loops so that every loop body is
// a single expression the compiler vectorises; work is split in fixed-size chunks.
#include "medianomaly/elementwise.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "medianomaly/threadpool.h"
#include "vec_math.h"

namespace medianomaly {

namespace {

constexpr int64_t kGrain = 16384;

template <typename F>
void map1(int64_t n, const float* x, float* y, F f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = f(x[i]);
  });
}

// dx = g(x, y, dy)
template <typename F>
void map3(int64_t n, const float* x, const float* y, const float* dy, float* dx, F f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dx[i] = f(x[i], y[i], dy[i]);
  });
}

inline float sigmoidf(float v) { return 1.0f / (1.0f + std::exp(-v)); }

// torch.nn.functional.softplus with beta = 1, threshold = 20.
inline float softplusf(float v) { return v > 20.0f ? v : std::log1p(std::exp(v)); }

#ifdef MEDIANOMALY_VEC_MATH
// 8 lanes at a time; the last partial vector is run zero-padded through the same code,
// so each element's result is independent of where the chunk boundaries fall (and so of
// the thread count).
template <typename V>
void map1v(int64_t n, const float* x, float* y, V v) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    int64_t i = b;
    for (; i + 8 <= e; i += 8) _mm256_storeu_ps(y + i, v(_mm256_loadu_ps(x + i)));
    if (i < e) {
      float bx[8] = {}, by[8];
      std::copy(x + i, x + e, bx);
      _mm256_storeu_ps(by, v(_mm256_loadu_ps(bx)));
      std::copy(by, by + (e - i), y + i);
    }
  });
}

// dx = g(x, dy), as map1v.
template <typename V>
void map2v(int64_t n, const float* x, const float* dy, float* dx, V v) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    int64_t i = b;
    for (; i + 8 <= e; i += 8) _mm256_storeu_ps(dx + i, v(_mm256_loadu_ps(x + i), _mm256_loadu_ps(dy + i)));
    if (i < e) {
      float bx[8] = {}, bg[8] = {}, bd[8];
      std::copy(x + i, x + e, bx);
      std::copy(dy + i, dy + e, bg);
      _mm256_storeu_ps(bd, v(_mm256_loadu_ps(bx), _mm256_loadu_ps(bg)));
      std::copy(bd, bd + (e - i), dx + i);
    }
  });
}

// The exp-based ops through vec_math.h; false for ops that have no vector form here
// (the plain arithmetic ones, which the compiler vectorises from the scalar loops).
bool unary_vec(const UnaryParams& p, const float* x, float* y) {
  switch (p.op) {
    case UnaryOp::kSigmoid: map1v(p.n, x, y, [](__m256 v) { return vec::sigmoid(v); }); return true;
    case UnaryOp::kTanh: map1v(p.n, x, y, [](__m256 v) { return vec::tanh(v); }); return true;
    case UnaryOp::kSilu: map1v(p.n, x, y, [](__m256 v) { return vec::silu(v); }); return true;
    case UnaryOp::kExp: map1v(p.n, x, y, [](__m256 v) { return vec::exp(v); }); return true;
    case UnaryOp::kSoftplus: map1v(p.n, x, y, [](__m256 v) { return vec::softplus(v); }); return true;
    default: return false;
  }
}

bool unary_backward_vec(const UnaryParams& p, const float* x, const float* dy, float* dx) {
  switch (p.op) {
    case UnaryOp::kSilu:
      // Same expression and order as the scalar form: g·s·(1 + x·(1 − s)).
      map2v(p.n, x, dy, dx, [](__m256 v, __m256 g) {
        const __m256 one = _mm256_set1_ps(1.0f);
        const __m256 s = vec::sigmoid(v);
        const __m256 t = _mm256_add_ps(one, _mm256_mul_ps(v, _mm256_sub_ps(one, s)));
        return _mm256_mul_ps(_mm256_mul_ps(g, s), t);
      });
      return true;
    case UnaryOp::kSoftplus:
      map2v(p.n, x, dy, dx, [](__m256 v, __m256 g) {
        const __m256 gs = _mm256_mul_ps(g, vec::sigmoid(v));
        return _mm256_blendv_ps(gs, g, _mm256_cmp_ps(v, _mm256_set1_ps(20.0f), _CMP_GT_OQ));
      });
      return true;
    default: return false;
  }
}
#else
bool unary_vec(const UnaryParams&, const float*, float*) { return false; }
bool unary_backward_vec(const UnaryParams&, const float*, const float*, float*) { return false; }
#endif

}  // namespace

void unary(const UnaryParams& p, const float* x, float* y) {
  if (unary_vec(p, x, y)) return;
  const float a = p.alpha, b = p.beta;
  const int64_t n = p.n;
  switch (p.op) {
    case UnaryOp::kNeg: return map1(n, x, y, [](float v) { return -v; });
    case UnaryOp::kRelu: return map1(n, x, y, [](float v) { return v > 0.0f ? v : (v == v ? 0.0f : v); });
    case UnaryOp::kLeakyRelu: return map1(n, x, y, [a](float v) { return v > 0.0f ? v : v * a; });
    case UnaryOp::kSigmoid: return map1(n, x, y, [](float v) { return sigmoidf(v); });
    case UnaryOp::kTanh: return map1(n, x, y, [](float v) { return std::tanh(v); });
    case UnaryOp::kSilu: return map1(n, x, y, [](float v) { return v * sigmoidf(v); });
    case UnaryOp::kExp: return map1(n, x, y, [](float v) { return std::exp(v); });
    case UnaryOp::kLog: return map1(n, x, y, [](float v) { return std::log(v); });
    case UnaryOp::kSqrt: return map1(n, x, y, [](float v) { return std::sqrt(v); });
    case UnaryOp::kAbs: return map1(n, x, y, [](float v) { return std::fabs(v); });
    case UnaryOp::kSquare: return map1(n, x, y, [](float v) { return v * v; });
    case UnaryOp::kReciprocal: return map1(n, x, y, [](float v) { return 1.0f / v; });
    case UnaryOp::kSoftplus: return map1(n, x, y, [](float v) { return softplusf(v); });
    case UnaryOp::kClamp:
      // torch.clamp: NaN stays NaN; min is applied first, then max.
      return map1(n, x, y, [a, b](float v) { return v != v ? v : std::min(std::max(v, a), b); });
    case UnaryOp::kPowScalar: return map1(n, x, y, [a](float v) { return std::pow(v, a); });
    case UnaryOp::kAddScalar: return map1(n, x, y, [a](float v) { return v + a; });
    case UnaryOp::kMulScalar: return map1(n, x, y, [a](float v) { return v * a; });
  }
}

void unary_backward(const UnaryParams& p, const float* x, const float* y, const float* dy, float* dx) {
  if (unary_backward_vec(p, x, dy, dx)) return;
  const float a = p.alpha, b = p.beta;
  const int64_t n = p.n;
  switch (p.op) {
    case UnaryOp::kNeg: return map3(n, x, y, dy, dx, [](float, float, float g) { return -g; });
    case UnaryOp::kRelu: return map3(n, x, y, dy, dx, [](float, float r, float g) { return r > 0.0f ? g : 0.0f; });
    case UnaryOp::kLeakyRelu:
      return map3(n, x, y, dy, dx, [a](float v, float, float g) { return v > 0.0f ? g : g * a; });
    case UnaryOp::kSigmoid:
      return map3(n, x, y, dy, dx, [](float, float s, float g) { return g * s * (1.0f - s); });
    case UnaryOp::kTanh: return map3(n, x, y, dy, dx, [](float, float t, float g) { return g * (1.0f - t * t); });
    case UnaryOp::kSilu:
      return map3(n, x, y, dy, dx, [](float v, float, float g) {
        const float s = sigmoidf(v);
        return g * s * (1.0f + v * (1.0f - s));
      });
    case UnaryOp::kExp: return map3(n, x, y, dy, dx, [](float, float e, float g) { return g * e; });
    case UnaryOp::kLog: return map3(n, x, y, dy, dx, [](float v, float, float g) { return g / v; });
    case UnaryOp::kSqrt: return map3(n, x, y, dy, dx, [](float, float r, float g) { return g / (2.0f * r); });
    case UnaryOp::kAbs:
      return map3(n, x, y, dy, dx, [](float v, float, float g) {
        return v > 0.0f ? g : (v < 0.0f ? -g : (v == v ? 0.0f * g : v));
      });
    case UnaryOp::kSquare: return map3(n, x, y, dy, dx, [](float v, float, float g) { return 2.0f * v * g; });
    case UnaryOp::kReciprocal: return map3(n, x, y, dy, dx, [](float, float r, float g) { return -g * r * r; });
    case UnaryOp::kSoftplus:
      return map3(n, x, y, dy, dx, [](float v, float, float g) { return v > 20.0f ? g : g * sigmoidf(v); });
    case UnaryOp::kClamp:
      return map3(n, x, y, dy, dx, [a, b](float v, float, float g) { return (v >= a && v <= b) ? g : 0.0f; });
    case UnaryOp::kPowScalar:
      return map3(n, x, y, dy, dx, [a](float v, float, float g) {
        return a == 0.0f ? 0.0f : g * a * std::pow(v, a - 1.0f);
      });
    case UnaryOp::kAddScalar: return map3(n, x, y, dy, dx, [](float, float, float g) { return g; });
    case UnaryOp::kMulScalar: return map3(n, x, y, dy, dx, [a](float, float, float g) { return g * a; });
  }
}

namespace {

struct Add { static float f(float a, float b) { return a + b; } };
struct Sub { static float f(float a, float b) { return a - b; } };
struct Mul { static float f(float a, float b) { return a * b; } };
struct Div { static float f(float a, float b) { return a / b; } };
// torch.maximum / minimum propagate NaN (a + b is NaN when either is).
struct Max { static float f(float a, float b) { return a > b ? a : (b > a ? b : (a == b ? a : a + b)); } };
struct Min { static float f(float a, float b) { return a < b ? a : (b < a ? b : (a == b ? a : a + b)); } };
struct Pow { static float f(float a, float b) { return std::pow(a, b); } };

// One contiguous output row: the four stride patterns get their own loops.
template <typename Op>
inline void row(int64_t n, const float* a, int64_t sa, const float* b, int64_t sb, float* y) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) y[i] = Op::f(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const float bv = b[0];
    for (int64_t i = 0; i < n; ++i) y[i] = Op::f(a[i], bv);
  } else if (sa == 0 && sb == 1) {
    const float av = a[0];
    for (int64_t i = 0; i < n; ++i) y[i] = Op::f(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = Op::f(a[i * sa], b[i * sb]);
  }
}

template <typename Op>
void binary_impl(const BinaryParams& p, const float* a, const float* b, float* y) {
  const int nd = p.ndim;
  int64_t total = 1;
  for (int d = 0; d < nd; ++d) total *= p.shape[d];
  if (total == 0) return;
  if (nd == 0) {
    y[0] = Op::f(a[0], b[0]);
    return;
  }
  // Dense operands: one flat loop.
  bool dense = true;
  int64_t stride = 1;
  for (int d = nd - 1; d >= 0; --d) {
    if (p.shape[d] != 1 && (p.aStrides[d] != stride || p.bStrides[d] != stride)) dense = false;
    stride *= p.shape[d];
  }
  if (dense) {
    parallel_for(total, kGrain, [&](int64_t s, int64_t e) { row<Op>(e - s, a + s, 1, b + s, 1, y + s); });
    return;
  }
  // Split by output element, not by row, so a few long rows (a scalar or per-row operand
  // over a large tensor) still spread over the pool. Each chunk walks its rows with an
  // odometer over the outer dims; an element's result never depends on the split.
  const int64_t inner = p.shape[nd - 1];
  const int64_t sai = p.aStrides[nd - 1], sbi = p.bStrides[nd - 1];
  parallel_for(total, kGrain, [&](int64_t s, int64_t e) {
    int64_t idx[kMaxDims] = {};
    int64_t rem = s / inner;
    int64_t col = s % inner;
    for (int d = nd - 2; d >= 0; --d) {
      idx[d] = rem % p.shape[d];
      rem /= p.shape[d];
    }
    int64_t oa = 0, ob = 0;
    for (int d = 0; d < nd - 1; ++d) {
      oa += idx[d] * p.aStrides[d];
      ob += idx[d] * p.bStrides[d];
    }
    for (int64_t pos = s; pos < e; col = 0) {
      const int64_t len = std::min(inner - col, e - pos);
      row<Op>(len, a + oa + col * sai, sai, b + ob + col * sbi, sbi, y + pos);
      pos += len;
      for (int d = nd - 2; d >= 0; --d) {
        oa += p.aStrides[d];
        ob += p.bStrides[d];
        if (++idx[d] < p.shape[d]) break;
        oa -= idx[d] * p.aStrides[d];
        ob -= idx[d] * p.bStrides[d];
        idx[d] = 0;
      }
    }
  });
}

}  // namespace

void binary(const BinaryParams& p, const float* a, const float* b, float* y) {
  switch (p.op) {
    case BinaryOp::kAdd: return binary_impl<Add>(p, a, b, y);
    case BinaryOp::kSub: return binary_impl<Sub>(p, a, b, y);
    case BinaryOp::kMul: return binary_impl<Mul>(p, a, b, y);
    case BinaryOp::kDiv: return binary_impl<Div>(p, a, b, y);
    case BinaryOp::kMaximum: return binary_impl<Max>(p, a, b, y);
    case BinaryOp::kMinimum: return binary_impl<Min>(p, a, b, y);
    case BinaryOp::kPow: return binary_impl<Pow>(p, a, b, y);
  }
}

}  // namespace medianomaly
