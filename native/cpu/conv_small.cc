// Small-channel convolutions vectorised over output pixels (see conv_small.h).
#include "conv_small.h"

#include <algorithm>
#include <vector>

#include "conv_kernel.h"
#include "conv_phase.h"
#include "medianomaly/threadpool.h"
#include "medianomaly/workspace.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define MEDIANOMALY_SMALL_CONV 1
#endif

namespace medianomaly::detail {

namespace {

// Below 8 channels per group the general kernels' 16-wide tiles run mostly empty.
constexpr int64_t kMaxChannels = 7;

bool common_geometry(const Conv2dParams& p) {
#ifdef MEDIANOMALY_SMALL_CONV
  return p.groups == 1 && p.dh == 1 && p.dw == 1 && (p.sw == 1 || p.sw == 2) && p.C >= 1 && p.C <= kMaxChannels &&
         p.N > 0 && p.K > 0 && p.H > 0 && p.W > 0 && p.OH > 0 && p.OW > 0;
#else
  (void)p;
  return false;
#endif
}

}  // namespace

bool small_channel_conv(const Conv2dParams& p) { return common_geometry(p) && p.OW >= 8; }
bool small_channel_input_grad(const Conv2dParams& p) { return common_geometry(p) && p.W >= 16; }

#ifdef MEDIANOMALY_SMALL_CONV

namespace {

constexpr int64_t kLanes = 8;
constexpr int64_t kChunk = 4 * kLanes;  // output pixels per register tile row

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

/** All lanes below n (0 ≤ n ≤ 8) set. */
__m256i lane_mask(int64_t n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx);
}

float hsum(__m256 v) {
  alignas(32) float t[kLanes];
  _mm256_store_ps(t, v);
  return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
}

/**
 * The zero-padded input with its columns split by stride phase: padded row hp, phase f,
 * index q holds x[n, c, hp − ph, sw·q + f − pw] (0 outside x). Window column j of output
 * pixel ow is phase j mod sw, index ow + j div sw, so eight neighbouring pixels are one
 * load. Each phase row is long enough for whole 32-pixel chunks past the last pixel.
 */
struct PhaseSplitInput {
  int64_t Hp, Q, row;  // padded rows per plane, entries per phase row, floats per padded row
  float* data = nullptr;

  explicit PhaseSplitInput(const Conv2dParams& p)
      : Hp((p.OH - 1) * p.sh + p.kh), Q(round_up(p.OW, kChunk) + (p.kw - 1) / p.sw), row(p.sw * Q) {}

  size_t floats(const Conv2dParams& p) const { return scratch_size({p.N, p.C, Hp, row}); }

  /** Offset of window tap (c, i, j) from the origin of an output row's windows. */
  int64_t tap(int64_t c, int64_t i, int64_t j, const Conv2dParams& p) const {
    return (c * Hp + i) * row + (j % p.sw) * Q + j / p.sw;
  }

  void fill(const Conv2dParams& p, const float* x) {
    parallel_for(p.N * p.C * Hp, 32, [&](int64_t r0, int64_t r1) {
      std::vector<float> line(static_cast<size_t>(row));  // the padded row before the split
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t plane = r / Hp, ih = r % Hp - p.ph;
        float* __restrict dst = data + r * row;
        if (ih < 0 || ih >= p.H) {
          for (int64_t t = 0; t < row; ++t) dst[t] = 0.0f;
          continue;
        }
        const float* __restrict src = x + (plane * p.H + ih) * p.W;
        float* __restrict ln = p.sw == 1 ? dst : line.data();
        const int64_t lead = std::min(p.pw, row), end = std::min(p.pw + p.W, row);
        for (int64_t t = 0; t < lead; ++t) ln[t] = 0.0f;
        for (int64_t t = lead; t < end; ++t) ln[t] = src[t - p.pw];
        for (int64_t t = std::max(end, lead); t < row; ++t) ln[t] = 0.0f;
        if (p.sw == 2) {
          for (int64_t q = 0; q < Q; ++q) {
            dst[q] = ln[2 * q];
            dst[Q + q] = ln[2 * q + 1];
          }
        }
      }
    });
  }
};

// ---------------------------------------------------------------- forward

/**
 * Filters k0 and k1 (weights w0, w1) at 32 pixels of one output row: the FMA chain over
 * taps r in order, then + bias; the first `valid` pixels are stored (y1 may be null).
 * Named accumulators, not arrays: GCC keeps arrays of vectors on the stack.
 */
