// Inference-only 4×4 stride-2 padding-1 convolutions and transposed convolutions (the
// unified AE's encoder and decoder blocks) by Winograd F(4×4, 2×2) on stride phases, with
// the eval BatchNorm (per-channel scale and shift) and ReLU applied as the outputs are
// stored. See medianomaly/conv.h (conv2d_eval) for the contract.
//
// Both layers are sums of 2×2 stride-1 correlations once the stride is split off:
//   conv:       y[u, v] = Σ_{c, dy, dx} Σ_{a,b<2} x[c, 2(u+a)+dy−1, 2(v+b)+dx−1] · w[k, c, 2a+dy, 2b+dx]
//               (one output phase; depth J = 4·C over (dy, dx, c))
//   transposed: y[2u+py, 2v+px] = Σ_{c} Σ_{a,b<2} x[c, u+a+py−1, v+b+px−1] · w[c, k, 3−2a−py, 3−2b−px]
//               (four output phases (py, px); depth J = C each)
// Each correlation runs as F(4, 2) in both axes: a 5×5 input patch d and 2×2 filter g give
// a 4×4 output block as Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, 25 products per block instead of 64.
// Per transform point the channel sums are a GEMM M[t, k] = Σ_j V[t, j] · U[j, k] over the
// tiles t of a chunk (6×16 register tiles, AVX2+FMA when built for it).
//
// Layout. The input patch of a tile is first staged channel-last (st[row][col][c], zero
// outside the image, channels padded to Cp = 16·⌈C/16⌉), so the transforms run on 16
// channels at a time; U (conv2d_eval_pack) is [phase][point][j][Kp] in 16-filter panels.
// Every output element is one fixed sequence of operations that depends only on the
// shapes, never on the chunking or the thread count.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include "medianomaly/conv.h"
#include "medianomaly/threadpool.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace medianomaly {

namespace {

constexpr int64_t kLanes = 16;  // channels per transform vector / filters per panel
constexpr int64_t kPoints = 25;  // 5×5 transform points
constexpr int64_t kRows = 6;     // tiles per register tile

int64_t round16(int64_t v) { return (v + kLanes - 1) / kLanes * kLanes; }

/** The geometry of one call, in the layer's own terms (input x, output y). */
struct Geometry {
  bool transposed;
  int64_t N, C, H, W;   // x: [N, C, H, W]
  int64_t K, OH, OW;    // y: [N, K, OH, OW]
  int64_t Cp, Kp, J;    // padded channels, padded filters, GEMM depth per phase
  int64_t phases;       // output phases (1 or 4)
  int64_t TH, TW;       // tiles per image (4×4 blocks of one phase)
  int64_t region;       // side of the staged input patch (10 or 6)

