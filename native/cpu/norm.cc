// Batch / group normalisation. Per-plane partial sums use 16 float lanes (two AVX2
// accumulators, accurate for planes of a few thousand values); planes are combined in
// double in a fixed order, so statistics do
// not depend on the thread count. Statistics are parallel over channels, elementwise
// passes over planes.
#include "medianomaly/norm.h"

#include <cmath>
#include <vector>

#include "medianomaly/threadpool.h"

#include "norm_planes.h"

namespace medianomaly {

// The per-plane sums (Σx, Σ(x − mean)², Σdy and Σdy·(x − mean)) are shared with
// group_norm_silu.cc, whose results must be bitwise these kernels'.
using norm_planes::group_norm_apply;
using norm_planes::plane_grad_sums;
using norm_planes::plane_sq_dev;
using norm_planes::plane_sum;

void batch_norm_stats(const ChannelParams& p, const float* x, float* mean, float* variance) {
  const int64_t N = p.N, C = p.C, HW = p.HW;
  const double count = static_cast<double>(N * HW);
  if (count == 0) {
    for (int64_t c = 0; c < C; ++c) mean[c] = variance[c] = NAN;
    return;
  }
  if (HW == 1) {
    // BatchNorm1d: x is [N, C]; walk rows, accumulate a run of channels at a time.
    parallel_for(C, 64, [&](int64_t c0, int64_t c1) {
      std::vector<double> s(static_cast<size_t>(c1 - c0), 0.0);
      for (int64_t n = 0; n < N; ++n)
        for (int64_t c = c0; c < c1; ++c) s[c - c0] += x[n * C + c];
      for (int64_t c = c0; c < c1; ++c) mean[c] = static_cast<float>(s[c - c0] / count);
      std::fill(s.begin(), s.end(), 0.0);
      for (int64_t n = 0; n < N; ++n)
        for (int64_t c = c0; c < c1; ++c) {
          const double d = static_cast<double>(x[n * C + c]) - mean[c];
          s[c - c0] += d * d;
        }
      for (int64_t c = c0; c < c1; ++c) variance[c] = static_cast<float>(s[c - c0] / count);
    });
    return;
  }
  parallel_for(C, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double s = 0.0;
      for (int64_t n = 0; n < N; ++n) s += plane_sum(x + (n * C + c) * HW, HW);
      const float m = static_cast<float>(s / count);
      double v = 0.0;
      for (int64_t n = 0; n < N; ++n) v += plane_sq_dev(x + (n * C + c) * HW, HW, m);
      mean[c] = m;
      variance[c] = static_cast<float>(v / count);
    }
  });
}

namespace {

// The unary relu's rule (elementwise.cc), NaN passing through.
inline float relu_of(float v) { return v > 0.0f ? v : (v == v ? 0.0f : v); }

// One body for both kernels so the fused one computes exactly the unfused arithmetic.
template <bool kRelu>
void apply_affine(const ChannelParams& p, const float* x, const float* mean, const float* invstd, const float* gamma,
                  const float* beta, float* y) {
  const int64_t N = p.N, C = p.C, HW = p.HW;
  std::vector<float> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    scale[c] = invstd[c] * (gamma ? gamma[c] : 1.0f);
    shift[c] = beta ? beta[c] : 0.0f;
  }
  if (HW == 1) {
    parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n)
        for (int64_t c = 0; c < C; ++c) {
          const float v = (x[n * C + c] - mean[c]) * scale[c] + shift[c];
          y[n * C + c] = kRelu ? relu_of(v) : v;
        }
    });
    return;
  }
  parallel_for(N * C, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, HW)), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t c = t % C;
      const float m = mean[c], s = scale[c], b = shift[c];
      const float* xp = x + t * HW;
      float* yp = y + t * HW;
      for (int64_t i = 0; i < HW; ++i) {
        const float v = (xp[i] - m) * s + b;
        yp[i] = kRelu ? relu_of(v) : v;
      }
    }
  });
}

}  // namespace

void batch_norm_apply(const ChannelParams& p, const float* x, const float* mean, const float* invstd,
                      const float* gamma, const float* beta, float* y) {
  apply_affine<false>(p, x, mean, invstd, gamma, beta, y);
}

void batch_norm_apply_relu(const ChannelParams& p, const float* x, const float* mean, const float* invstd,
                           const float* gamma, const float* beta, float* y) {
  apply_affine<true>(p, x, mean, invstd, gamma, beta, y);
}