void forward_tile(int64_t R, const int64_t* off, const float* xo, const float* w0, const float* w1, float b0, float b1,
                  float* y0, float* y1, int64_t valid) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  __m256 c0 = a0, c1 = a0, c2 = a0, c3 = a0;
  for (int64_t r = 0; r < R; ++r) {
    const float* xp = xo + off[r];
    const __m256 u0 = _mm256_broadcast_ss(w0 + r);
    const __m256 u1 = _mm256_broadcast_ss(w1 + r);
    __m256 xv = _mm256_loadu_ps(xp);
    a0 = _mm256_fmadd_ps(xv, u0, a0);
    c0 = _mm256_fmadd_ps(xv, u1, c0);
    xv = _mm256_loadu_ps(xp + 8);
    a1 = _mm256_fmadd_ps(xv, u0, a1);
    c1 = _mm256_fmadd_ps(xv, u1, c1);
    xv = _mm256_loadu_ps(xp + 16);
    a2 = _mm256_fmadd_ps(xv, u0, a2);
    c2 = _mm256_fmadd_ps(xv, u1, c2);
    xv = _mm256_loadu_ps(xp + 24);
    a3 = _mm256_fmadd_ps(xv, u0, a3);
    c3 = _mm256_fmadd_ps(xv, u1, c3);
  }
  const __m256 vb0 = _mm256_set1_ps(b0), vb1 = _mm256_set1_ps(b1);
  const __m256 r0[4] = {_mm256_add_ps(a0, vb0), _mm256_add_ps(a1, vb0), _mm256_add_ps(a2, vb0), _mm256_add_ps(a3, vb0)};
  const __m256 r1[4] = {_mm256_add_ps(c0, vb1), _mm256_add_ps(c1, vb1), _mm256_add_ps(c2, vb1), _mm256_add_ps(c3, vb1)};
  for (int v = 0; v < 4; ++v) {
    const int64_t left = valid - kLanes * v;
    if (left >= kLanes) {
      _mm256_storeu_ps(y0 + kLanes * v, r0[v]);
      if (y1) _mm256_storeu_ps(y1 + kLanes * v, r1[v]);
    } else if (left > 0) {
      const __m256i m = lane_mask(left);
      _mm256_maskstore_ps(y0 + kLanes * v, m, r0[v]);
      if (y1) _mm256_maskstore_ps(y1 + kLanes * v, m, r1[v]);
    }
  }
}

/** Filters k0..k0+2 at 32 pixels of one output row; as forward_tile, 12 accumulators. */
void forward_tile3(int64_t R, const int64_t* off, const float* xo, const float* w0, const float* w1, const float* w2,
                   const float* bias, float* y0, float* y1, float* y2, int64_t valid) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  __m256 c0 = a0, c1 = a0, c2 = a0, c3 = a0;
  __m256 e0 = a0, e1 = a0, e2 = a0, e3 = a0;
  for (int64_t r = 0; r < R; ++r) {
    const float* xp = xo + off[r];
    const __m256 u0 = _mm256_broadcast_ss(w0 + r);
    const __m256 u1 = _mm256_broadcast_ss(w1 + r);
    const __m256 u2 = _mm256_broadcast_ss(w2 + r);
    __m256 xv = _mm256_loadu_ps(xp);
    a0 = _mm256_fmadd_ps(xv, u0, a0);
    c0 = _mm256_fmadd_ps(xv, u1, c0);
    e0 = _mm256_fmadd_ps(xv, u2, e0);
    xv = _mm256_loadu_ps(xp + 8);
    a1 = _mm256_fmadd_ps(xv, u0, a1);
    c1 = _mm256_fmadd_ps(xv, u1, c1);
    e1 = _mm256_fmadd_ps(xv, u2, e1);
    xv = _mm256_loadu_ps(xp + 16);
    a2 = _mm256_fmadd_ps(xv, u0, a2);
    c2 = _mm256_fmadd_ps(xv, u1, c2);
    e2 = _mm256_fmadd_ps(xv, u2, e2);
    xv = _mm256_loadu_ps(xp + 24);
    a3 = _mm256_fmadd_ps(xv, u0, a3);
    c3 = _mm256_fmadd_ps(xv, u1, c3);
    e3 = _mm256_fmadd_ps(xv, u2, e3);
  }
  const __m256 acc[3][4] = {{a0, a1, a2, a3}, {c0, c1, c2, c3}, {e0, e1, e2, e3}};
  float* const ys[3] = {y0, y1, y2};
  for (int f = 0; f < 3; ++f) {
    const __m256 vb = _mm256_set1_ps(bias[f]);
    for (int v = 0; v < 4; ++v) {
      const int64_t left = valid - kLanes * v;
      const __m256 r = _mm256_add_ps(acc[f][v], vb);
      if (left >= kLanes) _mm256_storeu_ps(ys[f] + kLanes * v, r);
      else if (left > 0) _mm256_maskstore_ps(ys[f] + kLanes * v, lane_mask(left), r);
    }
  }
}

