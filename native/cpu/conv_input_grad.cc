// Input gradient of conv2d (= forward of conv_transpose2d).
//
// Main path (dilation 1, ≥ 8 channels per group): polyphase. Input pixels are split
// by (ih + ph) mod sh and (iw + pw) mod sw; inside one such phase class every pixel is
// reached by the same taps ki ≡ phase (mod sh), from output rows base + u − a, so
//   dx_class[pixels, Cg] = D[pixels, Kg·Ta·Tb] · W'[Kg·Ta·Tb, Cg]
// where row i of D is read straight from a zero-padded dy through an offset table
// (conv_kernel.h). Each dx element is written exactly once: no col2im scatter, no
// zero fill. A stride-2 4×4 transposed conv is four such products with depth 4·Kg.
//
// Fewer than 8 channels (one group, stride ≤ 2, AVX2): conv_small.cc, vectorised over
// input pixels instead of channels. Fallback (dilation > 1, or few channels per group
// elsewhere, where the 16-wide tiles would be mostly empty): dcol = W_gᵀ · dY per chunk
// of images, then col2im.
#include <algorithm>
#include <cstring>
#include <new>
#include <vector>

#include "conv_kernel.h"
#include "conv_phase.h"
#include "conv_small.h"
#include "medianomaly/conv.h"
#include "medianomaly/gemm.h"
#include "medianomaly/threadpool.h"
#include "medianomaly/workspace.h"

