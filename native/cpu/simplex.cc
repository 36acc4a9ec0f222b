// Multi-octave 3-D OpenSimplex noise (see medianomaly/simplex.h). A line-by-line port of
// src/anomalies/simplex-noise.ts's noise3 (itself the lmas/opensimplex v0.4 `_noise3`), the
// same float64 operations in the same order (built with -ffp-contract=off), so the values are
// the Python package's and src/backend/ts/simplex.ts's to the last bit.
#include "medianomaly/simplex.h"

#include <algorithm>
#include <cmath>

#include "medianomaly/threadpool.h"

namespace medianomaly {

namespace {

constexpr double kStretch3 = -1.0 / 6;  // (1/√4 − 1)/3
constexpr double kSquish3 = 1.0 / 3;    // (√4 − 1)/3
constexpr double kNorm3 = 103;

// The 24 directions to a rhombicuboctahedron's vertices, as (x, y, z) triples.
constexpr int8_t kGrad3[72] = {
    -11, 4,  4,  -4, 11,  4,  -4, 4,  11,  11, 4,  4,  4,  11,  4,  4,  4,  11,  -11, -4, 4,  -4, -11, 4,
    -4,  -4, 11, 11, -4,  4,  4,  -11, 4,  4,  -4, 11, -11, 4,  -4, -4, 11,  -4, -4,  4,  -11, 11, 4,  -4,
    4,   11, -4, 4,  4,   -11, -11, -4, -4, -4, -11, -4, -4, -4, -11, 11, -4,  -4, 4,   -11, -4, 4,  -4, -11,
};

struct Noise3 {
  const int32_t* perm;
  const int32_t* pgi3;

  // g · d of the lattice point (xsb, ysb, zsb).
  double extrapolate(int64_t xsb, int64_t ysb, int64_t zsb, double dx, double dy, double dz) const {
    const int32_t i = pgi3[(perm[(perm[xsb & 0xff] + ysb) & 0xff] + zsb) & 0xff];
    return kGrad3[i] * dx + kGrad3[i + 1] * dy + kGrad3[i + 2] * dz;
  }

  // The (2 − |d|²)⁴ (g · d) contribution of one lattice point (0 outside its reach).
  double point(int64_t xsv, int64_t ysv, int64_t zsv, double dx, double dy, double dz) const {
    double attn = 2 - dx * dx - dy * dy - dz * dz;
    if (!(attn > 0)) return 0;
    attn *= attn;
    return attn * attn * extrapolate(xsv, ysv, zsv, dx, dy, dz);
  }

