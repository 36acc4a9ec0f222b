// FrEIA AllInOneBlock's coupling step, forward and backward, and the Haar rotation
// (see medianomaly/coupling.h). Mirrored line by line by src/backend/ts/coupling.ts.
#include "medianomaly/coupling.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "medianomaly/threadpool.h"
#include "vec_math.h"

namespace medianomaly {

namespace {

// 0.1·Softplus(β = 0.5)(γ) = 0.2·ln(1 + exp(γ/2)), identity above γ/2 = 20 (PyTorch's threshold).
inline float global_scale(float gamma) {
  const float h = 0.5f * gamma;
  const float sp = h > 20.0f ? h : std::log1p(std::exp(h));
  return 0.2f * sp;
}

// dg/dγ = 0.2 · 0.5 · σ(γ/2) (PyTorch's softplus backward: z/(z + 1), z = e^h; 1 above the threshold).
inline float global_scale_grad(float gamma) {
  const float h = 0.5f * gamma;
  float d = 1.0f;
  if (!(h > 20.0f)) {
    const float z = std::exp(h);
    d = z / (z + 1.0f);
  }
  return 0.5f * d * 0.2f;
}

// The transcendentals of a row, 8 lanes at a time (AVX2 builds; the tail through a padded
// lane block, so every element goes through the same function wherever it sits).
// h = tanh(0.1·r) or tanh((0.1·r)/α).
void soft_clamp_row(int64_t n, const float* r, float alpha, bool scaled, float* h) {
#ifdef MEDIANOMALY_VEC_MATH
  const __m256 tenth = _mm256_set1_ps(0.1f), a = _mm256_set1_ps(alpha);
  auto lanes = [&](const float* src, float* dst) {
    __m256 s = _mm256_mul_ps(tenth, _mm256_loadu_ps(src));
    if (scaled) s = _mm256_div_ps(s, a);
    _mm256_storeu_ps(dst, vec::tanh(s));
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) lanes(r + i, h + i);
  if (i < n) {
    alignas(32) float in[8] = {0}, out[8];
    std::copy(r + i, r + n, in);
    lanes(in, out);
    std::copy(out, out + (n - i), h + i);
  }
#else
  for (int64_t i = 0; i < n; ++i) {
    const float s = 0.1f * r[i];
    h[i] = std::tanh(scaled ? s / alpha : s);
  }
#endif
}

// e = exp(α·h).
void exp_row(int64_t n, const float* h, float alpha, float* e) {
#ifdef MEDIANOMALY_VEC_MATH
  const __m256 a = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(e + i, vec::exp(_mm256_mul_ps(a, _mm256_loadu_ps(h + i))));
  if (i < n) {
    alignas(32) float in[8] = {0}, out[8];
    std::copy(h + i, h + n, in);
    _mm256_store_ps(out, vec::exp(_mm256_mul_ps(a, _mm256_load_ps(in))));
    std::copy(out, out + (n - i), e + i);
  }
#else
  for (int64_t i = 0; i < n; ++i) e[i] = std::exp(alpha * h[i]);
#endif
}

// One row of the transformed half: n contiguous elements, g/offset per element (gs = 1,
// vectors) or one value (gs = 0, maps). h (the row of th) is written first, e is scratch.
// u = x·e^j + 0.1·t; v = u·g + offset.
inline void forward_row(int64_t n, const float* x, const float* rs, const float* rt, const float* g,
                        const float* off, int64_t gs, float alpha, bool scaled, float* h, float* e, float* v) {
  soft_clamp_row(n, rs, alpha, scaled, h);
  exp_row(n, h, alpha, e);
  for (int64_t i = 0; i < n; ++i) {
    const float u = x[i] * e[i] + 0.1f * rt[i];
    v[i] = u * g[i * gs] + off[i * gs];
  }
}

int64_t grain_rows(int64_t row) { return std::max<int64_t>(1, 4096 / std::max<int64_t>(1, row)); }

}  // namespace

void coupling_forward(const CouplingParams& p, const float* x, const float* r, const float* gamma,
                      const float* offset, const int32_t* perm_inv, float* y, float* th, float* logdet) {
  const int64_t B = p.B, C = p.C, C1 = p.C1, C2 = p.C - p.C1, HW = p.HW;
  const float alpha = p.clamp;
  const bool scaled = p.scaled;
  std::vector<float> g(static_cast<size_t>(C));
  double log_g = 0.0;
  for (int64_t k = 0; k < C; ++k) {
    g[k] = global_scale(gamma[k]);
    log_g += std::log(static_cast<double>(g[k]));
  }
  if (HW == 1) {
    // Vectors: one task row per sample; v assembled in order, then placed by the permutation.
    parallel_for(B, grain_rows(C), [&](int64_t b0, int64_t b1) {
      std::vector<float> v(static_cast<size_t>(C)), e(static_cast<size_t>(C2));
      for (int64_t b = b0; b < b1; ++b) {
        const float* xr = x + b * C;
        for (int64_t k = 0; k < C1; ++k) v[k] = xr[k] * g[k] + offset[k];
        float* hr = th + b * C2;
        forward_row(C2, xr + C1, r + b * 2 * C2, r + b * 2 * C2 + C2, g.data() + C1, offset + C1, 1, alpha, scaled,
                    hr, e.data(), v.data() + C1);
        float* yr = y + b * C;
        if (perm_inv)
          for (int64_t k = 0; k < C; ++k) yr[perm_inv[k]] = v[k];
        else
          std::copy(v.begin(), v.end(), yr);
      }
    });
  } else {
    // Maps: one task row per (sample, channel), positions contiguous.
    parallel_for(B * C, grain_rows(HW), [&](int64_t t0, int64_t t1) {
      std::vector<float> e(static_cast<size_t>(HW));
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t b = t / C, k = t % C;
        const float gk = g[k], off = offset[k];
        const float* xr = x + (b * C + k) * HW;
        float* yr = y + (b * C + (perm_inv ? perm_inv[k] : k)) * HW;
        if (k < C1) {
          for (int64_t i = 0; i < HW; ++i) yr[i] = xr[i] * gk + off;
          continue;
        }
        const int64_t m = k - C1;
        forward_row(HW, xr, r + (b * 2 * C2 + m) * HW, r + (b * 2 * C2 + C2 + m) * HW, &gk, &off, 0, alpha, scaled,
                    th + (b * C2 + m) * HW, e.data(), yr);
      }
    });
  }
  parallel_for(B, grain_rows(C2 * HW), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const float* hr = th + b * C2 * HW;
      double s = 0.0;
      for (int64_t i = 0; i < C2 * HW; ++i) s += alpha * hr[i];
      logdet[b] = static_cast<float>(s + static_cast<double>(HW) * log_g);
    }
  });
}

