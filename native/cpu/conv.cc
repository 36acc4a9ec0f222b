// Convolution lowered to GEMM.
//
// Per group g (Cg = C/groups input channels, Kg = K/groups filters, R = Cg·kh·kw rows,
// P = OH·OW output pixels) and per chunk of `nb` images:
//   forward          Y[Kg, nb·P]  = W_g[Kg, R] · col[R, nb·P]          (then scatter to NCHW + bias)
//   backward input   dcol[R, nb·P] = W_gᵀ · dY[Kg, nb·P]                (then col2im into dx)
//   backward weight  dW_g[Kg, R]  += dY[Kg, nb·P] · colᵀ                (summed over chunks)
// Batching images side by side makes the GEMM's N dimension long even when the feature
// maps are 4×4, which is what keeps the small MedIAnomaly convs efficient. The chunk size
// depends only on the shapes (never on the thread count), so the summation order in the
// weight gradient is fixed. A single-image chunk reads and writes NCHW memory directly.
#include "medianomaly/conv.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "medianomaly/gemm.h"
#include "medianomaly/threadpool.h"
#include "medianomaly/workspace.h"

namespace medianomaly {

namespace {

// Column buffers are capped at 1 Mi floats (4 MiB) so that im2col output is still in
// cache when the GEMM packs it.
constexpr int64_t kColCap = int64_t{1} << 20;

struct Geometry {
  int64_t Cg, Kg, R, P;
  bool pointwise;  // 1×1, stride 1, no padding: the image itself is the column matrix
};

Geometry geometry(const Conv2dParams& p) {
  Geometry g;
  g.Cg = p.C / p.groups;
  g.Kg = p.K / p.groups;
  g.R = g.Cg * p.kh * p.kw;
  g.P = p.OH * p.OW;
  g.pointwise = p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 && p.ph == 0 && p.pw == 0 && p.OH == p.H &&
                p.OW == p.W;
  return g;
}

int64_t images_per_chunk(const Conv2dParams& p, const Geometry& g) {
  const int64_t per_image = std::max<int64_t>(1, std::max(g.R, g.Kg) * g.P);
  return std::max<int64_t>(1, std::min<int64_t>(p.N, kColCap / per_image));
}

// Output columns [lo, hi) whose input column ow·s + off lies inside [0, size).
inline void valid_range(int64_t out, int64_t size, int64_t s, int64_t off, int64_t* lo, int64_t* hi) {
  int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t h = size - 1 - off >= 0 ? (size - 1 - off) / s + 1 : 0;
  l = std::min(l, out);
  h = std::min(h, out);
  if (h < l) h = l;
  *lo = l;
  *hi = h;
}

// The kh·kw rows of channel plane `xplane`, written at column offset 0 of `col` rows
// (c_local·kh·kw + i·kw + j), row stride ldcol.
void im2col_plane(const Conv2dParams& p, const float* xplane, int64_t c_local, float* col, int64_t ldcol) {
  for (int64_t i = 0; i < p.kh; ++i) {
    for (int64_t j = 0; j < p.kw; ++j) {
      float* dst = col + ((c_local * p.kh + i) * p.kw + j) * ldcol;
      const int64_t off = j * p.dw - p.pw;
      int64_t lo, hi;
      valid_range(p.OW, p.W, p.sw, off, &lo, &hi);
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        float* d = dst + oh * p.OW;
        const int64_t ih = oh * p.sh - p.ph + i * p.dh;
        if (ih < 0 || ih >= p.H) {
          std::memset(d, 0, sizeof(float) * p.OW);
          continue;
        }
        const float* src = xplane + ih * p.W + off;
        for (int64_t ow = 0; ow < lo; ++ow) d[ow] = 0.0f;
        if (p.sw == 1) {
          std::memcpy(d + lo, src + lo, sizeof(float) * (hi - lo));
        } else if (p.sw == 2) {
          for (int64_t ow = lo; ow < hi; ++ow) d[ow] = src[2 * ow];
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) d[ow] = src[ow * p.sw];
        }
        for (int64_t ow = hi; ow < p.OW; ++ow) d[ow] = 0.0f;
      }
    }
  }
}

// Adds the kh·kw rows of channel c_local back into plane `dxplane` (the adjoint of im2col).
void col2im_plane(const Conv2dParams& p, const float* col, int64_t ldcol, int64_t c_local, float* dxplane) {
  for (int64_t i = 0; i < p.kh; ++i) {
    for (int64_t j = 0; j < p.kw; ++j) {
      const float* srcrow = col + ((c_local * p.kh + i) * p.kw + j) * ldcol;
      const int64_t off = j * p.dw - p.pw;
      int64_t lo, hi;
      valid_range(p.OW, p.W, p.sw, off, &lo, &hi);
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        const int64_t ih = oh * p.sh - p.ph + i * p.dh;
        if (ih < 0 || ih >= p.H) continue;
        const float* s = srcrow + oh * p.OW;
        float* d = dxplane + ih * p.W + off;
        if (p.sw == 1) {
          for (int64_t ow = lo; ow < hi; ++ow) d[ow] += s[ow];
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) d[ow * p.sw] += s[ow];
        }
      }
    }
  }
}