std::vector<int64_t> tap_table(const Conv2dParams& p, const PhaseSplitInput& in) {
  std::vector<int64_t> off(static_cast<size_t>(p.C * p.kh * p.kw));
  int64_t r = 0;
  for (int64_t c = 0; c < p.C; ++c)
    for (int64_t i = 0; i < p.kh; ++i)
      for (int64_t j = 0; j < p.kw; ++j) off[r++] = in.tap(c, i, j, p);
  return off;
}

// ---------------------------------------------------------------- weight gradient

constexpr int64_t kWFilters = 2, kWTaps = 4;  // weight-gradient register tile: 8 accumulators

/**
 * Adds, lane by lane, dy[k]·x[tap] over output rows [oh0, oh1) of image n to the 8 partial
 * sums of one (2 filters × 4 taps) tile. Lanes past OW are masked to zero on both sides,
 * so an infinite input there cannot leak in.
 */
void weight_tile(const Conv2dParams& p, const PhaseSplitInput& in, const float* dy, const int64_t* off, int64_t k0,
                 int64_t k1, int64_t n, int64_t oh0, int64_t oh1, __m256* acc) {
  const int64_t full = p.OW / kLanes * kLanes, tail = p.OW - full;
  const __m256i mask = lane_mask(tail);
  __m256 a00 = acc[0], a01 = acc[1], a02 = acc[2], a03 = acc[3];
  __m256 a10 = acc[4], a11 = acc[5], a12 = acc[6], a13 = acc[7];
  const int64_t o0 = off[0], o1 = off[1], o2 = off[2], o3 = off[3];
  {
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      const float* d0 = dy + ((n * p.K + k0) * p.OH + oh) * p.OW;
      const float* d1 = dy + ((n * p.K + k1) * p.OH + oh) * p.OW;
      const float* xo = in.data + (n * p.C * in.Hp + oh * p.sh) * in.row;
      for (int64_t ow = 0; ow < full; ow += kLanes) {
        const __m256 g0 = _mm256_loadu_ps(d0 + ow), g1 = _mm256_loadu_ps(d1 + ow);
        __m256 v = _mm256_loadu_ps(xo + o0 + ow);
        a00 = _mm256_fmadd_ps(g0, v, a00);
        a10 = _mm256_fmadd_ps(g1, v, a10);
        v = _mm256_loadu_ps(xo + o1 + ow);
        a01 = _mm256_fmadd_ps(g0, v, a01);
        a11 = _mm256_fmadd_ps(g1, v, a11);
        v = _mm256_loadu_ps(xo + o2 + ow);
        a02 = _mm256_fmadd_ps(g0, v, a02);
        a12 = _mm256_fmadd_ps(g1, v, a12);
        v = _mm256_loadu_ps(xo + o3 + ow);
        a03 = _mm256_fmadd_ps(g0, v, a03);
        a13 = _mm256_fmadd_ps(g1, v, a13);
      }
      if (tail) {
        const __m256 g0 = _mm256_maskload_ps(d0 + full, mask), g1 = _mm256_maskload_ps(d1 + full, mask);
        __m256 v = _mm256_maskload_ps(xo + o0 + full, mask);
        a00 = _mm256_fmadd_ps(g0, v, a00);
        a10 = _mm256_fmadd_ps(g1, v, a10);
        v = _mm256_maskload_ps(xo + o1 + full, mask);
        a01 = _mm256_fmadd_ps(g0, v, a01);
        a11 = _mm256_fmadd_ps(g1, v, a11);
        v = _mm256_maskload_ps(xo + o2 + full, mask);
        a02 = _mm256_fmadd_ps(g0, v, a02);
        a12 = _mm256_fmadd_ps(g1, v, a12);
        v = _mm256_maskload_ps(xo + o3 + full, mask);
        a03 = _mm256_fmadd_ps(g0, v, a03);
        a13 = _mm256_fmadd_ps(g1, v, a13);
      }
    }
  }
  acc[0] = a00, acc[1] = a01, acc[2] = a02, acc[3] = a03;
  acc[4] = a10, acc[5] = a11, acc[6] = a12, acc[7] = a13;
}

