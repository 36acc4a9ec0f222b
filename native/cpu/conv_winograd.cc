// F(2×2, 3×3) Winograd convolution (see conv_winograd.h). AVX2+FMA builds only.
//
// Layout. Tiles are numbered over all images (t = (n·TH + ty)·TW + tx, TH × TW tiles of
// 2×2 outputs per image) and processed in chunks of TB tiles (a multiple of 16), each chunk
// by one thread with its own buffers; inside a chunk, tiles go in panels q of 16:
//   Ut[e][k][c]        the transformed filters (shared)
//   V[e][q][c][16]     the chunk's transformed input patches, 16 tiles wide
//   M[e][q][k][16]     the 16 channel sums per transform point, filter and tile
// M's 6-filter × 16-tile blocks are conv_tile_f products of six Ut rows (offsets 0..C−1)
// with a V panel: the direct kernel's register tile. The transforms run on 8 tiles of one
// tile row at a time (stride-2 columns split by shuffles); tiles whose group of 8 crosses
// a row take a scalar path that computes the same values.
#include "conv_winograd.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "conv_kernel.h"
#include "medianomaly/threadpool.h"
#include "medianomaly/workspace.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define MEDIANOMALY_WINOGRAD 1
#endif

namespace medianomaly::detail {

namespace {

constexpr int64_t kMinChannels = 64;
constexpr int64_t kChunkTiles = 96;
constexpr int64_t kPanel = 16;  // tiles per V / M panel (the register tile's width)

bool enabled() {
  static const bool on = [] {
    const char* s = std::getenv("MEDIANOMALY_CONV_WINOGRAD");
    return !(s && std::strcmp(s, "0") == 0);
  }();
  return on;
}

}  // namespace

#ifndef MEDIANOMALY_WINOGRAD

bool winograd_conv(const Conv2dParams&) { return false; }
Status conv2d_winograd(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y) {
  return conv2d_direct(p, x, w, bias, y);
}

#else

bool winograd_conv(const Conv2dParams& p) {
  return p.kh == 3 && p.kw == 3 && p.sh == 1 && p.sw == 1 && p.dh == 1 && p.dw == 1 && p.groups == 1 &&
         p.ph <= 1 && p.pw <= 1 && p.C >= kMinChannels && p.K >= kMinChannels && enabled();
}

namespace {

/** True when every value is finite (x·0 is 0 for finite x, NaN otherwise). */
bool all_finite(const float* a, int64_t n) {
  int bad = 0;
  constexpr int64_t kBlock = 8192;
  parallel_for((n + kBlock - 1) / kBlock, 16, [&](int64_t b0, int64_t b1) {
    const __m256 zero = _mm256_setzero_ps();
    __m256 acc0 = zero, acc1 = zero;
    const int64_t s = b0 * kBlock, e = std::min(n, b1 * kBlock);
    int64_t i = s;
    for (; i + 16 <= e; i += 16) {
      acc0 = _mm256_add_ps(acc0, _mm256_mul_ps(_mm256_loadu_ps(a + i), zero));
      acc1 = _mm256_add_ps(acc1, _mm256_mul_ps(_mm256_loadu_ps(a + i + 8), zero));
    }
    float tail = 0.0f;
    for (; i < e; ++i) tail += a[i] * 0.0f;
    const __m256 acc = _mm256_add_ps(acc0, acc1);
    if (tail != 0.0f || _mm256_movemask_ps(_mm256_cmp_ps(acc, zero, _CMP_NEQ_UQ)) != 0)
      __atomic_store_n(&bad, 1, __ATOMIC_RELAXED);
  });
  return bad == 0;
}

// U = G g Gᵀ, G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], for one 3×3 filter g (row-major) in
// scalars, or for 8 at once in vectors (the same operations in the same order).
template <typename T, typename Add, typename Sub, typename Half>
inline void filter_transform(const T g[9], T u[16], Add add, Sub sub, Half half) {
  T t[4][3];  // G g
  for (int j = 0; j < 3; ++j) {
    const T g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
    t[0][j] = g0;
    t[1][j] = half(add(add(g0, g2), g1));
    t[2][j] = half(sub(add(g0, g2), g1));
    t[3][j] = g2;
  }
  for (int i = 0; i < 4; ++i) {
    const T a = t[i][0], b = t[i][1], c = t[i][2];
    u[i * 4 + 0] = a;
    u[i * 4 + 1] = half(add(add(a, c), b));
    u[i * 4 + 2] = half(sub(add(a, c), b));
    u[i * 4 + 3] = c;
  }
}

// V = Bᵀ d B, Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], written once for scalars and
// once for 8-lane vectors with the same operations in the same order.
template <typename T, typename Add, typename Sub>
inline void input_transform(const T d[4][4], T v[16], Add add, Sub sub) {
  T t[4][4];  // Bᵀ d
  for (int j = 0; j < 4; ++j) {
    t[0][j] = sub(d[0][j], d[2][j]);
    t[1][j] = add(d[1][j], d[2][j]);
    t[2][j] = sub(d[2][j], d[1][j]);
    t[3][j] = sub(d[1][j], d[3][j]);
  }
  for (int i = 0; i < 4; ++i) {
    v[i * 4 + 0] = sub(t[i][0], t[i][2]);
    v[i * 4 + 1] = add(t[i][1], t[i][2]);
    v[i * 4 + 2] = sub(t[i][2], t[i][1]);
    v[i * 4 + 3] = sub(t[i][1], t[i][3]);
  }
}

// y (2×2) = Aᵀ M A, Aᵀ = [1 1 1 0; 0 1 −1 −1]: r[0] = y00, r[1] = y01, r[2] = y10, r[3] = y11.
template <typename T, typename Add, typename Sub>
inline void output_transform(const T s[16], T r[4], Add add, Sub sub) {
  T a[2][4];  // Aᵀ M
  for (int c = 0; c < 4; ++c) {
    a[0][c] = add(add(s[c], s[4 + c]), s[8 + c]);
    a[1][c] = sub(sub(s[4 + c], s[8 + c]), s[12 + c]);
  }
  for (int i = 0; i < 2; ++i) {
    r[2 * i] = add(add(a[i][0], a[i][1]), a[i][2]);
    r[2 * i + 1] = sub(sub(a[i][1], a[i][2]), a[i][3]);
  }
}

const auto fadd = [](float a, float b) { return a + b; };
const auto fsub = [](float a, float b) { return a - b; };
const auto vadd = [](__m256 a, __m256 b) { return _mm256_add_ps(a, b); };
const auto vsub = [](__m256 a, __m256 b) { return _mm256_sub_ps(a, b); };
const auto fhalf = [](float a) { return 0.5f * a; };
const auto vhalf = [](__m256 a) { return _mm256_mul_ps(_mm256_set1_ps(0.5f), a); };

/** Columns j = 0..3 of the patches of 8 neighbouring tiles in padded row r: r[2l + j], l < 8. */
inline void split_columns(const float* r, __m256 col[4]) {
  const __m256 a = _mm256_loadu_ps(r), b = _mm256_loadu_ps(r + 8);
  const __m256 c = _mm256_loadu_ps(r + 2), d = _mm256_loadu_ps(r + 10);
  col[0] = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
  col[1] = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
  col[2] = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(c, d, 0x88)), 0xD8));
  col[3] = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(c, d, 0xDD)), 0xD8));
}