  explicit Geometry(const Conv2dParams& p, bool tr) : transposed(tr) {
    N = p.N;
    if (tr) {  // p is the conv whose input gradient this is
      C = p.K, H = p.OH, W = p.OW, K = p.C, OH = p.H, OW = p.W;
    } else {
      C = p.C, H = p.H, W = p.W, K = p.K, OH = p.OH, OW = p.OW;
    }
    Cp = round16(C);
    Kp = round16(K);
    J = tr ? Cp : 4 * Cp;
    phases = tr ? 4 : 1;
    const int64_t rows = tr ? (OH + 1) / 2 : OH, cols = tr ? (OW + 1) / 2 : OW;
    TH = (rows + 3) / 4;
    TW = (cols + 3) / 4;
    region = tr ? 6 : 10;
  }
};

// F(4, 2) for points 0, 1, −1, 2, ∞: G (5×2) here, Bᵀ (5×5) in bt5v, Aᵀ (4×5) in at4v.
inline void g5(const float g0, const float g1, float* o) {
  o[0] = 0.5f * g0;
  o[1] = -0.5f * (g0 + g1);
  o[2] = (g1 - g0) / 6.0f;
  o[3] = (g0 + 2.0f * g1) / 6.0f;
  o[4] = g1;
}

#if defined(__AVX2__) && defined(__FMA__)
using Vec = __m256;
inline Vec vload(const float* p) { return _mm256_loadu_ps(p); }
inline void vstore(float* p, Vec v) { _mm256_storeu_ps(p, v); }
inline Vec vadd(Vec a, Vec b) { return _mm256_add_ps(a, b); }
inline Vec vsub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
inline Vec vmul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
inline Vec vset(float v) { return _mm256_set1_ps(v); }
/** max(0, v) keeping NaN (MAXPS returns its second operand when either is NaN). */
inline Vec vrelu(Vec v) { return _mm256_max_ps(_mm256_setzero_ps(), v); }
inline Vec vfma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
constexpr int64_t kVec = 8;
#else
struct Vec {
  float v;
};
inline Vec vload(const float* p) { return {*p}; }
inline void vstore(float* p, Vec v) { *p = v.v; }
inline Vec vadd(Vec a, Vec b) { return {a.v + b.v}; }
inline Vec vsub(Vec a, Vec b) { return {a.v - b.v}; }
inline Vec vmul(Vec a, Vec b) { return {a.v * b.v}; }
inline Vec vset(float v) { return {v}; }
inline Vec vrelu(Vec v) { return {v.v < 0.0f ? 0.0f : v.v}; }
inline Vec vfma(Vec a, Vec b, Vec c) { return {std::fma(a.v, b.v, c.v)}; }
constexpr int64_t kVec = 1;
#endif

// The same arithmetic as bt5 / at4, on vectors.
inline void bt5v(const Vec d[5], Vec o[5]) {
  const Vec two = vset(2.0f), three = vset(3.0f);
  o[0] = vadd(vsub(vsub(vmul(two, d[0]), d[1]), vmul(two, d[2])), d[3]);
  o[1] = vadd(vsub(vmul(vset(-2.0f), d[1]), d[2]), d[3]);
  o[2] = vadd(vsub(vmul(two, d[1]), vmul(three, d[2])), d[3]);
  o[3] = vsub(d[3], d[1]);
  o[4] = vadd(vsub(vsub(vmul(two, d[1]), d[2]), vmul(two, d[3])), d[4]);
}

inline void at4v(const Vec m[5], Vec o[4]) {
  const Vec p = vadd(m[1], m[2]), q = vsub(m[1], m[2]);
  o[0] = vadd(vadd(m[0], p), m[3]);
  o[1] = vadd(q, vmul(vset(2.0f), m[3]));
  o[2] = vadd(p, vmul(vset(4.0f), m[3]));
  o[3] = vadd(vadd(q, vmul(vset(8.0f), m[3])), m[4]);
}

/**
 * Bᵀ d B on 16 lanes: d(α, β) = d + α·ra + β·rb (16 consecutive channels) → v + e·ve for
 * the point e = α'·5 + β'.
 */
inline void input_transform(const float* d, int64_t ra, int64_t rb, float* v, int64_t ve) {
  for (int64_t h = 0; h < kLanes; h += kVec) {
    Vec t[5][5];  // t[α'][β]
    for (int64_t b = 0; b < 5; ++b) {
      Vec col[5], out[5];
      for (int64_t a = 0; a < 5; ++a) col[a] = vload(d + a * ra + b * rb + h);
      bt5v(col, out);
      for (int64_t a = 0; a < 5; ++a) t[a][b] = out[a];
    }
    for (int64_t a = 0; a < 5; ++a) {
      Vec out[5];
      bt5v(t[a], out);
      for (int64_t b = 0; b < 5; ++b) vstore(v + (a * 5 + b) * ve + h, out[b]);
    }
  }
}

/**
 * Aᵀ m A on 16 lanes, then ·scale + shift and ReLU: m + e·me (point e) → o[(i·4 + j)·16 + l].
 */
inline void output_transform(const float* m, int64_t me, const float* sc, const float* sh, bool relu, float* o) {
  for (int64_t h = 0; h < kLanes; h += kVec) {
    Vec t[4][5];  // t[i][β]
    for (int64_t b = 0; b < 5; ++b) {
      Vec col[5], out[4];
      for (int64_t a = 0; a < 5; ++a) col[a] = vload(m + (a * 5 + b) * me + h);
      at4v(col, out);
      for (int64_t i = 0; i < 4; ++i) t[i][b] = out[i];
    }
    const Vec s = vload(sc + h), b0 = vload(sh + h);
    for (int64_t i = 0; i < 4; ++i) {
      Vec out[4];
      at4v(t[i], out);
      for (int64_t j = 0; j < 4; ++j) {
        Vec r = vadd(vmul(out[j], s), b0);
        if (relu) r = vrelu(r);
        vstore(o + (i * 4 + j) * kLanes + h, r);
      }
    }
  }
}

/** dst[j·ldd + i] = src[i·lds + j] for an 8×8 block. */
inline void transpose8(const float* src, int64_t lds, float* dst, int64_t ldd) {
#if defined(__AVX2__) && defined(__FMA__)
  const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds), r2 = _mm256_loadu_ps(src + 2 * lds),
               r3 = _mm256_loadu_ps(src + 3 * lds), r4 = _mm256_loadu_ps(src + 4 * lds), r5 = _mm256_loadu_ps(src + 5 * lds),
               r6 = _mm256_loadu_ps(src + 6 * lds), r7 = _mm256_loadu_ps(src + 7 * lds);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
               t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
               t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2)),
               u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2)),
               u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2)),
               u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
