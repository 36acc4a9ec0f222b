// Multi-octave 3-D OpenSimplex noise (K. Spencer's 2014 algorithm as lmas/opensimplex v0.4
// computes it) on an integer grid, in float64. The seeded tables come from the caller (the
// seeding runs in TS with BigInt, src/engine/ops/simplex.ts). Mirrored operation for
// operation by src/backend/ts/simplex.ts: the same bits on every backend and thread count.
#pragma once

#include <cstdint>

namespace medianomaly {

/** Most octaves a field sums (the per-octave amplitudes and periods live on the stack). */
constexpr int64_t kSimplexMaxOctaves = 64;

struct SimplexFieldParams {
  int64_t depth = 0, height = 0, width = 0;  // output [depth, height, width], row-major
  int64_t octaves = 1;
  double persistence = 0.5;  // amplitude ratio of consecutive octaves
  double period = 32.0;      // wavelength of octave 0 in grid steps; halved per octave
  double x0 = 0, y0 = 0;     // grid origin: column j sits at x0 + j, row i at y0 + i
};

/**
 * out[(k·height + i)·width + j] = Σ_o a_o · N3((x0 + j) / f_o, (y0 + i) / f_o, z[k] / f_o), a_0 = 1,
 * a_{o+1} = a_o · persistence, f_0 = period, f_{o+1} = f_o / 2, summed from 0 in octave order.
 * tables = perm[256] then pgi3[256] (pgi3[i] = (perm[i] mod 24)·3), each entry checked by the
 * caller (perm < 256, pgi3 ≤ 69). Threaded over rows; each value is computed alone. Does
 * nothing unless 1 ≤ octaves ≤ kSimplexMaxOctaves.
 */
void simplex_field3(const SimplexFieldParams& p, const int32_t* tables, const double* z, double* out);

/** One 3-D noise value N3(x, y, z) with the given tables. */
double simplex_noise3(const int32_t* tables, double x, double y, double z);

}  // namespace medianomaly
