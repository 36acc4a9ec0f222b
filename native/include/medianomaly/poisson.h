// poissonSolve: the discrete Poisson equation of Poisson image editing (OpenCV's
// seamlessClone) on rectangles with Dirichlet frames, by multigrid-preconditioned CG.
#pragma once

#include <cstdint>

#include "status.h"

namespace medianomaly {

struct PoissonParams {
  int64_t planes = 0, height = 0, width = 0;
  double tol = 1e-8;     // stop at ‖b − A·u‖₂ ≤ tol·‖b‖₂ (true residual)
  int64_t max_iter = 500;  // CG iterations per plane, at most
};

/**
 * Per plane of x [planes, height, width] (float64): the 1-pixel frame holds Dirichlet values
 * (read only), the interior holds the initial guess and receives u with
 *     Σ_{4-neighbours q} x_q − 4·x_p = rhs_p   at every interior p
 * (rhs [planes, height, width]; its frame is not read). As A·u = b with A = 4·I − adjacency
 * (SPD) and b = (frame neighbours) − rhs, solved by conjugate gradient preconditioned with one
 * V(2,2)-cycle (red–black Gauss–Seidel, bilinear prolongation, its transpose as restriction,
 * coarse axis ⌊n/2⌋, 8 symmetric sweeps on the coarsest grid), restarted from the true
 * residual if the recurrence drifts. info [planes, 2] = iterations, final true relative
 * residual (0 when b = 0). Grids under 3 × 3 are left unchanged (info 0, 0).
 *
 * The operations and their order are those of the ts reference (src/backend/ts/poisson.ts),
 * with float contraction off, so the result equals it bit for bit.
 *
 * Threads: planes run in parallel, each by the same sequential operations, so results are
 * identical for every thread count. Memory: about 11 doubles per pixel per plane in flight.
 */
Status poisson_solve(const PoissonParams& p, const double* rhs, double* x, double* info);

}  // namespace medianomaly