namespace {

// One row of the transformed half's backward (see forward_row): from dv and dl (the
// sample's log-det gradient) to dx2, dt, ds; pu[i] = dv·u for the γ sums. e is scratch.
inline void backward_row(int64_t n, const float* x, const float* rt, const float* h, const float* dv, const float* g,
                         int64_t gs, float alpha, bool scaled, float dl, float* e, float* dx, float* ds, float* dt,
                         float* pu) {
  exp_row(n, h, alpha, e);
  for (int64_t i = 0; i < n; ++i) {
    const float xe = x[i] * e[i];
    const float u = xe + 0.1f * rt[i];
    pu[i] = dv[i] * u;
    const float du = dv[i] * g[i * gs];
    dx[i] = du * e[i];
    dt[i] = 0.1f * du;
    const float dj = du * xe + dl;
    const float dh = 1.0f - h[i] * h[i];
    ds[i] = 0.1f * (scaled ? dj * dh : dj * (alpha * dh));
  }
}

}  // namespace

void coupling_backward(const CouplingParams& p, const float* x, const float* r, const float* th,
                       const float* gamma, const int32_t* perm_inv, const float* dy, const float* dlogdet,
                       float* dx, float* dr, float* dgamma, float* doffset) {
  const int64_t B = p.B, C = p.C, C1 = p.C1, C2 = p.C - p.C1, HW = p.HW;
  const float alpha = p.clamp;
  const bool scaled = p.scaled;
  double dl_sum = 0.0;
  if (dlogdet)
    for (int64_t b = 0; b < B; ++b) dl_sum += dlogdet[b];
  std::vector<float> g(static_cast<size_t>(C));
  for (int64_t k = 0; k < C; ++k) g[k] = global_scale(gamma[k]);
  // Per-channel sums Σ dv·u and Σ dv over (b, position), each added in that order by one task.
  std::vector<double> su(static_cast<size_t>(C), 0.0), so(static_cast<size_t>(C), 0.0);
  if (HW == 1) {
    // Vectors: tasks over blocks of channels; within a block, samples in order.
    constexpr int64_t kBlock = 64;
    const int64_t blocks = (C + kBlock - 1) / kBlock;
    parallel_for(blocks, grain_rows(B * kBlock), [&](int64_t q0, int64_t q1) {
      std::vector<float> dv(kBlock), pu(kBlock), e(kBlock);
      for (int64_t q = q0; q < q1; ++q) {
        const int64_t k0 = q * kBlock, k1 = std::min(C, k0 + kBlock);
        for (int64_t b = 0; b < B; ++b) {
          const float dl = dlogdet ? dlogdet[b] : 0.0f;
          const float* dyr = dy + b * C;
          for (int64_t k = k0; k < k1; ++k) dv[k - k0] = dyr[perm_inv ? perm_inv[k] : k];
          const float* xr = x + b * C;
          float* dxr = dx + b * C;
          for (int64_t k = k0; k < std::min(k1, C1); ++k) {
            const float d = dv[k - k0];
            su[k] += d * xr[k];
            so[k] += d;
            dxr[k] = d * g[k];
          }
          const int64_t a0 = std::max(k0, C1);
          if (a0 < k1) {
            const int64_t n = k1 - a0, m0 = a0 - C1;
            backward_row(n, xr + a0, r + b * 2 * C2 + C2 + m0, th + b * C2 + m0, dv.data() + (a0 - k0), g.data() + a0, 1,
                         alpha, scaled, dl, e.data(), dxr + a0, dr + b * 2 * C2 + m0, dr + b * 2 * C2 + C2 + m0,
                         pu.data());
            for (int64_t i = 0; i < n; ++i) {
              su[a0 + i] += pu[i];
              so[a0 + i] += dv[a0 - k0 + i];
            }
          }
        }
      }
    });
  } else {
    // Maps: tasks over channels; each channel's (b, position) rows in order.
    parallel_for(C, grain_rows(B * HW), [&](int64_t k0, int64_t k1) {
      std::vector<float> pu(static_cast<size_t>(HW)), e(static_cast<size_t>(HW));
      for (int64_t k = k0; k < k1; ++k) {
        const float gk = g[k];
        const int64_t o = perm_inv ? perm_inv[k] : k;
        double acc_u = 0.0, acc_o = 0.0;
        for (int64_t b = 0; b < B; ++b) {
          const float* xr = x + (b * C + k) * HW;
          const float* dvr = dy + (b * C + o) * HW;
          float* dxr = dx + (b * C + k) * HW;
          if (k < C1) {
            for (int64_t i = 0; i < HW; ++i) {
              acc_u += dvr[i] * xr[i];
              acc_o += dvr[i];
              dxr[i] = dvr[i] * gk;
            }
            continue;
          }
          const int64_t m = k - C1;
          const float dl = dlogdet ? dlogdet[b] : 0.0f;
          backward_row(HW, xr, r + (b * 2 * C2 + C2 + m) * HW, th + (b * C2 + m) * HW, dvr, &gk, 0, alpha, scaled, dl,
                       e.data(), dxr, dr + (b * 2 * C2 + m) * HW, dr + (b * 2 * C2 + C2 + m) * HW, pu.data());
          for (int64_t i = 0; i < HW; ++i) {
            acc_u += pu[i];
            acc_o += dvr[i];
          }
        }
        su[k] = acc_u;
        so[k] = acc_o;
      }
    });
  }
  for (int64_t k = 0; k < C; ++k) {
    const double gk = g[k];
    const double gd = global_scale_grad(gamma[k]);
    dgamma[k] = static_cast<float>(gd * su[k] + dl_sum * static_cast<double>(HW) * gd / gk);
    doffset[k] = static_cast<float>(so[k]);
  }
}