// ---------------------------------------------------------------- input gradient

/**
 * One input row (n, c, ih) of dx, 32 positions v0.. of each column class (at most two).
 * For class rw, position first + sw·v sums w[k, c, rh + sh·a, rw + sw·b] ·
 * dy[k, base_h + u − a, base_w + v − b] over (k, a, b) in order. TA and TB, when not 0,
 * are the row taps and both classes' column taps as constants (4×4 stride 2: 2 and 2),
 * so the tap loops unroll; 0 reads them from the axes.
 */
template <int TA, int TB>
void input_row_chunk(const Conv2dParams& p, const PaddedGrad& pg, const PhaseAxis& ah, int64_t rh, int64_t u,
                     const PhaseAxis* aw, int64_t classes, const float* dyn, const float* wc, int64_t v0,
                     float (*out)[kChunk]) {
  __m256 e0 = _mm256_setzero_ps(), e1 = e0, e2 = e0, e3 = e0;  // class 0
  __m256 o0 = e0, o1 = e0, o2 = e0, o3 = e0;                    // class 1
  const int64_t wstride = p.C * p.kh * p.kw, plane = pg.OHp * pg.OWp;
  const bool has0 = aw[0].count > v0, has1 = classes > 1 && aw[1].count > v0;
  const int64_t ta = TA ? TA : ah.taps;
  const int64_t tw0 = !has0 ? 0 : TB ? TB : aw[0].taps, tw1 = !has1 ? 0 : TB ? TB : aw[1].taps;
  const int64_t sw = p.sw, sh_kw = p.sh * p.kw, owp = pg.OWp;
  const float* d = dyn + (pg.top + ah.base + u) * owp + pg.left + v0;
  const float* d0 = d + aw[0].base;
  const float* d1 = d + (classes > 1 ? aw[1].base : 0);
  const float* wr = wc + rh * p.kw;
  for (int64_t k = 0; k < p.K; ++k, d0 += plane, d1 += plane, wr += wstride) {
    for (int64_t a = 0; a < ta; ++a) {
      const float* wrow = wr + a * sh_kw;
      for (int64_t b = 0; b < tw0; ++b) {
        const __m256 wv = _mm256_broadcast_ss(wrow + sw * b);
        const float* src = d0 - a * owp - b;
        e0 = _mm256_fmadd_ps(_mm256_loadu_ps(src), wv, e0);
        e1 = _mm256_fmadd_ps(_mm256_loadu_ps(src + 8), wv, e1);
        e2 = _mm256_fmadd_ps(_mm256_loadu_ps(src + 16), wv, e2);
        e3 = _mm256_fmadd_ps(_mm256_loadu_ps(src + 24), wv, e3);
      }
      for (int64_t b = 0; b < tw1; ++b) {
        const __m256 wv = _mm256_broadcast_ss(wrow + 1 + sw * b);
        const float* src = d1 - a * owp - b;
        o0 = _mm256_fmadd_ps(_mm256_loadu_ps(src), wv, o0);
        o1 = _mm256_fmadd_ps(_mm256_loadu_ps(src + 8), wv, o1);
        o2 = _mm256_fmadd_ps(_mm256_loadu_ps(src + 16), wv, o2);
        o3 = _mm256_fmadd_ps(_mm256_loadu_ps(src + 24), wv, o3);
      }
    }
  }
  _mm256_store_ps(out[0], e0);
  _mm256_store_ps(out[0] + 8, e1);
  _mm256_store_ps(out[0] + 16, e2);
  _mm256_store_ps(out[0] + 24, e3);
  _mm256_store_ps(out[1], o0);
  _mm256_store_ps(out[1] + 8, o1);
  _mm256_store_ps(out[1] + 16, o2);
  _mm256_store_ps(out[1] + 24, o3);
}

}  // namespace