#else
  for (int64_t i = 0; i < 8; ++i)
    for (int64_t j = 0; j < 8; ++j) dst[j * ldd + i] = src[i * lds + j];
#endif
}

/** dst[2j] = a[j], dst[2j + 1] = b[j] for j < n (n ≤ 8 is a full run of 4 or 8 with AVX2). */
inline void interleave(const float* a, const float* b, int64_t n, float* dst) {
#if defined(__AVX2__) && defined(__FMA__)
  if (n == 4) {
    const __m128 x = _mm_loadu_ps(a), y = _mm_loadu_ps(b);
    _mm_storeu_ps(dst, _mm_unpacklo_ps(x, y));
    _mm_storeu_ps(dst + 4, _mm_unpackhi_ps(x, y));
    return;
  }
  if (n == 8) {
    const __m256 x = _mm256_loadu_ps(a), y = _mm256_loadu_ps(b);
    const __m256 lo = _mm256_unpacklo_ps(x, y), hi = _mm256_unpackhi_ps(x, y);  // per 128-bit half
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(dst + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    return;
  }
#endif
  for (int64_t j = 0; j < n; ++j) {
    dst[2 * j] = a[j];
    dst[2 * j + 1] = b[j];
  }
}

/**
 * The band of input rows r0 … r0 + R − 1 of image n, channel-last: st[(r·Wst + 1 + iw)·Cp + c]
 * = x[n, c, r0 + r, iw], zero outside the image and for c ≥ C.
 */
void stage_band(const float* x, int64_t n, int64_t C, int64_t H, int64_t W, int64_t Cp, int64_t r0, int64_t R,
                int64_t Wst, float* st) {
  const int64_t HW = H * W;
  for (int64_t r = 0; r < R; ++r) {
    const int64_t ih = r0 + r;
    float* row = st + r * Wst * Cp;
    if (ih < 0 || ih >= H) {
      std::fill(row, row + Wst * Cp, 0.0f);
      continue;
    }
    std::fill(row, row + Cp, 0.0f);  // column −1
    std::fill(row + (1 + W) * Cp, row + Wst * Cp, 0.0f);
    const float* src = x + (n * C * H + ih) * W;
    const int64_t C8 = C / 8 * 8, W8 = W / 8 * 8;
    for (int64_t c = 0; c < C8; c += 8) {
      for (int64_t w = 0; w < W8; w += 8) transpose8(src + c * HW + w, HW, row + (1 + w) * Cp + c, Cp);
      for (int64_t w = W8; w < W; ++w)
        for (int64_t i = 0; i < 8; ++i) row[(1 + w) * Cp + c + i] = src[(c + i) * HW + w];
    }
    for (int64_t c = C8; c < C; ++c)
      for (int64_t w = 0; w < W; ++w) row[(1 + w) * Cp + c] = src[c * HW + w];
    if (C < Cp)
      for (int64_t w = 0; w < W; ++w) std::fill(row + (1 + w) * Cp + C, row + (2 + w) * Cp, 0.0f);
  }
}

/** c[i·ldc + j] = Σ_{k<kc} a[i][k] · b[k·16 + j], i < 6, j < 16. */
void gemm_tile(int64_t kc, const float* const a[kRows], const float* b, float* c, int64_t ldc) {
#if defined(__AVX2__) && defined(__FMA__)
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
#define MEDIANOMALY_EVAL_ROW(i)                          \
  {                                                      \
    const __m256 av = _mm256_broadcast_ss(a##i + k);     \
    c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);          \
    c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1);          \
  }
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b + k * kLanes);
    const __m256 b1 = _mm256_loadu_ps(b + k * kLanes + 8);
    MEDIANOMALY_EVAL_ROW(0)
    MEDIANOMALY_EVAL_ROW(1)
    MEDIANOMALY_EVAL_ROW(2)
    MEDIANOMALY_EVAL_ROW(3)
    MEDIANOMALY_EVAL_ROW(4)
    MEDIANOMALY_EVAL_ROW(5)
  }
