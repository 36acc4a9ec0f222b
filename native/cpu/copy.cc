// Strided copy (permute, slice, concat, expand and their backwards). Dims are visited
// with an odometer; the innermost dim gets a contiguous fast path. Work is split over
// the outer index only when no two source positions write the same destination
// element (an accumulating expand-backward with stride 0 stays on one thread, which
// keeps its summation order fixed). A transposing copy — some dim contiguous in the
// source, another in the destination, the innermost not contiguous in both (permutes such
// as [B, C, L] ↔ [B, L, C], attention head splits) — runs in 8×8 tiles instead, so that
// both sides are read and written a cache line at a time (the odometer would read one
// float per line, and strides of 4 KiB alias in L1). Also fill and axpy, the copy
// family's two elementwise helpers.
#include "medianomaly/copy.h"

#include <algorithm>
#include <cstring>
#include <cstdlib>
#include <utility>

#include "medianomaly/threadpool.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace medianomaly {

void strided_extent(int ndim, const int64_t* shape, const int64_t* strides, int64_t offset, int64_t* lo, int64_t* hi) {
  int64_t l = offset, h = offset;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 0) {
      *lo = 1;
      *hi = 0;
      return;
    }
    const int64_t span = (shape[d] - 1) * strides[d];
    if (span < 0) l += span;
    else h += span;
  }
  *lo = l;
  *hi = h;
}

namespace {

// Every destination element written at most once (sufficient test: sorted by |stride|,
// each stride exceeds the furthest reach of the smaller ones).
bool dst_injective(const StridedCopyParams& p) {
  int order[kMaxCopyDims];
  int n = 0;
  for (int d = 0; d < p.ndim; ++d)
    if (p.shape[d] > 1) order[n++] = d;
  for (int i = 1; i < n; ++i)  // insertion sort by |stride| (n ≤ 6)
    for (int j = i; j > 0 && std::llabs(p.dstStrides[order[j]]) < std::llabs(p.dstStrides[order[j - 1]]); --j)
      std::swap(order[j], order[j - 1]);
  int64_t reach = 0;
  for (int i = 0; i < n; ++i) {
    const int64_t s = std::llabs(p.dstStrides[order[i]]);
    if (s <= reach) return false;
    reach += s * (p.shape[order[i]] - 1);
  }
  return true;
}

template <bool Acc>
void copy_rows(const StridedCopyParams& p, const float* src, float* dst, int64_t r0, int64_t r1) {
  const int nd = p.ndim;
  const int64_t inner = p.shape[nd - 1];
  const int64_t ss = p.srcStrides[nd - 1], ds = p.dstStrides[nd - 1];
  int64_t idx[kMaxCopyDims] = {};
  int64_t rem = r0;
  for (int d = nd - 2; d >= 0; --d) {
    idx[d] = rem % p.shape[d];
    rem /= p.shape[d];
  }
  int64_t so = p.srcOffset, dof = p.dstOffset;
  for (int d = 0; d < nd - 1; ++d) {
    so += idx[d] * p.srcStrides[d];
    dof += idx[d] * p.dstStrides[d];
  }
  for (int64_t r = r0; r < r1; ++r) {
    const float* s = src + so;
    float* t = dst + dof;
    if (ss == 1 && ds == 1) {
      if (Acc) {
        for (int64_t i = 0; i < inner; ++i) t[i] += s[i];
      } else {
        std::memmove(t, s, sizeof(float) * inner);
      }
    } else if (ss == 0 && ds == 1) {
      // expand of a per-row value (a broadcast bias or per-channel statistic): a fill.
      const float v = s[0];
      if (Acc) {
        for (int64_t i = 0; i < inner; ++i) t[i] += v;
      } else {
        std::fill(t, t + inner, v);
      }
    } else if (Acc) {
      for (int64_t i = 0; i < inner; ++i) t[i * ds] += s[i * ss];
    } else {
      for (int64_t i = 0; i < inner; ++i) t[i * ds] = s[i * ss];
    }
    for (int d = nd - 2; d >= 0; --d) {
      so += p.srcStrides[d];
      dof += p.dstStrides[d];
      if (++idx[d] < p.shape[d]) break;
      so -= idx[d] * p.srcStrides[d];
      dof -= idx[d] * p.dstStrides[d];
      idx[d] = 0;
    }
  }
}

constexpr int64_t kTile = 8;

// dst[q·1 + p·dP] = src[p·1 + q·sQ] for p < np, q < nq (a tile's corner at src / dst).
inline void transpose_edge(const float* src, int64_t sQ, float* dst, int64_t dP, int64_t np, int64_t nq) {
  for (int64_t pp = 0; pp < np; ++pp)
    for (int64_t q = 0; q < nq; ++q) dst[pp * dP + q] = src[pp + q * sQ];
}

inline void transpose_tile8(const float* src, int64_t sQ, float* dst, int64_t dP) {
#if defined(__AVX2__)
  // Rows r = q: 8 floats along p each; the standard unpack / shuffle / permute 8×8 transpose.
  __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + sQ), r2 = _mm256_loadu_ps(src + 2 * sQ),
         r3 = _mm256_loadu_ps(src + 3 * sQ), r4 = _mm256_loadu_ps(src + 4 * sQ), r5 = _mm256_loadu_ps(src + 5 * sQ),
         r6 = _mm256_loadu_ps(src + 6 * sQ), r7 = _mm256_loadu_ps(src + 7 * sQ);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
               t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
               t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
               u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
               u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
               u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + dP, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * dP, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * dP, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * dP, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * dP, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * dP, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * dP, _mm256_permute2f128_ps(u3, u7, 0x31));
