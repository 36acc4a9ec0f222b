// Convolution forward and weight gradient as direct convolutions on a zero-padded
// copy of the input, driven by a tap-offset table (conv_kernel.h).
//
// Per group g (Cg input channels, Kg filters, R = Cg·kh·kw taps, output pixels of all
// images as one index):
//   forward          Yᵀ[pixels, Kg] = colᵀ[pixels, R] · Wᵀ[R, Kg]
//   weight gradient  dWᵀ[R, Kg]     = col[R, pixels] · dYᵀ[pixels, Kg]
// The column matrix is never built: row i of colᵀ is the window of pixel i, read at
// (window origin + tap offset) in the padded input, so the kernel broadcasts input
// values straight from the image while the 16 filters of a panel stay in registers.
// With every image in one product, 4×4 feature maps still give long loops, and
// 16/32/64 filters fill the 16-wide tiles exactly.
#include "medianomaly/conv.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "conv_kernel.h"
#include "conv_small.h"
#include "conv_winograd.h"
#include "medianomaly/gemm.h"
#include "medianomaly/threadpool.h"
#include "medianomaly/workspace.h"

namespace medianomaly {

namespace {

using detail::kTileCols;
using detail::kTileRows;

constexpr int64_t kItemTiles = 32;  // pixel tiles per work item (192 pixels)

/** The zero-padded input every tap of every output pixel can read without bounds checks. */
struct PaddedInput {
  int64_t top, left, Hp, Wp;
  const float* data = nullptr;

  PaddedInput(const Conv2dParams& p, const float* x, float* buffer) {
    top = p.ph;
    left = p.pw;
    const int64_t bottom = std::max<int64_t>(0, (p.OH - 1) * p.sh - p.ph + (p.kh - 1) * p.dh - (p.H - 1));
    const int64_t right = std::max<int64_t>(0, (p.OW - 1) * p.sw - p.pw + (p.kw - 1) * p.dw - (p.W - 1));
    Hp = p.H + top + bottom;
    Wp = p.W + left + right;
    if (buffer) detail::pad_planes(x, p.N * p.C, p.H, p.W, top, left, Hp, Wp, buffer);
    data = buffer;
  }

  static size_t floats(const Conv2dParams& p) {
    const int64_t bottom = std::max<int64_t>(0, (p.OH - 1) * p.sh - p.ph + (p.kh - 1) * p.dh - (p.H - 1));
    const int64_t right = std::max<int64_t>(0, (p.OW - 1) * p.sw - p.pw + (p.kw - 1) * p.dw - (p.W - 1));
    return scratch_size({p.N, p.C, p.H + p.ph + bottom, p.W + p.pw + right});
  }
};

/** Offsets of the R = Cg·kh·kw taps from a window origin in the padded input. */
std::vector<int64_t> tap_offsets(const Conv2dParams& p, const PaddedInput& in) {
  const int64_t Cg = p.C / p.groups;
  std::vector<int64_t> off(static_cast<size_t>(Cg * p.kh * p.kw));
  int64_t r = 0;
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t i = 0; i < p.kh; ++i)
      for (int64_t j = 0; j < p.kw; ++j) off[r++] = (c * in.Hp + i * p.dh) * in.Wp + j * p.dw;
  return off;
}

/** Walks output pixels (n, oh, ow) in order, giving each one's window origin. */
class PixelCursor {
 public:
  PixelCursor(const Conv2dParams& p, const PaddedInput& in, int64_t group, int64_t j) : p_(p), in_(in) {
    const int64_t P = p.OH * p.OW;
    n_ = j / P;
    oh_ = (j % P) / p.OW;
    ow_ = j % p.OW;
    group_base_ = group * (p.C / p.groups);
  }
  int64_t n() const { return n_; }
  int64_t pixel() const { return oh_ * p_.OW + ow_; }
  const float* origin() const {
    return in_.data + ((n_ * p_.C + group_base_) * in_.Hp + oh_ * p_.sh) * in_.Wp + ow_ * p_.sw;
  }
  void next() {
    if (++ow_ == p_.OW) {
      ow_ = 0;
      if (++oh_ == p_.OH) {
        oh_ = 0;
        ++n_;
      }
    }
  }

