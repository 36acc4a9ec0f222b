// GroupNorm → SiLU fused (see medianomaly/group_norm_silu.h). Every value is computed with
// the expressions, operation order and lane layout of group_norm_forward / _backward
// (norm.cc, -ffp-contract=off) and of the unary silu and its derivative (elementwise.cc,
// vec_math.h), so the results are bitwise the unfused ones; the work is split over whole
// (sample, group) blocks or planes, never inside one, so no result depends on the thread
// count.
#include "medianomaly/group_norm_silu.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "medianomaly/threadpool.h"
#include "norm_planes.h"
#include "vec_math.h"

namespace medianomaly {

namespace {

using norm_planes::group_norm_apply;
using norm_planes::plane_grad_sums;

#ifdef MEDIANOMALY_VEC_MATH

// y = silu((x − m)·s + b) over one plane; a partial last vector runs zero-padded, as the
// unary kernel's does (each lane's result depends on that lane alone).
void affine_silu_plane(const float* x, int64_t n, float m, float s, float b, float* y) {
  const __m256 vm = _mm256_set1_ps(m), vs = _mm256_set1_ps(s), vb = _mm256_set1_ps(b);
  auto f = [&](__m256 v) { return vec::silu(_mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(v, vm), vs), vb)); };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    // The unfused path pads the GroupNorm *output* with zeros; only the first n − i lanes are kept.
    float bx[8] = {}, by[8];
    std::copy(x + i, x + n, bx);
    __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(bx), vm), vs), vb);
    _mm256_storeu_ps(by, vec::silu(v));
    std::copy(by, by + (n - i), y + i);
  }
}

// dz = dy · silu'((x − m)·s + b) over one plane, silu' as elementwise.cc's vector form.
void affine_silu_grad_plane(const float* x, const float* dy, int64_t n, float m, float s, float b, float* dz) {
  const __m256 vm = _mm256_set1_ps(m), vs = _mm256_set1_ps(s), vb = _mm256_set1_ps(b), one = _mm256_set1_ps(1.0f);
  auto f = [&](__m256 xv, __m256 g) {
    const __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(xv, vm), vs), vb);
    const __m256 sg = vec::sigmoid(v);
    const __m256 t = _mm256_add_ps(one, _mm256_mul_ps(v, _mm256_sub_ps(one, sg)));
    return _mm256_mul_ps(_mm256_mul_ps(g, sg), t);
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dz + i, f(_mm256_loadu_ps(x + i), _mm256_loadu_ps(dy + i)));
  if (i < n) {
    float bx[8] = {}, bg[8] = {}, bd[8];
    std::copy(x + i, x + n, bx);
    std::copy(dy + i, dy + n, bg);
    _mm256_storeu_ps(bd, f(_mm256_loadu_ps(bx), _mm256_loadu_ps(bg)));
    std::copy(bd, bd + (n - i), dz + i);
  }
}

#else

inline float sigmoidf(float v) { return 1.0f / (1.0f + std::exp(-v)); }

void affine_silu_plane(const float* x, int64_t n, float m, float s, float b, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = (x[i] - m) * s + b;
    y[i] = v * sigmoidf(v);
  }
}

void affine_silu_grad_plane(const float* x, const float* dy, int64_t n, float m, float s, float b, float* dz) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = (x[i] - m) * s + b;
    const float sg = sigmoidf(v);
    dz[i] = dy[i] * sg * (1.0f + v * (1.0f - sg));
  }
}

#endif

}  // namespace

void group_norm_silu_forward(const GroupNormParams& p, const float* x, const float* gamma, const float* beta, float* y,
                             float* mean, float* invstd) {
  group_norm_apply(p, x, gamma, beta, y, mean, invstd, affine_silu_plane);
}

void group_norm_silu_backward(const GroupNormParams& p, const float* x, const float* dy, const float* mean,
                              const float* invstd, const float* gamma, const float* beta, float* dx, float* dgamma,
                              float* dbeta) {
  const int64_t N = p.N, C = p.C, HW = p.HW, G = p.G, Cg = C / G;
  const int64_t block = Cg * HW;
  // Pass 1, per plane: dz = dy·silu'(z) into dx, and its sums Σdz, Σdz·(x − mean), which
  // group_norm_backward computes twice (for dx and for dgamma / dbeta).
  std::vector<double> s1(static_cast<size_t>(N * C)), s2(static_cast<size_t>(N * C));
  parallel_for(N * C, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, HW)), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / C, c = t % C, ng = n * G + c / Cg;
      const float m = mean[ng];
      const float s = invstd[ng] * (gamma ? gamma[c] : 1.0f);
      float* dz = dx + t * HW;
      affine_silu_grad_plane(x + t * HW, dy + t * HW, HW, m, s, beta ? beta[c] : 0.0f, dz);
      double a = 0.0, b = 0.0;
      plane_grad_sums(x + t * HW, dz, HW, m, &a, &b);
      s1[t] = a;
      s2[t] = b;
    }
  });
  // Pass 2, per channel: dgamma = Σ_n Σdz·(x − mean)·invstd, dbeta = Σ_n Σdz (norm.cc's order).
  if (dgamma || dbeta) {
    for (int64_t c = 0; c < C; ++c) {
      double sg = 0.0, sb = 0.0;
      for (int64_t n = 0; n < N; ++n) {
        sb += s1[n * C + c];
        sg += s2[n * C + c] * invstd[n * G + c / Cg];
      }
      if (dgamma) dgamma[c] = static_cast<float>(sg);
      if (dbeta) dbeta[c] = static_cast<float>(sb);
    }
  }
  // Pass 3, per (n, g): dx = invstd·γ·dz − k_mean − k_x·(x − mean), in place over dz.
  parallel_for(N * G, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / G, g = t % G;
      const float m = mean[t];
      const double is = invstd[t];
      double a = 0.0, b = 0.0;
      for (int64_t cl = 0; cl < Cg; ++cl) {
        const int64_t c = g * Cg + cl;
        const double gm = gamma ? gamma[c] : 1.0;
        a += gm * s1[n * C + c];
        b += gm * s2[n * C + c];
      }
      const double M = static_cast<double>(block);
      const float k_mean = M > 0 ? static_cast<float>(is * a / M) : 0.0f;
      const float k_x = M > 0 ? static_cast<float>(is * is * is * b / M) : 0.0f;
      for (int64_t cl = 0; cl < Cg; ++cl) {
        const int64_t c = g * Cg + cl;
        const int64_t off = (n * C + c) * HW;
        const float k_dy = static_cast<float>(is * (gamma ? gamma[c] : 1.0f));
        for (int64_t i = 0; i < HW; ++i) dx[off + i] = k_dy * dx[off + i] - k_mean - k_x * (x[off + i] - m);
      }
    }
  });
}

}  // namespace medianomaly