// col[R, nb·P] for images n0..n0+nb of group g.
void im2col_chunk(const Conv2dParams& p, const Geometry& g, const float* x, int64_t n0, int64_t nb, int64_t group,
                  float* col) {
  const int64_t ld = nb * g.P;
  parallel_for(nb * g.Cg, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t nl = t / g.Cg, c = t % g.Cg;
      const float* plane = x + ((n0 + nl) * p.C + group * g.Cg + c) * p.H * p.W;
      im2col_plane(p, plane, c, col + nl * g.P, ld);
    }
  });
}

// dY[Kg, nb·P] gathered from dy [N, K, P] for images n0.. of group g.
void gather_rows(const Conv2dParams& p, const Geometry& g, const float* dy, int64_t n0, int64_t nb, int64_t group,
                 float* out) {
  const int64_t ld = nb * g.P;
  parallel_for(nb * g.Kg, 16, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t nl = t / g.Kg, k = t % g.Kg;
      std::memcpy(out + k * ld + nl * g.P, dy + ((n0 + nl) * p.K + group * g.Kg + k) * g.P, sizeof(float) * g.P);
    }
  });
}

}  // namespace

Status conv2d(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y) {
  if (p.N <= 0 || p.K <= 0 || p.OH <= 0 || p.OW <= 0) return Status::kOk;
  const Geometry g = geometry(p);
  const int64_t nb = images_per_chunk(p, g);
  float* col = nullptr;
  float* ybuf = nullptr;
  try {
    for (int64_t n0 = 0; n0 < p.N; n0 += nb) {
      const int64_t nbc = std::min(nb, p.N - n0);
      const int64_t cols = nbc * g.P;
      for (int64_t group = 0; group < p.groups; ++group) {
        const float* wg = w + group * g.Kg * g.R;
        const float* B;
        int64_t ldb;
        if (g.pointwise && nbc == 1) {
          B = x + (n0 * p.C + group * g.Cg) * g.P;
          ldb = g.P;
        } else {
          if (!col && !(col = scratch(Scratch::kConvCol, static_cast<size_t>(g.R * nb * g.P)))) throw std::bad_alloc();
          im2col_chunk(p, g, x, n0, nbc, group, col);
          B = col;
          ldb = cols;
        }
        GemmParams gp;
        gp.M = g.Kg;
        gp.N = cols;
        gp.K = g.R;
        gp.alpha = 1.0f;
        gp.beta = 0.0f;
        if (nbc == 1) {
          float* yg = y + (n0 * p.K + group * g.Kg) * g.P;
          Status s = sgemm_ld(gp, wg, std::max<int64_t>(g.R, 1), B, std::max<int64_t>(ldb, 1), yg, g.P);
          if (s != Status::kOk) return s;
          if (bias) {
            parallel_for(g.Kg, 4, [&](int64_t k0, int64_t k1) {
              for (int64_t k = k0; k < k1; ++k) {
                const float bv = bias[group * g.Kg + k];
                float* row = yg + k * g.P;
                for (int64_t q = 0; q < g.P; ++q) row[q] += bv;
              }
            });
          }
          continue;
        }
        if (!ybuf && !(ybuf = scratch(Scratch::kConvOut, static_cast<size_t>(g.Kg * nb * g.P)))) throw std::bad_alloc();
        Status s = sgemm_ld(gp, wg, std::max<int64_t>(g.R, 1), B, std::max<int64_t>(ldb, 1), ybuf, cols);
        if (s != Status::kOk) return s;
        parallel_for(nbc * g.Kg, 16, [&](int64_t t0, int64_t t1) {
          for (int64_t t = t0; t < t1; ++t) {
            const int64_t nl = t / g.Kg, k = t % g.Kg;
            const float* src = ybuf + k * cols + nl * g.P;
            float* dst = y + ((n0 + nl) * p.K + group * g.Kg + k) * g.P;
            const float bv = bias ? bias[group * g.Kg + k] : 0.0f;
            for (int64_t q = 0; q < g.P; ++q) dst[q] = src[q] + bv;
          }
        });
      }
    }
  } catch (const std::bad_alloc&) {
    return Status::kOutOfMemory;
  }
  return Status::kOk;
}