 private:
  const Conv2dParams& p_;
  const PaddedInput& in_;
  int64_t n_, oh_, ow_, group_base_;
};

/** 1×1 kernels without padding (the bottleneck and downsample convs of ResNets). */
bool pointwise_conv(const Conv2dParams& p) {
  return p.kh == 1 && p.kw == 1 && p.ph == 0 && p.pw == 0 && p.groups == 1 && p.C >= 8;
}

/**
 * A 1×1 conv is the product Y[n] (K × P) = W (K × C) · X[n] (C × P): the built-in GEMM
 * (packed, KC-blocked; deterministic whatever the thread count), straight on each image's
 * planes when stride 1 gives long rows, else on a copy of the sampled pixels of all images
 * as one [C, N·P] matrix (strided 1×1 downsampling, 7×7 maps), scattered back per image.
 */
Status conv2d_pointwise(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y) {
  const int64_t P = p.OH * p.OW, HW = p.H * p.W, NP = p.N * P;
  GemmParams g;
  g.M = p.K;
  g.K = p.C;
  try {
    if (p.sh == 1 && p.sw == 1 && p.OH == p.H && p.OW == p.W && P >= 256) {
      g.N = P;
      for (int64_t n = 0; n < p.N; ++n) builtin_sgemm(g, w, p.C, x + n * p.C * HW, HW, y + n * p.K * P, P);
      if (bias)
        parallel_for(p.N * p.K, 4, [&](int64_t t0, int64_t t1) {
          for (int64_t t = t0; t < t1; ++t) {
            const float b = bias[t % p.K];
            float* d = y + t * P;
            for (int64_t i = 0; i < P; ++i) d[i] += b;
          }
        });
      return Status::kOk;
    }
    float* xs = scratch(Scratch::kConvCol, scratch_size({p.C, NP}));
    float* ys = scratch(Scratch::kConvOut, scratch_size({p.K, NP}));
    if (!xs || !ys) return Status::kOutOfMemory;
    parallel_for(p.C * p.N, 4, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t c = t / p.N, n = t % p.N;
        const float* src = x + (n * p.C + c) * HW;
        float* dst = xs + c * NP + n * P;
        for (int64_t oh = 0; oh < p.OH; ++oh)
          for (int64_t ow = 0; ow < p.OW; ++ow) dst[oh * p.OW + ow] = src[oh * p.sh * p.W + ow * p.sw];
      }
    });
    g.N = NP;
    builtin_sgemm(g, w, p.C, xs, NP, ys, NP);
    parallel_for(p.N * p.K, 4, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t n = t / p.K, k = t % p.K;
        const float b = bias ? bias[k] : 0.0f;
        const float* src = ys + k * NP + n * P;
        float* d = y + t * P;
        for (int64_t i = 0; i < P; ++i) d[i] = src[i] + b;
      }
    });
  } catch (const std::bad_alloc&) {
    return Status::kOutOfMemory;
  }
  return Status::kOk;
}

/**
 * 3×3 stride-2 convs with deep windows (R = 9·C ≥ kIm2colMinDepth: the downsampling convs of
 * wide ResNets' layer3/layer4) go through im2col + the built-in GEMM: the direct kernel's
 * R × 16 weight panel (≥ 144 KiB) no longer stays in L2 next to the input windows, while the
 * GEMM blocks R by 256. Measured at 224 px, batch 8, 1 thread: 512→512 @28 103 → 77–90 ms,
 * 1024→1024 @14 118–160 → 77–94 ms; at C ≤ 256 the direct kernel is as fast or faster
 * (9.5 vs 10.7 ms for 128→256 @28). Stride 1 stays with Winograd even on 7×7 and 14×14 maps:
 * im2col measured 24 vs 16 ms (256 @14), 86 vs 52 ms (512 @14), 86–97 vs 71 ms (1024 @7), and a
 * tie at 512 @7 (≈ 20 ms each), so there is no small-map cutoff.
 * MEDIANOMALY_CONV_IM2COL=0 turns the path off (read once).
 */
constexpr int64_t kIm2colMinDepth = 4096;

bool im2col_enabled() {
  static const bool on = [] {
    const char* s = std::getenv("MEDIANOMALY_CONV_IM2COL");
    return !(s && std::strcmp(s, "0") == 0);
  }();
  return on;
}

}  // namespace

bool detail::im2col_conv(const Conv2dParams& p) {
  if (!(p.kh == 3 && p.kw == 3 && p.dh == 1 && p.dw == 1 && p.groups == 1 && p.C >= 64 && p.K >= 64)) return false;
  return p.sh == 2 && p.sw == 2 && p.C * p.kh * p.kw >= kIm2colMinDepth && im2col_enabled();
}