  double operator()(double x, double y, double z) const {
    const double SQ = kSquish3;
    // Skew onto the cubic lattice; (xsb, ysb, zsb) is the rhombohedral cell's origin.
    const double stretch = (x + y + z) * kStretch3;
    const double xs = x + stretch, ys = y + stretch, zs = z + stretch;
    const double fxsb = std::floor(xs), fysb = std::floor(ys), fzsb = std::floor(zs);
    const int64_t xsb = static_cast<int64_t>(fxsb), ysb = static_cast<int64_t>(fysb), zsb = static_cast<int64_t>(fzsb);
    const double squish = (fxsb + fysb + fzsb) * SQ;
    const double xins = xs - fxsb, yins = ys - fysb, zins = zs - fzsb;
    const double inSum = xins + yins + zins;
    const double dx0 = x - (fxsb + squish);
    const double dy0 = y - (fysb + squish);
    const double dz0 = z - (fzsb + squish);

    int64_t xsv0, ysv0, zsv0, xsv1, ysv1, zsv1;
    double dxe0, dye0, dze0, dxe1, dye1, dze1;
    double value = 0;

    if (inSum <= 1) {
      // The tetrahedron at (0, 0, 0).
      int aPoint = 0x01, bPoint = 0x02;
      double aScore = xins, bScore = yins;
      if (aScore >= bScore && zins > bScore) {
        bScore = zins;
        bPoint = 0x04;
      } else if (aScore < bScore && zins > aScore) {
        aScore = zins;
        aPoint = 0x04;
      }
      const double wins = 1 - inSum;
      if (wins > aScore || wins > bScore) {
        const int c = bScore > aScore ? bPoint : aPoint;
        if ((c & 0x01) == 0) {
          xsv0 = xsb - 1; xsv1 = xsb; dxe0 = dx0 + 1; dxe1 = dx0;
        } else {
          xsv0 = xsv1 = xsb + 1;
          dxe0 = dxe1 = dx0 - 1;
        }
        if ((c & 0x02) == 0) {
          ysv0 = ysv1 = ysb;
          dye0 = dye1 = dy0;
          if ((c & 0x01) == 0) {
            ysv1 -= 1;
            dye1 += 1;
          } else {
            ysv0 -= 1;
            dye0 += 1;
          }
        } else {
          ysv0 = ysv1 = ysb + 1;
          dye0 = dye1 = dy0 - 1;
        }
        if ((c & 0x04) == 0) {
          zsv0 = zsb; zsv1 = zsb - 1; dze0 = dz0; dze1 = dz0 + 1;
        } else {
          zsv0 = zsv1 = zsb + 1;
          dze0 = dze1 = dz0 - 1;
        }
      } else {
        const int c = aPoint | bPoint;
        if ((c & 0x01) == 0) {
          xsv0 = xsb; xsv1 = xsb - 1; dxe0 = dx0 - 2 * SQ; dxe1 = dx0 + 1 - SQ;
        } else {
          xsv0 = xsv1 = xsb + 1;
          dxe0 = dx0 - 1 - 2 * SQ; dxe1 = dx0 - 1 - SQ;
        }
        if ((c & 0x02) == 0) {
          ysv0 = ysb; ysv1 = ysb - 1; dye0 = dy0 - 2 * SQ; dye1 = dy0 + 1 - SQ;
        } else {
          ysv0 = ysv1 = ysb + 1;
          dye0 = dy0 - 1 - 2 * SQ; dye1 = dy0 - 1 - SQ;
        }
        if ((c & 0x04) == 0) {
          zsv0 = zsb; zsv1 = zsb - 1; dze0 = dz0 - 2 * SQ; dze1 = dz0 + 1 - SQ;
        } else {
          zsv0 = zsv1 = zsb + 1;
          dze0 = dz0 - 1 - 2 * SQ; dze1 = dz0 - 1 - SQ;
        }
      }
      value += point(xsb, ysb, zsb, dx0, dy0, dz0);
      const double dx1 = dx0 - 1 - SQ, dy1 = dy0 - 0 - SQ, dz1 = dz0 - 0 - SQ;
      value += point(xsb + 1, ysb, zsb, dx1, dy1, dz1);
      const double dx2 = dx0 - 0 - SQ, dy2 = dy0 - 1 - SQ;
      value += point(xsb, ysb + 1, zsb, dx2, dy2, dz1);
      value += point(xsb, ysb, zsb + 1, dx2, dy1, dz0 - 1 - SQ);
    } else if (inSum >= 2) {
      // The tetrahedron at (1, 1, 1).
      int aPoint = 0x06, bPoint = 0x05;
      double aScore = xins, bScore = yins;
      if (aScore <= bScore && zins < bScore) {
        bScore = zins;
        bPoint = 0x03;
      } else if (aScore > bScore && zins < aScore) {
        aScore = zins;
        aPoint = 0x03;
      }
      const double wins = 3 - inSum;
      if (wins < aScore || wins < bScore) {
        const int c = bScore < aScore ? bPoint : aPoint;
        if ((c & 0x01) != 0) {
          xsv0 = xsb + 2; xsv1 = xsb + 1; dxe0 = dx0 - 2 - 3 * SQ; dxe1 = dx0 - 1 - 3 * SQ;
        } else {
          xsv0 = xsv1 = xsb;
          dxe0 = dxe1 = dx0 - 3 * SQ;
        }
        if ((c & 0x02) != 0) {
          ysv0 = ysv1 = ysb + 1;
          dye0 = dye1 = dy0 - 1 - 3 * SQ;
          if ((c & 0x01) != 0) {
            ysv1 += 1;
            dye1 -= 1;
          } else {
            ysv0 += 1;
            dye0 -= 1;
          }
        } else {
          ysv0 = ysv1 = ysb;
          dye0 = dye1 = dy0 - 3 * SQ;
        }
        if ((c & 0x04) != 0) {
          zsv0 = zsb + 1; zsv1 = zsb + 2; dze0 = dz0 - 1 - 3 * SQ; dze1 = dz0 - 2 - 3 * SQ;
        } else {
          zsv0 = zsv1 = zsb;
          dze0 = dze1 = dz0 - 3 * SQ;
        }
      } else {
        const int c = aPoint & bPoint;
        if ((c & 0x01) != 0) {
          xsv0 = xsb + 1; xsv1 = xsb + 2; dxe0 = dx0 - 1 - SQ; dxe1 = dx0 - 2 - 2 * SQ;
        } else {
          xsv0 = xsv1 = xsb;
          dxe0 = dx0 - SQ; dxe1 = dx0 - 2 * SQ;
        }
        if ((c & 0x02) != 0) {
          ysv0 = ysb + 1; ysv1 = ysb + 2; dye0 = dy0 - 1 - SQ; dye1 = dy0 - 2 - 2 * SQ;
        } else {
          ysv0 = ysv1 = ysb;
          dye0 = dy0 - SQ; dye1 = dy0 - 2 * SQ;
        }
        if ((c & 0x04) != 0) {
          zsv0 = zsb + 1; zsv1 = zsb + 2; dze0 = dz0 - 1 - SQ; dze1 = dz0 - 2 - 2 * SQ;
        } else {
          zsv0 = zsv1 = zsb;
          dze0 = dz0 - SQ; dze1 = dz0 - 2 * SQ;
        }
      }
      const double dx3 = dx0 - 1 - 2 * SQ, dy3 = dy0 - 1 - 2 * SQ;
      value += point(xsb + 1, ysb + 1, zsb, dx3, dy3, dz0 - 0 - 2 * SQ);
      const double dz2 = dz0 - 1 - 2 * SQ;
      value += point(xsb + 1, ysb, zsb + 1, dx3, dy0 - 0 - 2 * SQ, dz2);
      value += point(xsb, ysb + 1, zsb + 1, dx0 - 0 - 2 * SQ, dy3, dz2);
      value += point(xsb + 1, ysb + 1, zsb + 1, dx0 - 1 - 3 * SQ, dy0 - 1 - 3 * SQ, dz0 - 1 - 3 * SQ);
    } else {
      // The octahedron between the two tetrahedra.
      double aScore, bScore;
      int aPoint, bPoint;
      bool aFar, bFar;
      const double p1 = xins + yins;
      if (p1 > 1) {
        aScore = p1 - 1; aPoint = 0x03; aFar = true;
      } else {
        aScore = 1 - p1; aPoint = 0x04; aFar = false;
      }
      const double p2 = xins + zins;
      if (p2 > 1) {
        bScore = p2 - 1; bPoint = 0x05; bFar = true;
      } else {
        bScore = 1 - p2; bPoint = 0x02; bFar = false;
      }
      const double p3 = yins + zins;
      if (p3 > 1) {
        const double score = p3 - 1;
        if (aScore <= bScore && aScore < score) {
          aPoint = 0x06; aFar = true;
        } else if (aScore > bScore && bScore < score) {
          bPoint = 0x06; bFar = true;
        }
      } else {
        const double score = 1 - p3;
        if (aScore <= bScore && aScore < score) {
          aPoint = 0x01; aFar = false;
        } else if (aScore > bScore && bScore < score) {
          bPoint = 0x01; bFar = false;
        }
      }

      if (aFar == bFar) {
        if (aFar) {
          dxe0 = dx0 - 1 - 3 * SQ; dye0 = dy0 - 1 - 3 * SQ; dze0 = dz0 - 1 - 3 * SQ;
          xsv0 = xsb + 1; ysv0 = ysb + 1; zsv0 = zsb + 1;
          const int c = aPoint & bPoint;
          if ((c & 0x01) != 0) {
            dxe1 = dx0 - 2 - 2 * SQ; dye1 = dy0 - 2 * SQ; dze1 = dz0 - 2 * SQ;
            xsv1 = xsb + 2; ysv1 = ysb; zsv1 = zsb;
          } else if ((c & 0x02) != 0) {
            dxe1 = dx0 - 2 * SQ; dye1 = dy0 - 2 - 2 * SQ; dze1 = dz0 - 2 * SQ;
            xsv1 = xsb; ysv1 = ysb + 2; zsv1 = zsb;
          } else {
            dxe1 = dx0 - 2 * SQ; dye1 = dy0 - 2 * SQ; dze1 = dz0 - 2 - 2 * SQ;
            xsv1 = xsb; ysv1 = ysb; zsv1 = zsb + 2;
          }
        } else {
          dxe0 = dx0; dye0 = dy0; dze0 = dz0;
          xsv0 = xsb; ysv0 = ysb; zsv0 = zsb;
          const int c = aPoint | bPoint;
          if ((c & 0x01) == 0) {
            dxe1 = dx0 + 1 - SQ; dye1 = dy0 - 1 - SQ; dze1 = dz0 - 1 - SQ;
            xsv1 = xsb - 1; ysv1 = ysb + 1; zsv1 = zsb + 1;
          } else if ((c & 0x02) == 0) {
            dxe1 = dx0 - 1 - SQ; dye1 = dy0 + 1 - SQ; dze1 = dz0 - 1 - SQ;
            xsv1 = xsb + 1; ysv1 = ysb - 1; zsv1 = zsb + 1;
          } else {
            dxe1 = dx0 - 1 - SQ; dye1 = dy0 - 1 - SQ; dze1 = dz0 + 1 - SQ;
            xsv1 = xsb + 1; ysv1 = ysb + 1; zsv1 = zsb - 1;
          }
        }
      } else {
        const int c1 = aFar ? aPoint : bPoint;
        const int c2 = aFar ? bPoint : aPoint;
        if ((c1 & 0x01) == 0) {
          dxe0 = dx0 + 1 - SQ; dye0 = dy0 - 1 - SQ; dze0 = dz0 - 1 - SQ;
          xsv0 = xsb - 1; ysv0 = ysb + 1; zsv0 = zsb + 1;
        } else if ((c1 & 0x02) == 0) {
          dxe0 = dx0 - 1 - SQ; dye0 = dy0 + 1 - SQ; dze0 = dz0 - 1 - SQ;
          xsv0 = xsb + 1; ysv0 = ysb - 1; zsv0 = zsb + 1;
        } else {
          dxe0 = dx0 - 1 - SQ; dye0 = dy0 - 1 - SQ; dze0 = dz0 + 1 - SQ;
          xsv0 = xsb + 1; ysv0 = ysb + 1; zsv0 = zsb - 1;
        }
        dxe1 = dx0 - 2 * SQ; dye1 = dy0 - 2 * SQ; dze1 = dz0 - 2 * SQ;
        xsv1 = xsb; ysv1 = ysb; zsv1 = zsb;
        if ((c2 & 0x01) != 0) {
          dxe1 -= 2;
          xsv1 += 2;
        } else if ((c2 & 0x02) != 0) {
          dye1 -= 2;
          ysv1 += 2;
        } else {
          dze1 -= 2;
          zsv1 += 2;
        }
      }
      const double dx1 = dx0 - 1 - SQ, dy1 = dy0 - 0 - SQ, dz1 = dz0 - 0 - SQ;
      value += point(xsb + 1, ysb, zsb, dx1, dy1, dz1);
      const double dx2 = dx0 - 0 - SQ, dy2 = dy0 - 1 - SQ;
      value += point(xsb, ysb + 1, zsb, dx2, dy2, dz1);
      value += point(xsb, ysb, zsb + 1, dx2, dy1, dz0 - 1 - SQ);
      const double dx4 = dx0 - 1 - 2 * SQ, dy4 = dy0 - 1 - 2 * SQ;
      value += point(xsb + 1, ysb + 1, zsb, dx4, dy4, dz0 - 0 - 2 * SQ);
      const double dz5 = dz0 - 1 - 2 * SQ;
      value += point(xsb + 1, ysb, zsb + 1, dx4, dy0 - 0 - 2 * SQ, dz5);
      value += point(xsb, ysb + 1, zsb + 1, dx0 - 0 - 2 * SQ, dy4, dz5);
    }
    value += point(xsv0, ysv0, zsv0, dxe0, dye0, dze0);
    value += point(xsv1, ysv1, zsv1, dxe1, dye1, dze1);
    return value / kNorm3;
  }
};

}  // namespace

double simplex_noise3(const int32_t* tables, double x, double y, double z) {
  return Noise3{tables, tables + 256}(x, y, z);
}

void simplex_field3(const SimplexFieldParams& p, const int32_t* tables, const double* z, double* out) {
  const int64_t D = p.depth, H = p.height, W = p.width, K = p.octaves;
  if (D <= 0 || H <= 0 || W <= 0 || K < 1 || K > kSimplexMaxOctaves) return;
  // Amplitudes and periods of the octaves, as the reference forms them (repeated · p and / 2).
  double amp[kSimplexMaxOctaves], per[kSimplexMaxOctaves];
  double a = 1, f = p.period;
  for (int64_t o = 0; o < K; ++o) {
    amp[o] = a;
    per[o] = f;
    f /= 2;
    a *= p.persistence;
  }
  const Noise3 noise{tables, tables + 256};
  const int64_t grain = std::max<int64_t>(1, 4096 / (W * K));
  parallel_for(D * H, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t k = r / H, i = r % H;
      double* row = out + r * W;
      const double y = p.y0 + static_cast<double>(i);
      for (int64_t j = 0; j < W; ++j) {
        const double x = p.x0 + static_cast<double>(j);
        double v = 0;
        for (int64_t o = 0; o < K; ++o) v += amp[o] * noise(x / per[o], y / per[o], z[k] / per[o]);
        row[j] = v;
      }
    }
  });
}

}  // namespace medianomaly