struct Geometry {
  int64_t C, K, Kr, TH, TW, T, Hp, Wp, OH, OW, TB, QB;
};

/** Tile t's image and tile coordinates. */
inline void tile_pos(const Geometry& g, int64_t t, int64_t& n, int64_t& ty, int64_t& tx) {
  n = t / (g.TH * g.TW);
  ty = (t / g.TW) % g.TH;
  tx = t % g.TW;
}

/** V for the chunk's nt tiles from t0 (panels past nt zero-filled). */
void transform_inputs(const Geometry& g, const float* xpad, int64_t t0, int64_t nt, float* v) {
  const int64_t C = g.C, plane = g.Hp * g.Wp, vstride = g.QB * C * kPanel;  // V stride between points e
  const int64_t used = (nt + kPanel - 1) / kPanel * kPanel;
  for (int64_t i0 = 0; i0 < used; i0 += 8) {
    const int64_t q = i0 / kPanel, lane = i0 % kPanel;
    int64_t n, ty, tx;
    tile_pos(g, t0 + i0, n, ty, tx);
    const bool row = i0 + 8 <= nt && tx + 8 <= g.TW;  // 8 tiles of one tile row
    for (int64_t c = 0; c < C; ++c) {
      float* dst = v + (q * C + c) * kPanel + lane;
      if (row) {
        const float* src = xpad + ((n * C + c) * g.Hp + 2 * ty) * g.Wp + 2 * tx;
        __m256 d[4][4], r[16];
        for (int i = 0; i < 4; ++i) split_columns(src + i * g.Wp, d[i]);
        input_transform(d, r, vadd, vsub);
        for (int e = 0; e < 16; ++e) _mm256_storeu_ps(dst + e * vstride, r[e]);
      } else {
        for (int64_t l = 0; l < 8; ++l) {
          float r[16];
          if (i0 + l < nt) {
            int64_t nn, yy, xx;
            tile_pos(g, t0 + i0 + l, nn, yy, xx);
            const float* src = xpad + ((nn * C + c) * g.Hp + 2 * yy) * g.Wp + 2 * xx;
            float d[4][4];
            for (int i = 0; i < 4; ++i)
              for (int j = 0; j < 4; ++j) d[i][j] = src[i * g.Wp + j];
            input_transform(d, r, fadd, fsub);
          } else {
            std::fill(r, r + 16, 0.0f);
          }
          for (int e = 0; e < 16; ++e) dst[e * vstride + l] = r[e];
        }
      }
    }
  }
}