/**
 * Y[n] (K × P) = W (K × R) · col[n] (R × P), R = C·kh·kw, with col the materialised
 * windows (padding as zeros, so 0·∞ = NaN as in the direct kernel) and the built-in
 * packed GEMM (deterministic whatever the thread count; each output element's sum depends
 * only on R). Maps of ≥ 256 output pixels go image by image straight into y; smaller maps
 * gather every image's windows into one [R, N·P] matrix so that the GEMM has long rows, and
 * scatter back per image. Either way an image's outputs are the same bits alone or in a batch.
 */
Status detail::conv2d_im2col(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y) {
  const int64_t P = p.OH * p.OW, HW = p.H * p.W, R = p.C * p.kh * p.kw;
  const bool per_image = P >= 256;
  const int64_t cols = per_image ? P : p.N * P;  // columns of one GEMM
  GemmParams g;
  g.M = p.K;
  g.K = R;
  g.N = cols;
  try {
    float* col = scratch(Scratch::kConvCol, scratch_size({R, cols}));
    float* ys = per_image ? nullptr : scratch(Scratch::kConvOut, scratch_size({p.K, cols}));
    if (!col || (!per_image && !ys)) return Status::kOutOfMemory;
    // col[r = (c·kh + i)·kw + j][n·P + oh·OW + ow] = x[n, c, oh·sh − ph + i, ow·sw − pw + j] (0 outside).
    auto fill = [&](int64_t n0, int64_t n1) {
      parallel_for(R * (n1 - n0), 4, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t r = t / (n1 - n0), n = n0 + t % (n1 - n0);
          const int64_t c = r / (p.kh * p.kw), i = (r / p.kw) % p.kh, j = r % p.kw;
          const float* src = x + (n * p.C + c) * HW;
          float* dst = col + r * cols + (per_image ? 0 : n * P);
          // ow range whose column ow·sw − pw + j lies inside [0, W).
          const int64_t lo = std::min(p.OW, std::max<int64_t>(0, (p.pw - j + p.sw - 1) / p.sw));
          const int64_t hi = std::max(lo, std::min(p.OW, (p.W - 1 + p.pw - j) / p.sw + 1));
          for (int64_t oh = 0; oh < p.OH; ++oh) {
            float* d = dst + oh * p.OW;
            const int64_t ih = oh * p.sh - p.ph + i;
            if (ih < 0 || ih >= p.H) {
              for (int64_t ow = 0; ow < p.OW; ++ow) d[ow] = 0.0f;
              continue;
            }
            const float* row = src + ih * p.W - p.pw + j;
            for (int64_t ow = 0; ow < lo; ++ow) d[ow] = 0.0f;
            if (p.sw == 1)
              for (int64_t ow = lo; ow < hi; ++ow) d[ow] = row[ow];
            else
              for (int64_t ow = lo; ow < hi; ++ow) d[ow] = row[ow * p.sw];
            for (int64_t ow = hi; ow < p.OW; ++ow) d[ow] = 0.0f;
          }
        }
      });
    };
    auto add_bias = [&](float* out, int64_t ld, int64_t n_images, const float* src, int64_t lds) {
      parallel_for(n_images * p.K, 4, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t n = t / p.K, k = t % p.K;
          const float b = bias ? bias[k] : 0.0f;
          const float* s = src + k * lds + n * P;
          float* d = out + t * ld;
          for (int64_t q = 0; q < P; ++q) d[q] = s[q] + b;
        }
      });
    };
    if (per_image) {
      for (int64_t n = 0; n < p.N; ++n) {
        fill(n, n + 1);
        float* yn = y + n * p.K * P;
        builtin_sgemm(g, w, R, col, cols, yn, P);
        if (bias) add_bias(yn, P, 1, yn, P);
      }
    } else {
      fill(0, p.N);
      builtin_sgemm(g, w, R, col, cols, ys, cols);
      add_bias(y, P, p.N, ys, cols);
    }
  } catch (const std::bad_alloc&) {
    return Status::kOutOfMemory;
  }
  return Status::kOk;
}