#else
  transpose_edge(src, sQ, dst, dP, kTile, kTile);
#endif
}

// The tiled path for a plain (not accumulating) copy with a dim P of source stride 1 and a
// dim Q ≠ P of destination stride 1, both at least a tile long, and the innermost dim not
// already contiguous on both sides. Every element is written once (destination injective)
// with the value the odometer would write, so the result is the same bits; false when the
// copy does not have that form.
bool transpose_copy(const StridedCopyParams& p, const float* src, float* dst) {
  const int nd = p.ndim;
  if (p.accumulate || nd < 2) return false;
  if (p.srcStrides[nd - 1] == 1 && p.dstStrides[nd - 1] == 1) return false;
  int P = -1, Q = -1;
  for (int d = 0; d < nd; ++d) {
    if (P < 0 && p.srcStrides[d] == 1 && p.shape[d] >= kTile) P = d;
    if (Q < 0 && p.dstStrides[d] == 1 && p.shape[d] >= kTile) Q = d;
  }
  if (P < 0 || Q < 0 || P == Q) return false;
  if (!dst_injective(p)) return false;
  // Source and destination must not overlap (the odometer's order would matter then).
  int64_t slo, shi, dlo, dhi;
  strided_extent(nd, p.shape, p.srcStrides, p.srcOffset, &slo, &shi);
  strided_extent(nd, p.shape, p.dstStrides, p.dstOffset, &dlo, &dhi);
  if (src + slo <= dst + dhi && dst + dlo <= src + shi) return false;
  const int64_t nP = p.shape[P], nQ = p.shape[Q];
  const int64_t sQ = p.srcStrides[Q], dP = p.dstStrides[P];
  int od[kMaxCopyDims];
  int no = 0;
  int64_t outer = 1;
  for (int d = 0; d < nd; ++d)
    if (d != P && d != Q) {
      od[no++] = d;
      outer *= p.shape[d];
    }
  // One task = one strip of 16 along P (a 64-byte source line: two tiles side by side, so a
  // line is used whole while it is in cache) over all of Q, for one outer index.
  constexpr int64_t kStrip = 2 * kTile;
  const int64_t tilesP = (nP + kStrip - 1) / kStrip;
  parallel_for(outer * tilesP, std::max<int64_t>(1, 4096 / (kStrip * nQ)), [&](int64_t w0, int64_t w1) {
    for (int64_t w = w0; w < w1; ++w) {
      int64_t rem = w / tilesP;
      int64_t so = p.srcOffset, dof = p.dstOffset;
      for (int k = no - 1; k >= 0; --k) {
        const int d = od[k];
        const int64_t i = rem % p.shape[d];
        rem /= p.shape[d];
        so += i * p.srcStrides[d];
        dof += i * p.dstStrides[d];
      }
      const int64_t p0 = (w % tilesP) * kStrip, np = std::min(kStrip, nP - p0);
      const float* s = src + so + p0;
      float* t = dst + dof + p0 * dP;
      int64_t q0 = 0;
      if (np == kStrip) {
        for (; q0 + kTile <= nQ; q0 += kTile) {
          transpose_tile8(s + q0 * sQ, sQ, t + q0, dP);
          transpose_tile8(s + kTile + q0 * sQ, sQ, t + kTile * dP + q0, dP);
        }
      } else if (np >= kTile) {
        for (; q0 + kTile <= nQ; q0 += kTile) transpose_tile8(s + q0 * sQ, sQ, t + q0, dP);
        // the rest of the strip along P for these whole tiles of Q
        transpose_edge(s + kTile, sQ, t + kTile * dP, dP, np - kTile, q0);
      }
      if (q0 < nQ) transpose_edge(s + q0 * sQ, sQ, t + q0, dP, np, nQ - q0);
    }
  });
  return true;
}

}  // namespace

void strided_copy(const StridedCopyParams& p, const float* src, float* dst) {
  if (p.ndim == 0) {
    if (p.accumulate) dst[p.dstOffset] += src[p.srcOffset];
    else dst[p.dstOffset] = src[p.srcOffset];
    return;
  }
  int64_t total = 1;
  for (int d = 0; d < p.ndim; ++d) total *= p.shape[d];
  if (total == 0) return;
  if (transpose_copy(p, src, dst)) return;
  const int64_t inner = p.shape[p.ndim - 1];
  const int64_t rows = total / inner;
  auto run = [&](int64_t r0, int64_t r1) {
    if (p.accumulate) copy_rows<true>(p, src, dst, r0, r1);
    else copy_rows<false>(p, src, dst, r0, r1);
  };
  if (dst_injective(p)) {
    parallel_for(rows, std::max<int64_t>(1, 16384 / inner), run);
  } else {
    run(0, rows);
  }
}

// Elementwise, so any split over the pool gives the same bits.
constexpr int64_t kFillGrain = 65536;
constexpr int64_t kAxpyGrain = 16384;

void fill(int64_t n, float value, float* y) {
  parallel_for(n, kFillGrain, [&](int64_t b, int64_t e) { std::fill(y + b, y + e, value); });
}

void axpy(int64_t n, float alpha, const float* x, float* y) {
  parallel_for(n, kAxpyGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] += alpha * x[i];
  });
}

}  // namespace medianomaly