Status conv2d_small_channels(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y) {
  PhaseSplitInput in(p);
  in.data = scratch(Scratch::kConvCol, in.floats(p));
  if (!in.data) return Status::kOutOfMemory;
  in.fill(p, x);
  const std::vector<int64_t> off = tap_table(p, in);
  const int64_t R = p.C * p.kh * p.kw, P = p.OH * p.OW;
  parallel_for(p.N * p.OH, 8, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / p.OH, oh = t % p.OH;
      const float* xo = in.data + (n * p.C * in.Hp + oh * p.sh) * in.row;
      // Filters in threes (12 accumulators hide the FMA latency), the last one or two in a pair.
      int64_t k0 = 0;
      for (; k0 + 3 <= p.K; k0 += 3) {
        float* y0 = y + (n * p.K + k0) * P + oh * p.OW;
        const float b[3] = {bias ? bias[k0] : 0.0f, bias ? bias[k0 + 1] : 0.0f, bias ? bias[k0 + 2] : 0.0f};
        for (int64_t ow0 = 0; ow0 < p.OW; ow0 += kChunk)
          forward_tile3(R, off.data(), xo + ow0, w + k0 * R, w + (k0 + 1) * R, w + (k0 + 2) * R, b, y0 + ow0,
                        y0 + P + ow0, y0 + 2 * P + ow0, std::min(kChunk, p.OW - ow0));
      }
      if (k0 < p.K) {
        const int64_t k1 = std::min(k0 + 1, p.K - 1);
        float* y0 = y + (n * p.K + k0) * P + oh * p.OW;
        float* y1 = k1 != k0 ? y0 + P : nullptr;
        const float b0 = bias ? bias[k0] : 0.0f, b1 = bias ? bias[k1] : 0.0f;
        for (int64_t ow0 = 0; ow0 < p.OW; ow0 += kChunk)
          forward_tile(R, off.data(), xo + ow0, w + k0 * R, w + k1 * R, b0, b1, y0 + ow0, y1 ? y1 + ow0 : nullptr,
                       std::min(kChunk, p.OW - ow0));
      }
    }
  });
  return Status::kOk;
}

Status conv2d_backward_weight_small_channels(const Conv2dParams& p, const float* x, const float* dy, float* dw) {
  PhaseSplitInput in(p);
  in.data = scratch(Scratch::kConvCol, in.floats(p));
  if (!in.data) return Status::kOutOfMemory;
  in.fill(p, x);
  const std::vector<int64_t> off = tap_table(p, in);
  const int64_t R = p.C * p.kh * p.kw;
  const int64_t rtiles = (R + kWTaps - 1) / kWTaps, ktiles = (p.K + kWFilters - 1) / kWFilters;
  // Output rows per pass: their dy rows and input rows stay in L1 while every tile of
  // the chunk sweeps them (the sum per lane still runs over n, oh, ow in order).
  const int64_t row_bytes = 4 * (p.K * p.OW + p.C * p.sh * in.row);
  const int64_t rows_per_pass = std::max<int64_t>(1, (24 << 10) / row_bytes);
  parallel_for(ktiles * rtiles, 1, [&](int64_t t0, int64_t t1) {
    std::vector<__m256> acc(static_cast<size_t>((t1 - t0) * kWFilters * kWTaps), _mm256_setzero_ps());
    auto tile_taps = [&](int64_t t, int64_t* o, int64_t* r) {
      for (int64_t i = 0; i < kWTaps; ++i) {
        r[i] = std::min((t % rtiles) * kWTaps + i, R - 1);  // a short last tile repeats its last tap
        o[i] = off[r[i]];
      }
    };
    for (int64_t n = 0; n < p.N; ++n)
      for (int64_t oh0 = 0; oh0 < p.OH; oh0 += rows_per_pass) {
        const int64_t oh1 = std::min(p.OH, oh0 + rows_per_pass);
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t k0 = (t / rtiles) * kWFilters, k1 = std::min(k0 + 1, p.K - 1);
          int64_t o[kWTaps], r[kWTaps];
          tile_taps(t, o, r);
          weight_tile(p, in, dy, o, k0, k1, n, oh0, oh1, acc.data() + (t - t0) * kWFilters * kWTaps);
        }
      }
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t k0 = (t / rtiles) * kWFilters;
      int64_t o[kWTaps], r[kWTaps];
      tile_taps(t, o, r);
      const __m256* a = acc.data() + (t - t0) * kWFilters * kWTaps;
      for (int64_t f = 0; f < kWFilters && k0 + f < p.K; ++f)
        for (int64_t i = 0; i < kWTaps; ++i) dw[(k0 + f) * R + r[i]] = hsum(a[f * kWTaps + i]);
    }
  });
  return Status::kOk;
}