Status conv2d(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y) {
  if (p.N <= 0 || p.K <= 0 || p.OH <= 0 || p.OW <= 0) return Status::kOk;
  const int64_t R = (p.C / p.groups) * p.kh * p.kw, P = p.OH * p.OW;
  if (R == 0) {  // no input channels: the output is the bias
    parallel_for(p.N * p.K, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) std::fill(y + t * P, y + (t + 1) * P, bias ? bias[t % p.K] : 0.0f);
    });
    return Status::kOk;
  }
  if (detail::small_channel_conv(p)) return detail::conv2d_small_channels(p, x, w, bias, y);
  if (pointwise_conv(p)) return conv2d_pointwise(p, x, w, bias, y);
  if (detail::im2col_conv(p)) return detail::conv2d_im2col(p, x, w, bias, y);
  if (detail::winograd_conv(p)) return detail::conv2d_winograd(p, x, w, bias, y);
  return detail::conv2d_direct(p, x, w, bias, y);
}

Status detail::conv2d_direct(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y) {
  const int64_t Cg = p.C / p.groups, Kg = p.K / p.groups, R = Cg * p.kh * p.kw, P = p.OH * p.OW;
  const int64_t NP = p.N * P;
  float* xpad = scratch(Scratch::kConvCol, PaddedInput::floats(p));
  const int64_t panels = (Kg + kTileCols - 1) / kTileCols;
  float* wpack = scratch(Scratch::kConvAux, scratch_size({panels, R, kTileCols}));
  if (!xpad || !wpack) return Status::kOutOfMemory;
  const PaddedInput in(p, x, xpad);
  const std::vector<int64_t> off = tap_offsets(p, in);
  const int64_t tiles = (NP + kTileRows - 1) / kTileRows;

  for (int64_t g = 0; g < p.groups; ++g) {
    // Wᵀ in 16-filter panels: wpack[(q·R + r)·16 + j] = w[g·Kg + 16q + j][r] (zero past Kg).
    // Parallel over panels (a serial pack was a tenth of a 7×7 layer's time on 2 threads).
    parallel_for(panels, 1, [&](int64_t q0, int64_t q1) {
      for (int64_t q = q0; q < q1; ++q)
        for (int64_t j = 0; j < kTileCols; ++j) {
          const int64_t k = q * kTileCols + j;
          float* dst = wpack + q * R * kTileCols + j;
          if (k < Kg) {
            const float* src = w + (g * Kg + k) * R;
            for (int64_t r = 0; r < R; ++r) dst[r * kTileCols] = src[r];
          } else {
            for (int64_t r = 0; r < R; ++r) dst[r * kTileCols] = 0.0f;
          }
        }
    });
    // Items of kItemTiles pixel tiles. A tile's 16 filters × 6 pixels land in a staging
    // block first and each filter's run of pixels is then copied out contiguously:
    // storing tiles straight into 16 output planes (often 4 KiB apart) thrashes L1.
    // Small maps (7×7 and 14×14 at batch 8: 66 and 262 tiles) get shorter items, so that
    // every thread has several: the split changes no bits (each pixel's sum is the same
    // FMA chain in whatever tile or item it lands).
    const int64_t threads = in_parallel_region() ? 1 : get_threads();
    const int64_t item_tiles = std::max<int64_t>(1, std::min(kItemTiles, tiles / (4 * threads)));
    const int64_t items = (tiles + item_tiles - 1) / item_tiles;
    parallel_for(items, 1, [&](int64_t it0, int64_t it1) {
      alignas(64) float tile[kTileRows * kTileCols];
      std::vector<float> stage(static_cast<size_t>(kTileCols * item_tiles * kTileRows));
      for (int64_t it = it0; it < it1; ++it) {
        const int64_t j0 = it * item_tiles * kTileRows, j1 = std::min(NP, j0 + item_tiles * kTileRows);
        const int64_t len = j1 - j0;
        for (int64_t q = 0; q < panels; ++q) {
          const int64_t nj = std::min(kTileCols, Kg - q * kTileCols);
          const float* wq = wpack + q * R * kTileCols;
          PixelCursor cur(p, in, g, j0);
          for (int64_t t0 = 0; t0 < len; t0 += kTileRows) {
            const int64_t m = std::min(kTileRows, len - t0);
            const float* base[kTileRows] = {};
            for (int64_t i = 0; i < m; ++i, cur.next()) base[i] = cur.origin();
            for (int64_t i = m; i < kTileRows; ++i) base[i] = base[0];  // a short last tile repeats row 0
            detail::conv_tile_f(R, base, off.data(), wq, tile);
            for (int64_t j = 0; j < nj; ++j)
              for (int64_t i = 0; i < m; ++i) stage[j * len + t0 + i] = tile[i * kTileCols + j];
          }
          // Copy out image by image: y[n, k, pixel] for the item's pixels of image n.
          for (int64_t j = j0; j < j1;) {
            const int64_t n = j / P, q0 = j - n * P, run = std::min(j1 - j, P - q0);
            for (int64_t f = 0; f < nj; ++f) {
              const int64_t k = g * Kg + q * kTileCols + f;
              const float b = bias ? bias[k] : 0.0f;
              const float* src = stage.data() + f * len + (j - j0);
              float* dst = y + (n * p.K + k) * P + q0;
              for (int64_t t = 0; t < run; ++t) dst[t] = src[t] + b;
            }
            j += run;
          }
        }
      }
    });
  }
  return Status::kOk;
}