/** y for the chunk's tiles from M (+ bias). */
void transform_outputs(const Geometry& g, const float* m, const float* bias, int64_t t0, int64_t nt, float* y) {
  const int64_t K = g.K, OP = g.OH * g.OW, mstride = g.QB * g.Kr * kPanel;  // M stride between points e
  for (int64_t i0 = 0; i0 < nt; i0 += 8) {
    const int64_t q = i0 / kPanel, lane = i0 % kPanel;
    int64_t n, ty, tx;
    tile_pos(g, t0 + i0, n, ty, tx);
    const bool row = i0 + 8 <= nt && tx + 8 <= g.TW;
    const int64_t oh = 2 * ty, ow = 2 * tx;
    for (int64_t k = 0; k < K; ++k) {
      const float* src = m + (q * g.Kr + k) * kPanel + lane;
      __m256 s[16], r[4];
      for (int e = 0; e < 16; ++e) s[e] = _mm256_loadu_ps(src + e * mstride);
      output_transform(s, r, vadd, vsub);
      const __m256 b = _mm256_set1_ps(bias ? bias[k] : 0.0f);
      for (int i = 0; i < 4; ++i) r[i] = _mm256_add_ps(r[i], b);
      if (row) {
        float* dst = y + (n * K + k) * OP + oh * g.OW + ow;
        const int64_t width = std::min<int64_t>(16, g.OW - ow);
        for (int i = 0; i < 2 && oh + i < g.OH; ++i) {
          const __m256 lo = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
          const __m256 hi = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
          const __m256 out0 = _mm256_permute2f128_ps(lo, hi, 0x20), out1 = _mm256_permute2f128_ps(lo, hi, 0x31);
          float* d = dst + i * g.OW;
          if (width == 16) {
            _mm256_storeu_ps(d, out0);
            _mm256_storeu_ps(d + 8, out1);
          } else {
            alignas(32) float tmp[16];
            _mm256_store_ps(tmp, out0);
            _mm256_store_ps(tmp + 8, out1);
            for (int64_t j = 0; j < width; ++j) d[j] = tmp[j];
          }
        }
      } else {
        alignas(32) float rr[4][8];
        for (int i = 0; i < 4; ++i) _mm256_store_ps(rr[i], r[i]);
        for (int64_t l = 0; l < 8 && i0 + l < nt; ++l) {
          int64_t nn, yy, xx;
          tile_pos(g, t0 + i0 + l, nn, yy, xx);
          const int64_t h0 = 2 * yy, w0 = 2 * xx;
          float* d = y + (nn * K + k) * OP + h0 * g.OW + w0;
          d[0] = rr[0][l];
          if (w0 + 1 < g.OW) d[1] = rr[1][l];
          if (h0 + 1 < g.OH) {
            d[g.OW] = rr[2][l];
            if (w0 + 1 < g.OW) d[g.OW + 1] = rr[3][l];
          }
        }
      }
    }
  }
}

}  // namespace