namespace medianomaly {

namespace {

using detail::kTileCols;
using detail::kTileRows;
using detail::PaddedGrad;
using detail::PhaseAxis;

/** The column classes rw of one row class: their axes, offset tables and packed W'. */
struct ColumnClass {
  PhaseAxis aw;
  int64_t depth = 0;             // Kc = Kg·Ta·Tb
  std::vector<int64_t> off;      // dy offset of k = (kch, a, b) from a pixel's origin
  const float* wpack = nullptr;  // W' in 16-channel panels: [(q·Kc + k)·16 + j]
  ColumnClass(int64_t rw, const Conv2dParams& p) : aw(rw, p.W, p.kw, p.sw, p.pw) {}
};

// All phase classes (rh, ·) of one group: the input rows ih ≡ first_h (mod sh).
// Work items are blocks of those rows; inside one, each column class computes 6-pixel
// tiles into a staging block that holds whole dx rows for 16 channels, then each
// (channel, row) is copied out as one contiguous run. Every dx element is written once.
void phase_rows(const Conv2dParams& p, int64_t g, int64_t rh, const PaddedGrad& pg, const float* dyp, const float* w,
                float* wpack, float* dx) {
  const int64_t Cg = p.C / p.groups, Kg = p.K / p.groups, taps = p.kh * p.kw;
  const PhaseAxis ah(rh, p.H, p.kh, p.sh, p.ph);
  if (ah.count == 0) return;
  const int64_t panels = (Cg + kTileCols - 1) / kTileCols;
  std::vector<ColumnClass> cls;
  float* wp = wpack;
  for (int64_t rw = 0; rw < p.sw; ++rw) {
    cls.emplace_back(rw, p);
    ColumnClass& cc = cls.back();
    cc.depth = Kg * ah.taps * cc.aw.taps;
    cc.off.resize(static_cast<size_t>(cc.depth));
    cc.wpack = wp;
    int64_t k = 0;
    for (int64_t kch = 0; kch < Kg; ++kch)
      for (int64_t a = 0; a < ah.taps; ++a)
        for (int64_t b = 0; b < cc.aw.taps; ++b, ++k) {
          cc.off[k] = (kch * pg.OHp - a) * pg.OWp - b;
          const float* wk = w + (g * Kg + kch) * Cg * taps + (rh + p.sh * a) * p.kw + (rw + p.sw * b);
          for (int64_t q = 0; q < panels; ++q)
            for (int64_t j = 0; j < kTileCols; ++j) {
              const int64_t c = q * kTileCols + j;
              wp[(q * cc.depth + k) * kTileCols + j] = c < Cg ? wk[c * taps] : 0.0f;
            }
        }
    wp += panels * cc.depth * kTileCols;
  }
  const int64_t rows = p.N * ah.count;  // (n, u) pairs
  const int64_t rows_per_item = std::max<int64_t>(1, 192 / std::max<int64_t>(1, p.W));
  const int64_t items = (rows + rows_per_item - 1) / rows_per_item;
  parallel_for(items, 1, [&](int64_t it0, int64_t it1) {
    alignas(64) float tile[kTileRows * kTileCols];
    std::vector<float> stage(static_cast<size_t>(kTileCols * rows_per_item * p.W));
    for (int64_t it = it0; it < it1; ++it) {
      const int64_t r0 = it * rows_per_item, r1 = std::min(rows, r0 + rows_per_item), nrows = r1 - r0;
      const int64_t ld = nrows * p.W;  // stage[c·ld + row·W + iw]
      for (int64_t q = 0; q < panels; ++q) {
        const int64_t nc = std::min(kTileCols, Cg - q * kTileCols);
        for (const ColumnClass& cc : cls) {
          const PhaseAxis& aw = cc.aw;
          if (aw.count == 0) continue;
          if (cc.depth == 0) {  // no tap reaches these pixels: their gradient is 0
            for (int64_t c = 0; c < nc; ++c)
              for (int64_t r = 0; r < nrows; ++r)
                for (int64_t v = 0; v < aw.count; ++v) stage[c * ld + r * p.W + aw.first + p.sw * v] = 0.0f;
            continue;
          }
          const float* wq = cc.wpack + q * cc.depth * kTileCols;
          const int64_t npix = nrows * aw.count;
          int64_t r = 0, v = 0;  // walks the item's pixels of this class
          for (int64_t t0 = 0; t0 < npix; t0 += kTileRows) {
            const int64_t m = std::min(kTileRows, npix - t0);
            const float* base[kTileRows] = {};
            int64_t at[kTileRows] = {};  // stage column of each pixel
            for (int64_t i = 0; i < m; ++i) {
              const int64_t row = r0 + r, n = row / ah.count, u = row - n * ah.count;
              base[i] = dyp + ((n * p.K + g * Kg) * pg.OHp + pg.top + ah.base + u) * pg.OWp + pg.left + aw.base + v;
              at[i] = r * p.W + aw.first + p.sw * v;
              if (++v == aw.count) {
                v = 0;
                ++r;
              }
            }
            for (int64_t i = m; i < kTileRows; ++i) base[i] = base[0];
            detail::conv_tile_f(cc.depth, base, cc.off.data(), wq, tile);
            for (int64_t c = 0; c < nc; ++c)
              for (int64_t i = 0; i < m; ++i) stage[c * ld + at[i]] = tile[i * kTileCols + c];
          }
        }
        for (int64_t c = 0; c < nc; ++c)
          for (int64_t r = 0; r < nrows; ++r) {
            const int64_t row = r0 + r, n = row / ah.count, u = row - n * ah.count;
            float* dst = dx + ((n * p.C + g * Cg + q * kTileCols + c) * p.H + ah.first + p.sh * u) * p.W;
            const float* src = stage.data() + c * ld + r * p.W;
            for (int64_t iw = 0; iw < p.W; ++iw) dst[iw] = src[iw];  // short rows: no libc call
          }
      }
    }
  });
}

// ------------------------------------------------------------------ im2col / col2im fallback

constexpr int64_t kColCap = int64_t{1} << 20;  // floats per column buffer (4 MiB)

// Output columns [lo, hi) whose input column o·s + off lies inside [0, size).
void valid_range(int64_t out, int64_t size, int64_t s, int64_t off, int64_t* lo, int64_t* hi) {
  int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t h = size - 1 - off >= 0 ? (size - 1 - off) / s + 1 : 0;
  l = std::min(l, out);
  h = std::min(h, out);
  *lo = l;
  *hi = std::max(h, l);
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

bool all_finite(const float* v, int64_t n) {
  // Branch-free accumulation (x − x is NaN exactly for ±∞ and NaN) so the scan vectorises.
  float acc = 0.0f;
  for (int64_t i = 0; i < n; ++i) acc += v[i] - v[i];
  return acc == 0.0f;
}

Status backward_input_col2im(const Conv2dParams& p, const float* dy, const float* w, float* dx) {
  const int64_t Cg = p.C / p.groups, Kg = p.K / p.groups, R = Cg * p.kh * p.kw, P = p.OH * p.OW;
  const int64_t per_image = std::max<int64_t>(1, std::max(R, Kg) * P);
  const int64_t nb = std::max<int64_t>(1, std::min<int64_t>(p.N, kColCap / per_image));
  float* dcol = scratch(Scratch::kConvCol, scratch_size({R, nb, P}));
  float* dybuf = scratch(Scratch::kConvOut, scratch_size({Kg, nb, P}));
  if (!dcol || !dybuf) return Status::kOutOfMemory;
  for (int64_t n0 = 0; n0 < p.N; n0 += nb) {
    const int64_t nbc = std::min(nb, p.N - n0);
    const int64_t cols = nbc * P;
    for (int64_t g = 0; g < p.groups; ++g) {
      // dY[Kg, nbc·P] gathered from NCHW.
      parallel_for(nbc * Kg, 16, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t nl = t / Kg, k = t % Kg;
          std::memcpy(dybuf + k * cols + nl * P, dy + ((n0 + nl) * p.K + g * Kg + k) * P, sizeof(float) * P);
        }
      });
      GemmParams gp;
      gp.M = R;
      gp.N = cols;
      gp.K = Kg;
      gp.transA = true;  // W_g is stored [Kg, R]
      const Status s = sgemm_ld(gp, w + g * Kg * R, std::max<int64_t>(R, 1), dybuf, cols, dcol, cols);
      if (s != Status::kOk) return s;
      parallel_for(nbc * Cg, 1, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t nl = t / Cg, c = t % Cg;
          float* plane = dx + ((n0 + nl) * p.C + g * Cg + c) * p.H * p.W;
          std::memset(plane, 0, sizeof(float) * p.H * p.W);
          col2im_plane(p, dcol + nl * P, cols, c, plane);
        }
      });
    }
  }
  return Status::kOk;
}

}  // namespace