#undef MEDIANOMALY_EVAL_ROW
  const __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  for (int64_t i = 0; i < kRows; ++i) {
    _mm256_storeu_ps(c + i * ldc, acc[2 * i]);
    _mm256_storeu_ps(c + i * ldc + 8, acc[2 * i + 1]);
  }
#else
  for (int64_t i = 0; i < kRows; ++i) {
    float acc[kLanes] = {};
    for (int64_t k = 0; k < kc; ++k) {
      const float av = a[i][k];
      for (int64_t j = 0; j < kLanes; ++j) acc[j] = std::fma(av, b[k * kLanes + j], acc[j]);
    }
    for (int64_t j = 0; j < kLanes; ++j) c[i * ldc + j] = acc[j];
  }
#endif
}


/** Per-channel scale, shift and ReLU over y [N, K, P] (the fallback's epilogue). */
void apply_epilogue(const Geometry& g, const float* scale, const float* shift, bool relu, float* y) {
  const int64_t P = g.OH * g.OW;
  parallel_for(g.N * g.K, 4, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t k = t % g.K;
      const float s = scale ? scale[k] : 1.0f, b = shift ? shift[k] : 0.0f;
      float* d = y + t * P;
      for (int64_t i = 0; i < P; ++i) {
        float v = scale ? d[i] * s : d[i];
        if (shift) v += b;
        d[i] = relu && v < 0.0f ? 0.0f : v;
      }
    }
  });
}