Status conv2d_backward_input_small_channels(const Conv2dParams& p, const float* dy, const float* w, float* dx) {
  // Whole 32-wide chunks read past a class's last position. Those lanes are discarded, so
  // they may read the next padded row: only the end of the buffer needs kChunk floats of
  // slack, not every row (per-row slack doubled the padded copy of dy for 32-wide rows).
  const PaddedGrad pg(p);
  const size_t padded = scratch_size({p.N, p.K, pg.OHp, pg.OWp});
  float* dyp = scratch(Scratch::kConvCol, padded + kChunk);
  if (!dyp) return Status::kOutOfMemory;
  pad_planes(dy, p.N * p.K, p.OH, p.OW, pg.top, pg.left, pg.OHp, pg.OWp, dyp);
  std::vector<PhaseAxis> rows, cols;
  for (int64_t r = 0; r < p.sh; ++r) rows.emplace_back(r, p.H, p.kh, p.sh, p.ph);
  for (int64_t r = 0; r < p.sw; ++r) cols.emplace_back(r, p.W, p.kw, p.sw, p.pw);
  int64_t longest = 0;
  for (const PhaseAxis& a : cols) longest = std::max(longest, a.count);
  const int64_t classes = p.sw;
  parallel_for(p.N * p.C * p.H, 16, [&](int64_t t0, int64_t t1) {
    alignas(32) float out[2][kChunk];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t ih = t % p.H, c = (t / p.H) % p.C, n = t / (p.H * p.C);
      const int64_t rh = (ih + p.ph) % p.sh;
      const PhaseAxis& ah = rows[rh];
      const int64_t u = (ih - ah.first) / p.sh;
      const float* dyn = dyp + n * p.K * pg.OHp * pg.OWp;
      const float* wc = w + c * p.kh * p.kw;
      float* dst = dx + ((n * p.C + c) * p.H + ih) * p.W;
      for (int64_t v0 = 0; v0 < longest; v0 += kChunk) {
        const bool two_by_two = ah.taps == 2 && classes == 2 && cols[0].taps == 2 && cols[1].taps == 2;
        if (two_by_two) input_row_chunk<2, 2>(p, pg, ah, rh, u, cols.data(), classes, dyn, wc, v0, out);
        else input_row_chunk<0, 0>(p, pg, ah, rh, u, cols.data(), classes, dyn, wc, v0, out);
        if (classes == 2 && cols[0].first + cols[1].first == 1 && cols[0].count - v0 >= kChunk &&
            cols[1].count - v0 >= kChunk) {
          // Stride 2, both classes full: interleave even and odd positions in registers.
          const float* ev = out[cols[0].first == 0 ? 0 : 1];
          const float* od = out[cols[0].first == 0 ? 1 : 0];
          float* row = dst + 2 * v0;
          for (int64_t v = 0; v < kChunk; v += kLanes) {
            const __m256 e = _mm256_load_ps(ev + v), o = _mm256_load_ps(od + v);
            const __m256 lo = _mm256_unpacklo_ps(e, o), hi = _mm256_unpackhi_ps(e, o);
            _mm256_storeu_ps(row + 2 * v, _mm256_permute2f128_ps(lo, hi, 0x20));
            _mm256_storeu_ps(row + 2 * v + kLanes, _mm256_permute2f128_ps(lo, hi, 0x31));
          }
          continue;
        }
        for (int64_t cl = 0; cl < classes; ++cl) {
          const PhaseAxis& aw = cols[cl];
          const int64_t m = std::min(kChunk, aw.count - v0);
          for (int64_t v = 0; v < m; ++v) dst[aw.first + p.sw * (v0 + v)] = out[cl][v];
        }
      }
    }
  });
  return Status::kOk;
}

#else

Status conv2d_small_channels(const Conv2dParams&, const float*, const float*, const float*, float*) {
  return Status::kUnsupported;
}
Status conv2d_backward_weight_small_channels(const Conv2dParams&, const float*, const float*, float*) {
  return Status::kUnsupported;
}
Status conv2d_backward_input_small_channels(const Conv2dParams&, const float*, const float*, float*) {
  return Status::kUnsupported;
}

#endif

}  // namespace medianomaly::detail