Status conv2d_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx) {
  if (p.N <= 0 || p.C <= 0 || p.H <= 0 || p.W <= 0) return Status::kOk;
  // The phase-class paths read a zero-padded dy, and 0·∞ = NaN would leak into dx where
  // PyTorch (col2im: only real output positions) stays finite. A non-finite weight is
  // rare, so it takes the col2im path; the scan is one pass over w, outside the hot loops.
  if (!all_finite(w, p.K * (p.C / p.groups) * p.kh * p.kw)) return backward_input_col2im(p, dy, w, dx);
  if (detail::small_channel_input_grad(p)) return detail::conv2d_backward_input_small_channels(p, dy, w, dx);
  const int64_t Cg = p.C / p.groups, Kg = p.K / p.groups;
  if (p.dh != 1 || p.dw != 1 || Cg < 8 || Kg == 0 || p.OH <= 0 || p.OW <= 0) return backward_input_col2im(p, dy, w, dx);
  const PaddedGrad pg(p);
  float* dyp = scratch(Scratch::kConvCol, scratch_size({p.N, p.K, pg.OHp, pg.OWp}));
  // W' of one row class's column classes: at most Kg·⌈kh/sh⌉·kw rows of 16-channel panels.
  const int64_t kmax = Kg * ((p.kh + p.sh - 1) / p.sh) * (p.kw + p.sw);
  float* wpack = scratch(Scratch::kConvAux, scratch_size({kmax, (Cg + kTileCols - 1) / kTileCols, kTileCols}));
  if (!dyp || !wpack) return Status::kOutOfMemory;
  detail::pad_planes(dy, p.N * p.K, p.OH, p.OW, pg.top, pg.left, pg.OHp, pg.OWp, dyp);
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t rh = 0; rh < p.sh; ++rh) phase_rows(p, g, rh, pg, dyp, w, wpack, dx);
  return Status::kOk;
}

}  // namespace medianomaly