bool all_finite(const float* v, int64_t n) {
  // Exponent bits all ones = Inf or NaN; an integer OR-reduction vectorises.
  uint32_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t b;
    std::memcpy(&b, v + i, sizeof b);
    bad |= static_cast<uint32_t>((b & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

/**
 * Transposed conv with fewer than kFewOutputs output channels (the AE's 1-channel last layer):
 * the 16-filter panels of the Winograd path would be mostly padding, so it runs directly,
 * 8 output columns of one phase at a time. Output (2u + py, 2v + px) of channel k sums
 *   x[c, u + r, v + s] · w[c, k, 1 − 2r + py, 1 − 2s + px]  over c, r ∈ {py − 1, py}, s ∈ {px − 1, px}
 * (c, then r, then s ascending), read from a zero-padded copy of the image.
 */
constexpr int64_t kFewOutputs = 8;

/** Returns false (having written part of y) when the input holds a non-finite value. */
bool conv_transpose_few_outputs(const Geometry& g, const float* x, const float* w, const float* scale, const float* shift,
                                bool relu, float* y) {
  std::atomic<bool> finite{true};
  constexpr int64_t kBlk = 2;  // vectors of output columns per pass: 8 independent accumulators
  const int64_t Hp = g.H + 2, Wp = g.W + 2 + kBlk * kVec;  // zero border, slack for whole vectors
  parallel_for(g.N, 1, [&](int64_t n0, int64_t n1) {
    thread_local std::vector<float> xpbuf;
    xpbuf.resize(static_cast<size_t>(g.C * Hp * Wp));
    float* xp = xpbuf.data();
    for (int64_t n = n0; n < n1; ++n) {
      std::fill(xp, xp + g.C * Hp * Wp, 0.0f);
      for (int64_t c = 0; c < g.C; ++c)
        for (int64_t h = 0; h < g.H; ++h) {
          const float* src = x + ((n * g.C + c) * g.H + h) * g.W;
          std::copy(src, src + g.W, xp + (c * Hp + h + 1) * Wp + 1);
        }
      if (!all_finite(xp, g.C * Hp * Wp)) {
        finite = false;
        return;
      }
      for (int64_t k = 0; k < g.K; ++k) {
        const float sc = scale ? scale[k] : 1.0f, sh = shift ? shift[k] : 0.0f;
        float* yk = y + (n * g.K + k) * g.OH * g.OW;
        for (int64_t u = 0; u < g.H; ++u)
          for (int64_t v0 = 0; v0 < g.W; v0 += kBlk * kVec) {
            Vec acc[kBlk][2][2];
            for (auto& b : acc)
              for (auto& a : b) a[0] = a[1] = vset(0.0f);
            for (int64_t c = 0; c < g.C; ++c) {
              const float* wc = w + (c * g.K + k) * 16;
              for (int64_t r = -1; r <= 1; ++r) {
                const float* row = xp + (c * Hp + u + r + 1) * Wp + 1 + v0;
                for (int64_t s = -1; s <= 1; ++s)
                  for (int64_t py = 0; py < 2; ++py) {
                    if (r != py - 1 && r != py) continue;
                    for (int64_t px = 0; px < 2; ++px) {
                      if (s != px - 1 && s != px) continue;
                      const Vec wv = vset(wc[(1 - 2 * r + py) * 4 + (1 - 2 * s + px)]);
                      for (int64_t bl = 0; bl < kBlk; ++bl) acc[bl][py][px] = vfma(vload(row + s + bl * kVec), wv, acc[bl][py][px]);
                    }
                  }
              }
            }
            // Epilogue, then columns of phases px = 0, 1 interleaved into the output rows.
            for (int64_t bl = 0; bl < kBlk; ++bl)
              for (int64_t py = 0; py < 2; ++py) {
                const int64_t col0 = 2 * (v0 + bl * kVec);
                if (col0 >= g.OW) break;
                alignas(32) float e[2][kVec];
                for (int64_t px = 0; px < 2; ++px) {
                  Vec r = vadd(vmul(acc[bl][py][px], vset(sc)), vset(sh));
                  if (relu) r = vrelu(r);
                  vstore(e[px], r);
                }
                float* dst = yk + (2 * u + py) * g.OW + col0;
                const int64_t cols = std::min<int64_t>(2 * kVec, g.OW - col0);
                if (cols == 2 * kVec) {
                  interleave(e[0], e[1], kVec, dst);
                } else {
                  for (int64_t j = 0; j < cols; ++j) dst[j] = e[j % 2][j / 2];
                }
              }
          }
      }
    }
  });
  return finite;
}

}  // namespace

bool conv2d_eval_supported(const Conv2dParams& p) {
  return p.kh == 4 && p.kw == 4 && p.sh == 2 && p.sw == 2 && p.ph == 1 && p.pw == 1 && p.dh == 1 && p.dw == 1 &&
         p.groups == 1;
}

int64_t conv2d_eval_pack_size(const Conv2dParams& p, bool transposed) {
  const Geometry g(p, transposed);
  return g.phases * kPoints * g.J * g.Kp;
}

Status conv2d_eval_pack(const Conv2dParams& p, bool transposed, const float* w, float* u) {
  if (!conv2d_eval_supported(p)) return Status::kUnsupported;
  const Geometry g(p, transposed);
  const int64_t panels = g.Kp / kLanes;
  // u[((ph·25 + e)·panels + q)·J·16 + j·16 + l], filter k = 16q + l, depth j.
  parallel_for(g.phases * g.J, 4, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t ph = i / g.J, j = i % g.J;
      for (int64_t k = 0; k < g.Kp; ++k) {
        float gg[2][2] = {{0.0f, 0.0f}, {0.0f, 0.0f}};
        if (transposed) {
          const int64_t c = j, py = ph / 2, px = ph % 2;
          if (c < g.C && k < g.K)
            for (int64_t a = 0; a < 2; ++a)
              for (int64_t b = 0; b < 2; ++b) gg[a][b] = w[((c * g.K + k) * 4 + (3 - 2 * a - py)) * 4 + (3 - 2 * b - px)];
        } else {
          const int64_t phase = j / g.Cp, c = j % g.Cp, dy = phase / 2, dx = phase % 2;
          if (c < g.C && k < g.K)
            for (int64_t a = 0; a < 2; ++a)
              for (int64_t b = 0; b < 2; ++b) gg[a][b] = w[((k * g.C + c) * 4 + (2 * a + dy)) * 4 + (2 * b + dx)];
        }
        // U = G g Gᵀ: columns first (G g, 5×2), then rows.
        float col0[5], col1[5];
        g5(gg[0][0], gg[1][0], col0);
        g5(gg[0][1], gg[1][1], col1);
        for (int64_t a = 0; a < 5; ++a) {
          float row[5];
          g5(col0[a], col1[a], row);
          for (int64_t b = 0; b < 5; ++b) {
            const int64_t e = a * 5 + b, q = k / kLanes, l = k % kLanes;
            u[(((ph * kPoints + e) * panels + q) * g.J + j) * kLanes + l] = row[b];
          }
        }
      }
    }
  });
  return Status::kOk;
}

