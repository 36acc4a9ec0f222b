// FrEIA AllInOneBlock's coupling step, forward and backward, and the Haar rotation
// (see medianomaly/coupling.h). Mirrored line by line by src/backend/ts/coupling.ts.
#include "medianomaly/coupling.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "medianomaly/threadpool.h"
#include "medianomaly/workspace.h"

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

// Channels per task for vectors (HW = 1): a 64-byte line of each sample's row.
constexpr int64_t kGrainElems = 4096;

int64_t channel_grain(const CouplingParams& p) {
  return std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, p.B * p.HW));
}

}  // namespace

void coupling_forward(const CouplingParams& p, const float* x, const float* r, const float* gamma,
                      const float* offset, const int32_t* perm_inv, float* y, float* th, float* logdet) {
  const int64_t B = p.B, C = p.C, C1 = p.C1, C2 = p.C - p.C1, HW = p.HW;
  const float alpha = p.clamp;
  const bool scaled = p.scaled;
  parallel_for(C, channel_grain(p), [&](int64_t k0, int64_t k1) {
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t k = k0; k < k1; ++k) {
        const float g = global_scale(gamma[k]);
        const float off = offset[k];
        const int64_t o = perm_inv ? perm_inv[k] : k;
        const float* xr = x + (b * C + k) * HW;
        float* yr = y + (b * C + o) * HW;
        if (k < C1) {
          for (int64_t i = 0; i < HW; ++i) yr[i] = xr[i] * g + off;
          continue;
        }
        const int64_t m = k - C1;
        const float* sr = r + (b * 2 * C2 + m) * HW;
        const float* tr = r + (b * 2 * C2 + C2 + m) * HW;
        float* hr = th + (b * C2 + m) * HW;
        for (int64_t i = 0; i < HW; ++i) {
          const float s = 0.1f * sr[i];
          const float h = std::tanh(scaled ? s / alpha : s);
          const float j = alpha * h;
          const float u = xr[i] * std::exp(j) + 0.1f * tr[i];
          hr[i] = h;
          yr[i] = u * g + off;
        }
      }
    }
  });
  double log_g = 0.0;
  for (int64_t k = 0; k < C; ++k) log_g += std::log(static_cast<double>(global_scale(gamma[k])));
  parallel_for(B, std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, C2 * HW)), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const float* hr = th + b * C2 * HW;
      double s = 0.0;
      for (int64_t i = 0; i < C2 * HW; ++i) s += alpha * hr[i];
      logdet[b] = static_cast<float>(s + static_cast<double>(HW) * log_g);
    }
  });
}

void coupling_backward(const CouplingParams& p, const float* x, const float* r, const float* th,
                       const float* gamma, const int32_t* perm_inv, const float* dy, const float* dlogdet,
                       float* dx, float* dr, float* dgamma, float* doffset) {
  const int64_t B = p.B, C = p.C, C1 = p.C1, C2 = p.C - p.C1, HW = p.HW;
  const float alpha = p.clamp;
  const bool scaled = p.scaled;
  double dl_sum = 0.0;
  if (dlogdet)
    for (int64_t b = 0; b < B; ++b) dl_sum += dlogdet[b];
  parallel_for(C, channel_grain(p), [&](int64_t k0, int64_t k1) {
    std::vector<double> su(static_cast<size_t>(k1 - k0), 0.0), so(static_cast<size_t>(k1 - k0), 0.0);
    for (int64_t b = 0; b < B; ++b) {
      const float dl = dlogdet ? dlogdet[b] : 0.0f;
      for (int64_t k = k0; k < k1; ++k) {
        const float g = global_scale(gamma[k]);
        const int64_t o = perm_inv ? perm_inv[k] : k;
        const float* xr = x + (b * C + k) * HW;
        const float* dvr = dy + (b * C + o) * HW;
        float* dxr = dx + (b * C + k) * HW;
        double acc_u = su[k - k0], acc_o = so[k - k0];
        if (k < C1) {
          for (int64_t i = 0; i < HW; ++i) {
            const float dv = dvr[i];
            acc_u += dv * xr[i];
            acc_o += dv;
            dxr[i] = dv * g;
          }
        } else {
          const int64_t m = k - C1;
          const float* tr = r + (b * 2 * C2 + C2 + m) * HW;
          const float* hr = th + (b * C2 + m) * HW;
          float* dsr = dr + (b * 2 * C2 + m) * HW;
          float* dtr = dr + (b * 2 * C2 + C2 + m) * HW;
          for (int64_t i = 0; i < HW; ++i) {
            const float dv = dvr[i];
            const float h = hr[i];
            const float e = std::exp(alpha * h);
            const float xe = xr[i] * e;
            const float u = xe + 0.1f * tr[i];
            acc_u += dv * u;
            acc_o += dv;
            const float du = dv * g;
            dxr[i] = du * e;
            dtr[i] = 0.1f * du;
            const float dj = du * xe + dl;
            const float dh = 1.0f - h * h;
            dsr[i] = 0.1f * (scaled ? dj * dh : dj * (alpha * dh));
          }
        }
        su[k - k0] = acc_u;
        so[k - k0] = acc_o;
      }
    }
    for (int64_t k = k0; k < k1; ++k) {
      const double g = global_scale(gamma[k]);
      const double gd = global_scale_grad(gamma[k]);
      dgamma[k] = static_cast<float>(gd * su[k - k0] + dl_sum * static_cast<double>(HW) * gd / g);
      doffset[k] = static_cast<float>(so[k - k0]);
    }
  });
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