void batch_norm_backward(const ChannelParams& p, bool training, const float* x, const float* dy, const float* mean,
                         const float* invstd, const float* gamma, float* dx, float* dgamma, float* dbeta) {
  const int64_t N = p.N, C = p.C, HW = p.HW;
  const double count = static_cast<double>(N * HW);
  std::vector<double> sdy(static_cast<size_t>(C), 0.0), sdyx(static_cast<size_t>(C), 0.0);
  if (HW == 1) {
    parallel_for(C, 64, [&](int64_t c0, int64_t c1) {
      for (int64_t n = 0; n < N; ++n)
        for (int64_t c = c0; c < c1; ++c) {
          const double g = dy[n * C + c];
          sdy[c] += g;
          sdyx[c] += g * (static_cast<double>(x[n * C + c]) - mean[c]);
        }
    });
  } else {
    parallel_for(C, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t n = 0; n < N; ++n) {
          const int64_t off = (n * C + c) * HW;
          plane_grad_sums(x + off, dy + off, HW, mean[c], &sdy[c], &sdyx[c]);
        }
    });
  }
  // dx = (dy − Σdy/M − (x − mean)·invstd²·Σ(dy·(x − mean))/M)·(g·invstd), factored as PyTorch
  // does (an infinite g then gives ±∞, not ∞ − ∞); eval mode keeps only g·invstd·dy.
  std::vector<float> k_dy(static_cast<size_t>(C)), k_mean(static_cast<size_t>(C)), k_x(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    const double is = invstd[c];
    const double g = gamma ? gamma[c] : 1.0;
    if (dbeta) dbeta[c] = static_cast<float>(sdy[c]);
    if (dgamma) dgamma[c] = static_cast<float>(sdyx[c] * is);
    k_dy[c] = static_cast<float>(g * is);
    if (training && count > 0) {
      k_mean[c] = static_cast<float>(sdy[c] / count);
      k_x[c] = static_cast<float>(is * is * sdyx[c] / count);
    } else {
      k_mean[c] = 0.0f;
      k_x[c] = 0.0f;
    }
  }
  if (!training) {
    // Eval mode is dx = g·invstd·dy exactly, as in PyTorch: no 0·(x − mean) term that an
    // infinite x would turn into NaN.
    parallel_for(N * C, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, HW)), [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const float a = k_dy[t % C];  // plane t = (n, c)
        const float* gp = dy + t * HW;
        float* dp = dx + t * HW;
        for (int64_t i = 0; i < HW; ++i) dp[i] = a * gp[i];
      }
    });
    return;
  }
  if (HW == 1) {
    parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n)
        for (int64_t c = 0; c < C; ++c) {
          const int64_t i = n * C + c;
          dx[i] = (dy[i] - k_mean[c] - k_x[c] * (x[i] - mean[c])) * k_dy[c];
        }
    });
    return;
  }
  parallel_for(N * C, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, HW)), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t c = t % C;
      const float a = k_dy[c], b = k_mean[c], k = k_x[c], m = mean[c];
      const float* xp = x + t * HW;
      const float* gp = dy + t * HW;
      float* dp = dx + t * HW;
      for (int64_t i = 0; i < HW; ++i) dp[i] = (gp[i] - b - k * (xp[i] - m)) * a;
    }
  });
}

void group_norm_forward(const GroupNormParams& p, const float* x, const float* gamma, const float* beta, float* y,
                        float* mean, float* invstd) {
  group_norm_apply(p, x, gamma, beta, y, mean, invstd,
                   [](const float* xr, int64_t n, float m, float s, float b, float* yr) {
                     for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - m) * s + b;
                   });
}

void group_norm_backward(const GroupNormParams& p, const float* x, const float* dy, const float* mean,
                         const float* invstd, const float* gamma, float* dx, float* dgamma, float* dbeta) {
  const int64_t N = p.N, C = p.C, HW = p.HW, G = p.G, Cg = C / G;
  const int64_t block = Cg * HW;
  // Per (n, g): with ĝ = dy·gamma, dx = invstd·(ĝ − Σĝ/M − x̂·Σ(ĝ·x̂)/M).
  parallel_for(N * G, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / G, g = t % G;
      const float m = mean[t];
      const double is = invstd[t];
      double a = 0.0, b = 0.0;  // Σĝ, Σĝ·(x − mean)
      for (int64_t cl = 0; cl < Cg; ++cl) {
        const int64_t c = g * Cg + cl;
        const int64_t off = (n * C + c) * HW;
        double s1 = 0.0, s2 = 0.0;
        plane_grad_sums(x + off, dy + off, HW, m, &s1, &s2);
        const double gm = gamma ? gamma[c] : 1.0;
        a += gm * s1;
        b += gm * s2;
      }
      const double M = static_cast<double>(block);
      const float k_mean = M > 0 ? static_cast<float>(is * a / M) : 0.0f;
      const float k_x = M > 0 ? static_cast<float>(is * is * is * b / M) : 0.0f;
      for (int64_t cl = 0; cl < Cg; ++cl) {
        const int64_t c = g * Cg + cl;
        const int64_t off = (n * C + c) * HW;
        const float k_dy = static_cast<float>(is * (gamma ? gamma[c] : 1.0f));
        for (int64_t i = 0; i < HW; ++i) dx[off + i] = k_dy * dy[off + i] - k_mean - k_x * (x[off + i] - m);
      }
    }
  });
  if (!dgamma && !dbeta) return;
  parallel_for(C, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t g = c / Cg;
      double sg = 0.0, sb = 0.0;
      for (int64_t n = 0; n < N; ++n) {
        const int64_t off = (n * C + c) * HW;
        double s1 = 0.0, s2 = 0.0;
        plane_grad_sums(x + off, dy + off, HW, mean[n * G + g], &s1, &s2);
        sb += s1;
        sg += s2 * invstd[n * G + g];
      }
      if (dgamma) dgamma[c] = static_cast<float>(sg);
      if (dbeta) dbeta[c] = static_cast<float>(sb);
    }
  });
}

}  // namespace medianomaly