Status conv2d_eval(const Conv2dParams& p, bool transposed, const float* x, const float* w, const float* u,
                   const float* scale, const float* shift, bool relu, float* y) {
  if (!conv2d_eval_supported(p)) return Status::kUnsupported;
  const Geometry g(p, transposed);
  if (g.N <= 0 || g.K <= 0 || g.OH <= 0 || g.OW <= 0) return Status::kOk;
  // Non-finite inputs or weights would spread through the transforms (Inf − Inf) to
  // outputs whose windows do not hold them (and the direct path multiplies the padding's
  // zeros): those calls take the exact kernels, which overwrite all of y. The weights are
  // checked here, the input as it is staged (hot in cache) instead of in a pass of its own.
  auto exact = [&]() {
    const Status s = transposed ? conv2d_backward_input(p, x, w, y) : conv2d(p, x, w, nullptr, y);
    if (s != Status::kOk) return s;
    if (scale || shift || relu) apply_epilogue(g, scale, shift, relu, y);
    return Status::kOk;
  };
  if (!all_finite(w, g.C * g.K * 16)) return exact();
  if (transposed && g.K < kFewOutputs) return conv_transpose_few_outputs(g, x, w, scale, shift, relu, y) ? Status::kOk : exact();

  const int64_t panels = g.Kp / kLanes;
  const int64_t per_image = g.TH * g.TW, tiles = g.N * per_image;
  // Tiles per chunk: the chunk's V and M for all phases and points stay within ~768 KiB.
  int64_t chunk = (196608 / (kPoints * g.phases * (g.J + g.Kp))) / kRows * kRows;
  chunk = std::max<int64_t>(kRows, std::min<int64_t>(chunk, (tiles + kRows - 1) / kRows * kRows));
  const int64_t chunks = (tiles + chunk - 1) / chunk;
  const int64_t R = g.region, stride_in = transposed ? 1 : 2;
  const int64_t OHW = g.OH * g.OW;

  // The staged band: conv tiles read input rows 8ty − 1 … 8ty + 8 at columns 8tx − 1 …,
  // transposed tiles rows 4ty − 1 … 4ty + 4 at columns 4tx − 1 ….
  const int64_t step = transposed ? 4 : 8;
  const int64_t Wst = std::max(step * g.TW + 2, g.W + 2);

  std::atomic<bool> finite{true};
  parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    thread_local std::vector<float> vbuf, mbuf, stbuf;
    vbuf.resize(static_cast<size_t>(g.phases * kPoints * chunk * g.J));
    mbuf.resize(static_cast<size_t>(g.phases * kPoints * chunk * g.Kp));
    stbuf.resize(static_cast<size_t>(R * Wst * g.Cp));
    float* V = vbuf.data();  // V[((ph·25 + e)·chunk + t)·J + j]
    float* M = mbuf.data();  // M[((ph·25 + e)·chunk + t)·Kp + k]
    float* st = stbuf.data();
    alignas(64) float o[16 * kLanes], ot[4][kLanes * 16], sc[kLanes], sh[kLanes];
    const int64_t ve = chunk * g.J, me = chunk * g.Kp;
    for (int64_t ci = c0; ci < c1; ++ci) {
      const int64_t t0 = ci * chunk, nt = std::min(chunk, tiles - t0);
      // 1. Stage each tile row's input band channel-last and transform the tiles' patches.
      int64_t band = -1;
      for (int64_t t = 0; t < nt; ++t) {
        const int64_t tt = t0 + t, n = tt / per_image, ty = (tt % per_image) / g.TW, tx = tt % g.TW;
        if (tt / g.TW != band) {
          band = tt / g.TW;
          stage_band(x, n, g.C, g.H, g.W, g.Cp, step * ty - 1, R, Wst, st);
          if (!all_finite(st, R * Wst * g.Cp)) {
            finite = false;
            return;
          }
        }
        // Conv: one output phase, input phases (dy, dx) at depth (2dy + dx)·Cp.
        // Transposed: output phase (py, px) reads the patch shifted by (py, px).
        for (int64_t ip = 0; ip < 4; ++ip) {
          const int64_t oy = ip / 2, ox = ip % 2;
          const int64_t ph = transposed ? ip : 0, j0 = transposed ? 0 : ip * g.Cp;
          const float* base = st + (oy * Wst + step * tx + ox) * g.Cp;
          for (int64_t cb = 0; cb < g.Cp; cb += kLanes)
            input_transform(base + cb, stride_in * Wst * g.Cp, stride_in * g.Cp, V + (ph * kPoints * chunk + t) * g.J + j0 + cb, ve);
        }
      }
      // 2. Per phase and point: M[t, k] = Σ_j V[t, j] · U[j, k].
      for (int64_t ph = 0; ph < g.phases; ++ph)
        for (int64_t e = 0; e < kPoints; ++e) {
          const float* Ve = V + (ph * kPoints + e) * chunk * g.J;
          float* Me = M + (ph * kPoints + e) * chunk * g.Kp;
          for (int64_t q = 0; q < panels; ++q) {
            const float* Ue = u + ((ph * kPoints + e) * panels + q) * g.J * kLanes;
            for (int64_t t = 0; t < nt; t += kRows) {
              const float* a[kRows];
              for (int64_t i = 0; i < kRows; ++i) a[i] = Ve + std::min(t + i, nt - 1) * g.J;
              alignas(64) float tile[kRows * kLanes];
              if (t + kRows <= nt) {
                gemm_tile(g.J, a, Ue, Me + t * g.Kp + q * kLanes, g.Kp);
              } else {  // a short last group: rows past nt repeat the last tile
                gemm_tile(g.J, a, Ue, tile, kLanes);
                for (int64_t i = 0; t + i < nt; ++i)
                  std::copy(tile + i * kLanes, tile + (i + 1) * kLanes, Me + (t + i) * g.Kp + q * kLanes);
              }
            }
          }
        }
      // 3. Output transform, BN scale/shift and ReLU on 16 filters at a time, transposed to
      // filter-major and stored as rows of y.
      for (int64_t t = 0; t < nt; ++t) {
        const int64_t tt = t0 + t, n = tt / per_image, ty = (tt % per_image) / g.TW, tx = tt % g.TW;
        for (int64_t q = 0; q < panels; ++q) {
          const int64_t kn = std::min(kLanes, g.K - q * kLanes);
          for (int64_t l = 0; l < kLanes; ++l) {
            const int64_t k = std::min(q * kLanes + l, g.K - 1);
            sc[l] = scale ? scale[k] : 1.0f;
            sh[l] = shift ? shift[k] : 0.0f;
          }
          for (int64_t ph = 0; ph < g.phases; ++ph) {
            output_transform(M + (ph * kPoints * chunk + t) * g.Kp + q * kLanes, me, sc, sh, relu, o);
            // ot[ph][l·16 + pixel]
            for (int64_t pb = 0; pb < 16; pb += 8)
              for (int64_t lb = 0; lb < kLanes; lb += 8) transpose8(o + pb * kLanes + lb, kLanes, ot[ph] + lb * 16 + pb, 16);
          }
          for (int64_t l = 0; l < kn; ++l) {
            float* yk = y + (n * g.K + q * kLanes + l) * OHW;
            if (!transposed) {
              const float* src = ot[0] + l * 16;
              const int64_t ow0 = 4 * tx, cols = std::min<int64_t>(4, g.OW - ow0);
              for (int64_t i = 0; i < 4 && 4 * ty + i < g.OH; ++i) {
                float* row = yk + (4 * ty + i) * g.OW + ow0;
                if (cols == 4) std::memcpy(row, src + 4 * i, 4 * sizeof(float));  // fixed size: inlined
                else std::copy(src + 4 * i, src + 4 * i + cols, row);
              }
            } else {
              const int64_t ow0 = 8 * tx, cols = std::min<int64_t>(8, g.OW - ow0);
              for (int64_t i = 0; i < 4; ++i)
                for (int64_t py = 0; py < 2; ++py) {
                  const int64_t oh = 2 * (4 * ty + i) + py;
                  if (oh >= g.OH) continue;
                  const float* e0 = ot[2 * py] + l * 16 + 4 * i;
                  const float* e1 = ot[2 * py + 1] + l * 16 + 4 * i;
                  float* dst = yk + oh * g.OW + ow0;
                  if (cols == 8) {
                    interleave(e0, e1, 4, dst);
                  } else {
                    alignas(32) float rowv[8];
                    interleave(e0, e1, 4, rowv);
                    std::copy(rowv, rowv + cols, dst);
                  }
                }
            }
          }
        }
      }
    }
  });
  return finite ? Status::kOk : exact();
}

}  // namespace medianomaly