Status conv2d_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw) {
  const int64_t Cg = p.C / p.groups, Kg = p.K / p.groups, R = Cg * p.kh * p.kw, P = p.OH * p.OW;
  if (p.K <= 0 || R <= 0) return Status::kOk;
  const int64_t NP = p.N * P;
  if (NP <= 0) {
    std::fill(dw, dw + p.K * R, 0.0f);
    return Status::kOk;
  }
  if (detail::small_channel_conv(p)) return detail::conv2d_backward_weight_small_channels(p, x, dy, dw);
  const int64_t panels = (Kg + kTileCols - 1) / kTileCols;
  const int64_t Kgp = panels * kTileCols;  // dYᵀ rows padded to whole panels
  const int64_t rtiles = (R + kTileRows - 1) / kTileRows;
  float* xpad = scratch(Scratch::kConvCol, PaddedInput::floats(p));
  float* dyt = scratch(Scratch::kConvOut, scratch_size({NP, Kgp}));
  float* dwt = scratch(Scratch::kConvAux, scratch_size({rtiles, kTileRows, Kgp}));
  if (!xpad || !dyt || !dwt) return Status::kOutOfMemory;
  const PaddedInput in(p, x, xpad);
  std::vector<int64_t> off = tap_offsets(p, in);
  constexpr int64_t kBlock = 256;  // pixels per pass: the dYᵀ block stays in L1/L2
  const int64_t blocks = (NP + kBlock - 1) / kBlock;

  for (int64_t g = 0; g < p.groups; ++g) {
    // dYᵀ[pixel, k], channel-last and zero-padded to Kgp; built in blocks of 64 pixels of
    // one image so that the reads stay contiguous (dy planes may sit 4 KiB apart).
    const int64_t pblocks = (P + 63) / 64;
    parallel_for(p.N * pblocks, 16, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t n = t / pblocks, q0 = (t % pblocks) * 64, len = std::min<int64_t>(64, P - q0);
        float* d = dyt + (n * P + q0) * Kgp;
        for (int64_t k = 0; k < Kg; ++k) {
          const float* src = dy + (n * p.K + g * Kg + k) * P + q0;
          for (int64_t i = 0; i < len; ++i) d[i * Kgp + k] = src[i];
        }
        for (int64_t i = 0; i < len; ++i)
          for (int64_t k = Kg; k < Kgp; ++k) d[i * Kgp + k] = 0.0f;
      }
    });
    // Each item owns whole 6-tap rows of dWᵀ and sums over all pixels in order.
    parallel_for(rtiles, 1, [&](int64_t r0, int64_t r1) {
      std::vector<const float*> origin(static_cast<size_t>(kBlock));
      for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t j0 = blk * kBlock, kb = std::min(kBlock, NP - j0);
        PixelCursor cur(p, in, g, j0);
        for (int64_t k = 0; k < kb; ++k, cur.next()) origin[k] = cur.origin();
        for (int64_t rt = r0; rt < r1; ++rt) {
          int64_t o[kTileRows];
          for (int64_t i = 0; i < kTileRows; ++i) o[i] = off[std::min(rt * kTileRows + i, R - 1)];
          for (int64_t q = 0; q < panels; ++q) {
            detail::conv_tile_w(kb, origin.data(), o, dyt + j0 * Kgp + q * kTileCols, Kgp,
                                dwt + rt * kTileRows * Kgp + q * kTileCols, Kgp, blk > 0);
          }
        }
      }
    });
    for (int64_t k = 0; k < Kg; ++k)
      for (int64_t r = 0; r < R; ++r) dw[(g * Kg + k) * R + r] = dwt[r * Kgp + k];
  }
  return Status::kOk;
}

}  // namespace medianomaly