namespace {

// vᵀcol over rows k..C−1 in 8 interleaved partial sums (vectorisable without reordering
// anything the ts reference does not reorder the same way), combined pairwise, tail last.
inline double dot8(const double* v, const double* col, int64_t k, int64_t C) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = k;
  for (; i + 8 <= C; i += 8)
    for (int l = 0; l < 8; ++l) acc[l] += v[i + l] * col[i + l];
  double dot = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < C; ++i) dot += v[i] * col[i];
  return dot;
}

// Reflection k applied to column `col` (rows k..C−1): col −= β·(vᵀcol)·v.
inline void reflect(const double* v, double bk, int64_t k, int64_t C, double* col) {
  const double dot = dot8(v, col, k, C);
  const double f = bk * dot;
  for (int64_t i = k; i < C; ++i) col[i] -= f * v[i];
}

}  // namespace

Status coupling_rotation(int64_t C, double* a, double* q) {
  // Householder vector k occupies a's column k from row k on (R's diagonal sign kept aside).
  // Blocked by panels of kPanel reflections: each trailing column receives a panel's
  // reflections in one visit while it sits in cache. Every column still gets the same
  // reflections in the same order as the unblocked loop of the ts reference, so the
  // result is the same bits, for every thread count.
  constexpr int64_t kPanel = 32;
  std::vector<double> beta, rsign;
  try {
    beta.assign(static_cast<size_t>(C), 0.0);
    rsign.assign(static_cast<size_t>(C), 1.0);
  } catch (...) {
    return Status::kOutOfMemory;
  }
  int64_t reflections = 0;
  for (int64_t k0 = 0; k0 < C; k0 += kPanel) {
    const int64_t k1 = std::min(C, k0 + kPanel);
    for (int64_t k = k0; k < k1; ++k) {
      double* v = a + k * C;
      double norm2 = 0.0;
      for (int64_t i = k; i < C; ++i) norm2 += v[i] * v[i];
      const double norm = std::sqrt(norm2);
      const double x0 = v[k];
      if (k == C - 1 || norm == 0.0) {
        rsign[k] = x0 < 0.0 ? -1.0 : 1.0;  // nothing to reflect: R[k, k] = x0
        continue;
      }
      // H·x = α·e_k with α = −sign(x0)·‖x‖, v = x − α·e_k (no cancellation), β = 2 / vᵀv.
      const double alpha = x0 < 0.0 ? norm : -norm;
      v[k] = x0 - alpha;
      double vv = 0.0;
      for (int64_t i = k; i < C; ++i) vv += v[i] * v[i];
      beta[k] = 2.0 / vv;
      rsign[k] = alpha < 0.0 ? -1.0 : 1.0;
      ++reflections;
      for (int64_t j = k + 1; j < k1; ++j) reflect(v, beta[k], k, C, a + j * C);  // the rest of the panel
    }
    const int64_t rest = C - k1;
    parallel_for(rest, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, C)), [&](int64_t j0, int64_t j1) {
      for (int64_t j = k1 + j0; j < k1 + j1; ++j)
        for (int64_t k = k0; k < k1; ++k)
          if (beta[k] != 0.0) reflect(a + k * C, beta[k], k, C, a + j * C);
    });
  }
  // Q = H_0·H_1·…·H_{C−2}, accumulated from the last reflection back, column-major in q:
  // column j receives reflections k ≤ j in descending order (H_k leaves e_j, j < k, alone).
  std::fill(q, q + C * C, 0.0);
  for (int64_t i = 0; i < C; ++i) q[i * C + i] = 1.0;
  for (int64_t k1 = C; k1 > 0; k1 -= kPanel) {
    const int64_t k0 = std::max<int64_t>(0, k1 - kPanel);
    parallel_for(C - k0, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, C)), [&](int64_t j0, int64_t j1) {
      for (int64_t j = k0 + j0; j < k0 + j1; ++j)
        for (int64_t k = std::min(k1 - 1, j); k >= k0; --k)
          if (beta[k] != 0.0) reflect(a + k * C, beta[k], k, C, q + j * C);
    });
  }
  // Q·diag(sign R_kk) (Haar on O(C)); det Q = (−1)^reflections · Π signs; negate column 0 if −1.
  double det = reflections % 2 == 0 ? 1.0 : -1.0;
  for (int64_t k = 0; k < C; ++k) {
    if (rsign[k] < 0.0) {
      det = -det;
      for (int64_t i = 0; i < C; ++i) q[k * C + i] = -q[k * C + i];
    }
  }
  if (det < 0.0)
    for (int64_t i = 0; i < C; ++i) q[i] = -q[i];
  // In place to row-major: transpose.
  for (int64_t i = 0; i < C; ++i)
    for (int64_t j = i + 1; j < C; ++j) std::swap(q[i * C + j], q[j * C + i]);
  return Status::kOk;
}

}  // namespace medianomaly