Status conv2d_winograd(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y) {
  const int64_t C = p.C, K = p.K;
  if (!all_finite(w, K * C * 9) || !all_finite(x, p.N * C * p.H * p.W)) return conv2d_direct(p, x, w, bias, y);
  Geometry g{};
  g.C = C;
  g.K = K;
  g.Kr = (K + kTileRows - 1) / kTileRows * kTileRows;
  g.OH = p.OH;
  g.OW = p.OW;
  g.TH = (p.OH + 1) / 2;
  g.TW = (p.OW + 1) / 2;
  g.T = p.N * g.TH * g.TW;
  // The padded input covers every tile's 4×4 patch: (2·TH + 2) × (2·TW + 2), zeros outside
  // x. The 8-tile loads of a tile row read columns 2·tx … 2·tx + 17 ≤ Wp − 1.
  g.Hp = 2 * g.TH + 2;
  g.Wp = 2 * g.TW + 2;
  const int64_t threads = in_parallel_region() ? 1 : get_threads();
  // Chunks of about kChunkTiles tiles, at least one per thread while there are tiles for
  // it. (The chunking changes no bits: each tile's sums are the same in any chunk.)
  int64_t chunks = std::max<int64_t>((g.T + kChunkTiles - 1) / kChunkTiles, std::min<int64_t>(threads, (g.T + 15) / 16));
  g.TB = (g.T + chunks - 1) / chunks;
  g.TB = (g.TB + kPanel - 1) / kPanel * kPanel;
  g.QB = g.TB / kPanel;
  chunks = (g.T + g.TB - 1) / g.TB;

  float* xpad = scratch(Scratch::kConvCol, scratch_size({p.N, C, g.Hp, g.Wp}));
  float* ut = scratch(Scratch::kConvAux, scratch_size({16, g.Kr, C}));
  if (!xpad || !ut) return Status::kOutOfMemory;
  if (scratch_size({16, g.TB, C}) > kMaxScratchFloats || scratch_size({16, g.Kr, g.TB}) > kMaxScratchFloats)
    return Status::kOutOfMemory;
  pad_planes(x, p.N * C, p.H, p.W, p.ph, p.pw, g.Hp, g.Wp, xpad);

  // Ut[e][k][c] = U(w[k][c])[e]; rows past K are zero. Eight channels at a time: their
  // 9 taps are gathered at stride 9.
  parallel_for(g.Kr, 4, [&](int64_t k0, int64_t k1) {
    const __m256i idx = _mm256_setr_epi32(0, 9, 18, 27, 36, 45, 54, 63);
    for (int64_t k = k0; k < k1; ++k) {
      int64_t c = 0;
      if (k < K) {
        for (; c + 8 <= C; c += 8) {
          const float* src = w + (k * C + c) * 9;
          __m256 gv[9], u[16];
          for (int i = 0; i < 9; ++i) gv[i] = _mm256_i32gather_ps(src + i, idx, 4);
          filter_transform(gv, u, vadd, vsub, vhalf);
          for (int e = 0; e < 16; ++e) _mm256_storeu_ps(ut + (e * g.Kr + k) * C + c, u[e]);
        }
      }
      for (; c < C; ++c) {
        float u[16];
        if (k < K) filter_transform(w + (k * C + c) * 9, u, fadd, fsub, fhalf);
        else std::fill(u, u + 16, 0.0f);
        for (int64_t e = 0; e < 16; ++e) ut[(e * g.Kr + k) * C + c] = u[e];
      }
    }
  });

  std::vector<int64_t> off(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) off[c] = c;
  int failed = 0;
  parallel_for(chunks, 1, [&](int64_t ch0, int64_t ch1) {
    float* v = scratch(Scratch::kConvOut, scratch_size({16, g.TB, C}));
    float* m = scratch(Scratch::kMisc, scratch_size({16, g.Kr, g.TB}));
    if (!v || !m) {
      __atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
      return;
    }
    for (int64_t ch = ch0; ch < ch1; ++ch) {
      const int64_t t0 = ch * g.TB, nt = std::min(g.TB, g.T - t0), panels = (nt + kPanel - 1) / kPanel;
      transform_inputs(g, xpad, t0, nt, v);
      // M[e][q][k][j] = Σ_c Ut[e][k][c] · V[e][q][c][j], six filters × 16 tiles at a time.
      // The six Ut rows stay in L1 while the chunk's V panels stream from L2.
      for (int64_t e = 0; e < 16; ++e)
        for (int64_t k0 = 0; k0 < g.Kr; k0 += kTileRows) {
          const float* base[kTileRows];
          for (int64_t r = 0; r < kTileRows; ++r) base[r] = ut + (e * g.Kr + k0 + r) * C;
          for (int64_t q = 0; q < panels; ++q)
            conv_tile_f(C, base, off.data(), v + (e * g.QB + q) * C * kPanel,
                        m + ((e * g.QB + q) * g.Kr + k0) * kPanel);
        }
      transform_outputs(g, m, bias, t0, nt, y);
    }
  });
  return failed ? Status::kOutOfMemory : Status::kOk;
}

#endif

}  // namespace medianomaly::detail
