// Reductions and softmax over the middle axis of [outer, mid, inner]. Sums accumulate
// in double (in a fixed order: results do not depend on threads). With inner = 1 a
// reduction walks contiguous rows; otherwise it sweeps whole inner rows, which keeps
// the memory access contiguous.
#include "medianomaly/reduce.h"

#include <cmath>
#include <limits>
#include <vector>

#include "medianomaly/threadpool.h"

namespace medianomaly {

namespace {

constexpr int64_t kGrain = 16384;

int64_t grain_for(int64_t work_per_item) { return std::max<int64_t>(1, kGrain / std::max<int64_t>(1, work_per_item)); }

}  // namespace

void reduce_sum(const ReduceParams& p, const float* x, float* y) {
  const int64_t O = p.outer, M = p.mid, I = p.inner;
  if (I == 1) {
    parallel_for(O, grain_for(M), [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        const float* r = x + o * M;
        double acc[8] = {};
        int64_t m = 0;
        for (; m + 8 <= M; m += 8)
          for (int j = 0; j < 8; ++j) acc[j] += r[m + j];
        double s = 0.0;
        for (int j = 0; j < 8; ++j) s += acc[j];
        for (; m < M; ++m) s += r[m];
        y[o] = static_cast<float>(s);
      }
    });
    return;
  }
  // Items are (outer, inner block) pairs so that a single outer still spreads over threads.
  constexpr int64_t kBlock = 1024;
  const int64_t blocks = (I + kBlock - 1) / kBlock;
  parallel_for(O * blocks, grain_for(M * std::min(I, kBlock)), [&](int64_t t0, int64_t t1) {
    std::vector<double> acc(static_cast<size_t>(std::min(I, kBlock)));
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / blocks, i0 = (t % blocks) * kBlock, n = std::min(kBlock, I - i0);
      std::fill(acc.begin(), acc.begin() + n, 0.0);
      for (int64_t m = 0; m < M; ++m) {
        const float* r = x + (o * M + m) * I + i0;
        for (int64_t i = 0; i < n; ++i) acc[i] += r[i];
      }
      float* yr = y + o * I + i0;
      for (int64_t i = 0; i < n; ++i) yr[i] = static_cast<float>(acc[i]);
    }
  });
}

void reduce_max(const ReduceParams& p, const float* x, float* y, int32_t* argmax) {
  const int64_t O = p.outer, M = p.mid, I = p.inner;
  parallel_for(O * I, grain_for(M), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / I, i = t % I;
      const float* base = x + o * M * I + i;
      float best = M > 0 ? base[0] : -std::numeric_limits<float>::infinity();
      int64_t best_m = 0;
      if (!std::isnan(best)) {
        for (int64_t m = 1; m < M; ++m) {
          const float v = base[m * I];
          if (std::isnan(v)) {
            best = v;
            best_m = m;
            break;
          }
          if (v > best) {
            best = v;
            best_m = m;
          }
        }
      }
      y[t] = best;
      argmax[t] = static_cast<int32_t>(best_m);
    }
  });
}

namespace {

// Softmax family over one (outer, inner) column, elements at base[m·I].
template <bool Log>
void softmax_column(const float* x, float* y, int64_t M, int64_t I) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t m = 0; m < M; ++m) mx = std::max(mx, x[m * I]);
  if (std::isinf(mx) && mx < 0) mx = 0.0f;  // all −inf: keep exp finite (gives NaN like PyTorch below)
  double s = 0.0;
  for (int64_t m = 0; m < M; ++m) s += std::exp(static_cast<double>(x[m * I]) - mx);
  if (Log) {
    const double lse = std::log(s) + mx;
    for (int64_t m = 0; m < M; ++m) y[m * I] = static_cast<float>(x[m * I] - lse);
  } else {
    const double inv = 1.0 / s;
    for (int64_t m = 0; m < M; ++m) y[m * I] = static_cast<float>(std::exp(static_cast<double>(x[m * I]) - mx) * inv);
  }
}

template <bool Log>
void softmax_impl(const ReduceParams& p, const float* x, float* y) {
  const int64_t O = p.outer, M = p.mid, I = p.inner;
  parallel_for(O * I, grain_for(M * 4), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / I, i = t % I;
      softmax_column<Log>(x + o * M * I + i, y + o * M * I + i, M, I);
    }
  });
}

}  // namespace

void softmax(const ReduceParams& p, const float* x, float* y) { softmax_impl<false>(p, x, y); }
void log_softmax(const ReduceParams& p, const float* x, float* y) { softmax_impl<true>(p, x, y); }

void softmax_backward(const ReduceParams& p, const float* y, const float* dy, float* dx) {
  const int64_t O = p.outer, M = p.mid, I = p.inner;
  // dx = y · (dy − Σ dy·y)
  parallel_for(O * I, grain_for(M * 2), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t base = (t / I) * M * I + t % I;
      double s = 0.0;
      for (int64_t m = 0; m < M; ++m) s += static_cast<double>(dy[base + m * I]) * y[base + m * I];
      const float sf = static_cast<float>(s);
      for (int64_t m = 0; m < M; ++m) dx[base + m * I] = y[base + m * I] * (dy[base + m * I] - sf);
    }
  });
}

void log_softmax_backward(const ReduceParams& p, const float* y, const float* dy, float* dx) {
  const int64_t O = p.outer, M = p.mid, I = p.inner;
  // dx = dy − exp(y) · Σ dy
  parallel_for(O * I, grain_for(M * 2), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t base = (t / I) * M * I + t % I;
      double s = 0.0;
      for (int64_t m = 0; m < M; ++m) s += dy[base + m * I];
      const float sf = static_cast<float>(s);
      for (int64_t m = 0; m < M; ++m) dx[base + m * I] = dy[base + m * I] - std::exp(y[base + m * I]) * sf;
    }
  });
}

}  // namespace medianomaly
