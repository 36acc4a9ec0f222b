// Cosine distance over the middle axis of [outer, mid, inner] (see medianomaly/cosine.h).
// Every sum runs in a fixed order in double, so results do not depend on the thread count
// and src/backend/ts/cosine.ts, which does the same operations in the same order, gives the
// same bits.
#include "medianomaly/cosine.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "medianomaly/threadpool.h"

namespace medianomaly {

namespace {

constexpr int64_t kBlock = 512;    // inner elements per task (inner > 1)
constexpr int64_t kRowGrain = 16384;  // elements per backward task, at least

// dot, ‖a‖², ‖b‖² of n contiguous elements: 8 interleaved double lanes, summed in lane order, then the tail.
void sums_contiguous(const float* a, const float* b, int64_t n, double out[3]) {
  double dot[8] = {}, sa[8] = {}, sb[8] = {};
  int64_t m = 0;
  for (; m + 8 <= n; m += 8) {
    for (int j = 0; j < 8; ++j) {
      const double x = a[m + j], y = b[m + j];
      dot[j] += x * y;
      sa[j] += x * x;
      sb[j] += y * y;
    }
  }
  double s0 = 0.0, s1 = 0.0, s2 = 0.0;
  for (int j = 0; j < 8; ++j) {
    s0 += dot[j];
    s1 += sa[j];
    s2 += sb[j];
  }
  for (; m < n; ++m) {
    const double x = a[m], y = b[m];
    s0 += x * y;
    s1 += x * x;
    s2 += y * y;
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
}

inline void finish(double dot, double sa, double sb, double eps, float* d, float* st) {
  const double na = std::max(std::sqrt(sa), eps);
  const double nb = std::max(std::sqrt(sb), eps);
  const double c = dot / (na * nb);
  *d = static_cast<float>(1.0 - c);
  st[0] = static_cast<float>(c);
  st[1] = static_cast<float>(na);
  st[2] = static_cast<float>(nb);
}

}  // namespace

void cosine_distance(const CosineParams& p, const float* a, const float* b, float* d, float* stats) {
  const int64_t O = p.outer, M = p.mid, I = p.inner;
  if (O == 0 || I == 0) return;
  if (I == 1) {
    const int64_t chunks = std::max<int64_t>(1, (M + kCosineChunk - 1) / kCosineChunk);
    std::vector<double> part(static_cast<size_t>(O * chunks * 3));
    parallel_for(O * chunks, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t o = t / chunks, c = t % chunks;
        const int64_t m0 = c * kCosineChunk, n = std::min(kCosineChunk, M - m0);
        sums_contiguous(a + o * M + m0, b + o * M + m0, std::max<int64_t>(n, 0), &part[static_cast<size_t>(t * 3)]);
      }
    });
    for (int64_t o = 0; o < O; ++o) {
      double s0 = 0.0, s1 = 0.0, s2 = 0.0;
      for (int64_t c = 0; c < chunks; ++c) {
        const double* q = &part[static_cast<size_t>((o * chunks + c) * 3)];
        s0 += q[0];
        s1 += q[1];
        s2 += q[2];
      }
      finish(s0, s1, s2, p.eps, d + o, stats + 3 * o);
    }
    return;
  }
  const int64_t blocks = (I + kBlock - 1) / kBlock;
  parallel_for(O * blocks, std::max<int64_t>(1, kRowGrain / std::max<int64_t>(1, M * std::min(I, kBlock))), [&](int64_t t0, int64_t t1) {
    const size_t w = static_cast<size_t>(std::min(I, kBlock));
    std::vector<double> dot(w), sa(w), sb(w);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / blocks, i0 = (t % blocks) * kBlock, n = std::min(kBlock, I - i0);
      std::fill(dot.begin(), dot.end(), 0.0);
      std::fill(sa.begin(), sa.end(), 0.0);
      std::fill(sb.begin(), sb.end(), 0.0);
      for (int64_t m = 0; m < M; ++m) {
        const float* ra = a + (o * M + m) * I + i0;
        const float* rb = b + (o * M + m) * I + i0;
        for (int64_t i = 0; i < n; ++i) {
          const double x = ra[i], y = rb[i];
          dot[i] += x * y;
          sa[i] += x * x;
          sb[i] += y * y;
        }
      }
      for (int64_t i = 0; i < n; ++i) {
        const int64_t k = o * I + i0 + i;
        finish(dot[i], sa[i], sb[i], p.eps, d + k, stats + 3 * k);
      }
    }
  });
}

void cosine_distance_backward(const CosineParams& p, const float* a, const float* b, const float* stats, const float* dd,
                              float* da, float* db) {
  const int64_t O = p.outer, M = p.mid, I = p.inner;
  if (O == 0 || I == 0 || M == 0 || (!da && !db)) return;
  // Per (o, i): kx = −dd/(n_a·n_b) multiplies the other argument, ka = dd·cos/n_a², kb = dd·cos/n_b².
  const int64_t n = O * I;
  std::vector<double> kx(static_cast<size_t>(n)), ka(static_cast<size_t>(n)), kb(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    const double g = dd[k], c = stats[3 * k], na = stats[3 * k + 1], nb = stats[3 * k + 2];
    kx[static_cast<size_t>(k)] = -g / (na * nb);
    ka[static_cast<size_t>(k)] = g * c / (na * na);
    kb[static_cast<size_t>(k)] = g * c / (nb * nb);
  }
  if (I == 1) {
    // One vector of M contiguous elements per o: tasks are ranges of the flat index.
    parallel_for(O * M, kRowGrain, [&](int64_t e0, int64_t e1) {
      for (int64_t e = e0; e < e1;) {
        const int64_t o = e / M, end = std::min(e1, (o + 1) * M);
        const double x = kx[static_cast<size_t>(o)], sa = ka[static_cast<size_t>(o)], sb = kb[static_cast<size_t>(o)];
        if (da)
          for (int64_t j = e; j < end; ++j) da[j] = static_cast<float>(x * b[j] + sa * a[j]);
        if (db)
          for (int64_t j = e; j < end; ++j) db[j] = static_cast<float>(x * a[j] + sb * b[j]);
        e = end;
      }
    });
    return;
  }
  // Tasks are rows (o, m) of inner contiguous elements.
  parallel_for(O * M, std::max<int64_t>(1, kRowGrain / I), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t o = r / M;
      const float* ra = a + r * I;
      const float* rb = b + r * I;
      const double* x = kx.data() + o * I;
      if (da) {
        const double* s = ka.data() + o * I;
        float* out = da + r * I;
        for (int64_t i = 0; i < I; ++i) out[i] = static_cast<float>(x[i] * rb[i] + s[i] * ra[i]);
      }
      if (db) {
        const double* s = kb.data() + o * I;
        float* out = db + r * I;
        for (int64_t i = 0; i < I; ++i) out[i] = static_cast<float>(x[i] * ra[i] + s[i] * rb[i]);
      }
    }
  });
}

}  // namespace medianomaly