Status conv2d_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx) {
  if (p.N <= 0 || p.C <= 0 || p.H <= 0 || p.W <= 0) return Status::kOk;
  const Geometry g = geometry(p);
  if (g.P <= 0 || g.Kg <= 0) {
    std::fill(dx, dx + p.N * p.C * p.H * p.W, 0.0f);
    return Status::kOk;
  }
  const int64_t nb = images_per_chunk(p, g);
  float* dcol = nullptr;
  float* dybuf = nullptr;
  try {
    for (int64_t n0 = 0; n0 < p.N; n0 += nb) {
      const int64_t nbc = std::min(nb, p.N - n0);
      const int64_t cols = nbc * g.P;
      for (int64_t group = 0; group < p.groups; ++group) {
        const float* wg = w + group * g.Kg * g.R;
        const float* B;
        int64_t ldb;
        if (nbc == 1) {
          B = dy + (n0 * p.K + group * g.Kg) * g.P;
          ldb = g.P;
        } else {
          if (!dybuf && !(dybuf = scratch(Scratch::kConvOut, static_cast<size_t>(g.Kg * nb * g.P))))
            throw std::bad_alloc();
          gather_rows(p, g, dy, n0, nbc, group, dybuf);
          B = dybuf;
          ldb = cols;
        }
        GemmParams gp;
        gp.M = g.R;
        gp.N = cols;
        gp.K = g.Kg;
        gp.transA = true;  // W_g is stored [Kg, R]
        gp.alpha = 1.0f;
        gp.beta = 0.0f;
        if (g.pointwise && nbc == 1) {
          Status s = sgemm_ld(gp, wg, std::max<int64_t>(g.R, 1), B, ldb, dx + (n0 * p.C + group * g.Cg) * g.P, g.P);
          if (s != Status::kOk) return s;
          continue;
        }
        if (!dcol && !(dcol = scratch(Scratch::kConvCol, static_cast<size_t>(g.R * nb * g.P)))) throw std::bad_alloc();
        Status s = sgemm_ld(gp, wg, std::max<int64_t>(g.R, 1), B, ldb, dcol, cols);
        if (s != Status::kOk) return s;
        parallel_for(nbc * g.Cg, 1, [&](int64_t t0, int64_t t1) {
          for (int64_t t = t0; t < t1; ++t) {
            const int64_t nl = t / g.Cg, c = t % g.Cg;
            float* plane = dx + ((n0 + nl) * p.C + group * g.Cg + c) * p.H * p.W;
            std::memset(plane, 0, sizeof(float) * p.H * p.W);
            col2im_plane(p, dcol + nl * g.P, cols, c, plane);
          }
        });
      }
    }
  } catch (const std::bad_alloc&) {
    return Status::kOutOfMemory;
  }
  return Status::kOk;
}

Status conv2d_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw) {
  const Geometry g = geometry(p);
  const int64_t wsize = p.K * g.R;
  if (wsize <= 0) return Status::kOk;
  if (p.N <= 0 || g.P <= 0) {
    std::fill(dw, dw + wsize, 0.0f);
    return Status::kOk;
  }
  const int64_t nb = images_per_chunk(p, g);
  float* col = nullptr;
  float* dybuf = nullptr;
  try {
    for (int64_t n0 = 0; n0 < p.N; n0 += nb) {
      const int64_t nbc = std::min(nb, p.N - n0);
      const int64_t cols = nbc * g.P;
      for (int64_t group = 0; group < p.groups; ++group) {
        const float* A;
        int64_t lda;
        if (nbc == 1) {
          A = dy + (n0 * p.K + group * g.Kg) * g.P;
          lda = g.P;
        } else {
          if (!dybuf && !(dybuf = scratch(Scratch::kConvOut, static_cast<size_t>(g.Kg * nb * g.P))))
            throw std::bad_alloc();
          gather_rows(p, g, dy, n0, nbc, group, dybuf);
          A = dybuf;
          lda = cols;
        }
        const float* B;
        int64_t ldb;
        if (g.pointwise && nbc == 1) {
          B = x + (n0 * p.C + group * g.Cg) * g.P;
          ldb = g.P;
        } else {
          if (!col && !(col = scratch(Scratch::kConvCol, static_cast<size_t>(g.R * nb * g.P)))) throw std::bad_alloc();
          im2col_chunk(p, g, x, n0, nbc, group, col);
          B = col;
          ldb = cols;
        }
        GemmParams gp;
        gp.M = g.Kg;
        gp.N = g.R;
        gp.K = cols;
        gp.transB = true;  // col is stored [R, cols]
        gp.alpha = 1.0f;
        gp.beta = n0 == 0 ? 0.0f : 1.0f;
        Status s = sgemm_ld(gp, A, lda, B, ldb, dw + group * g.Kg * g.R, g.R);
        if (s != Status::kOk) return s;
      }
    }
  } catch (const std::bad_alloc&) {
    return Status::kOutOfMemory;
  }
  return Status::kOk;
}

}  // namespace medianomaly
