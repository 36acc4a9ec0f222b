// poissonSolve: the discrete Poisson equation of Poisson image editing on a rectangle,
// Dirichlet values on its 1-pixel frame, solved by conjugate gradient preconditioned with
// one geometric multigrid V-cycle. Float64 throughout; written to be read. The native
// kernel (native/cpu/poisson.cc) performs the same operations in the same order.
//
// Per plane, on an h × w grid x whose frame (row 0, row h−1, column 0, column w−1) holds
// the boundary values, the unknowns are the (h−2)·(w−2) interior values u, and for every
// interior pixel p
//     Σ_{q ∈ 4-neighbours(p)} x_q − 4·x_p = rhs_p                (OpenCV's equation)
// i.e. A·u = b with A = 4·I − (interior adjacency), which is symmetric positive definite,
// and b_p = (sum of p's frame neighbours) − rhs_p.
//
// Stopping rule: ‖b − A·u‖₂ ≤ tol·‖b‖₂ for the true residual (recomputed from u, not the
// CG recurrence); if the recurrence claims convergence and the true residual does not,
// CG restarts from u. At most maxIter CG iterations in all. info[2·plane] = iterations,
// info[2·plane + 1] = the final true relative residual (0 when b = 0, where u = 0 exactly).
//
// Preconditioner: one V(2,2)-cycle on the 5-point operator, red–black Gauss–Seidel
// smoothing (red then black before the coarse correction, black then red after, so the
// cycle is a symmetric operator), bilinear prolongation P, restriction Pᵀ (full weighting
// × 4, which pairs with the unscaled 5-point operator on the coarse grid), coarse interior
// size ⌊n/2⌋ per axis (coarse point I sits on fine point 2I + 1); coarsening stops when an
// axis has fewer than 3 points, where 8 symmetric Gauss–Seidel sweeps approximate the solve
// (that grid is at most 2 points across, so the operator is well conditioned there).
import type { PoissonParams } from '../types.js';

interface Level {
  nx: number;
  ny: number;
  u: Float64Array;
  f: Float64Array;
  r: Float64Array;
}

const SMOOTH = 2;
const COARSE_SWEEPS = 8;

function makeLevels(nx: number, ny: number): Level[] {
  const levels: Level[] = [];
  for (;;) {
    const n = nx * ny;
    levels.push({ nx, ny, u: new Float64Array(n), f: new Float64Array(n), r: new Float64Array(n) });
    if (nx < 3 || ny < 3) break;
    nx = Math.floor(nx / 2);
    ny = Math.floor(ny / 2);
  }
  return levels;
}

/** out = A·u: 4·u_p minus the interior neighbours (zero outside the grid). */
function applyA(nx: number, ny: number, u: Float64Array, out: Float64Array): void {
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const k = j * nx + i;
      let s = 0;
      if (i > 0) s += u[k - 1];
      if (i < nx - 1) s += u[k + 1];
      if (j > 0) s += u[k - nx];
      if (j < ny - 1) s += u[k + nx];
      out[k] = 4 * u[k] - s;
    }
  }
}

/** One Gauss–Seidel half-sweep over the pixels with (i + j) % 2 === colour. */
function relax(nx: number, ny: number, u: Float64Array, f: Float64Array, colour: number): void {
  for (let j = 0; j < ny; j++) {
    for (let i = (j + colour) & 1; i < nx; i += 2) {
      const k = j * nx + i;
      let s = f[k];
      if (i > 0) s += u[k - 1];
      if (i < nx - 1) s += u[k + 1];
      if (j > 0) s += u[k - nx];
      if (j < ny - 1) s += u[k + nx];
      u[k] = s * 0.25;
    }
  }
}

/** coarse.f = Pᵀ · fine.r (weights 1, ½, ¼ for the coincident, edge and corner fine points). */
function restrict(fine: Level, coarse: Level): void {
  const { nx, ny, r } = fine;
  for (let J = 0; J < coarse.ny; J++) {
    const j = 2 * J + 1;
    for (let I = 0; I < coarse.nx; I++) {
      const i = 2 * I + 1;
      let s = 0;
      for (let dj = -1; dj <= 1; dj++) {
        const jj = j + dj;
        if (jj < 0 || jj >= ny) continue;
        const wj = dj === 0 ? 1 : 0.5;
        for (let di = -1; di <= 1; di++) {
          const ii = i + di;
          if (ii < 0 || ii >= nx) continue;
          const wi = di === 0 ? 1 : 0.5;
          s += wj * wi * r[jj * nx + ii];
        }
      }
      coarse.f[J * coarse.nx + I] = s;
    }
  }
}

/** Coarse value at (I, J), zero outside the coarse grid. */
function at(c: Level, I: number, J: number): number {
  return I < 0 || I >= c.nx || J < 0 || J >= c.ny ? 0 : c.u[J * c.nx + I];
}

/** Interpolation along one axis: [first coarse index, its weight, second index, its weight]. */
function stencil(i: number): [number, number, number, number] {
  return i & 1 ? [(i - 1) >> 1, 1, 0, 0] : [(i >> 1) - 1, 0.5, i >> 1, 0.5];
}

/** fine.u += P · coarse.u (bilinear). */
function prolongAdd(coarse: Level, fine: Level): void {
  for (let j = 0; j < fine.ny; j++) {
    const [ja, wja, jb, wjb] = stencil(j);
    for (let i = 0; i < fine.nx; i++) {
      const [ia, wia, ib, wib] = stencil(i);
      let s = wja * wia * at(coarse, ia, ja);
      if (wib !== 0) s += wja * wib * at(coarse, ib, ja);
      if (wjb !== 0) {
        s += wjb * wia * at(coarse, ia, jb);
        if (wib !== 0) s += wjb * wib * at(coarse, ib, jb);
      }
      fine.u[j * fine.nx + i] += s;
    }
  }
}

/** levels[l].u ≈ A⁻¹·levels[l].f, starting from u = 0. */
function vcycle(levels: Level[], l: number): void {
  const L = levels[l];
  L.u.fill(0);
  if (l === levels.length - 1) {
    for (let s = 0; s < COARSE_SWEEPS; s++) {
      relax(L.nx, L.ny, L.u, L.f, 0);
      relax(L.nx, L.ny, L.u, L.f, 1);
      relax(L.nx, L.ny, L.u, L.f, 1);
      relax(L.nx, L.ny, L.u, L.f, 0);
    }
    return;
  }
  for (let s = 0; s < SMOOTH; s++) {
    relax(L.nx, L.ny, L.u, L.f, 0);
    relax(L.nx, L.ny, L.u, L.f, 1);
  }
  applyA(L.nx, L.ny, L.u, L.r);
  for (let k = 0; k < L.r.length; k++) L.r[k] = L.f[k] - L.r[k];
  const C = levels[l + 1];
  restrict(L, C);
  vcycle(levels, l + 1);
  prolongAdd(C, L);
  for (let s = 0; s < SMOOTH; s++) {
    relax(L.nx, L.ny, L.u, L.f, 1);
    relax(L.nx, L.ny, L.u, L.f, 0);
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

/** Solves one plane in place; returns [iterations, relative residual]. */
function solvePlane(h: number, w: number, tol: number, maxIter: number, rhs: Float64Array, x: Float64Array): [number, number] {
  const nx = w - 2;
  const ny = h - 2;
  const n = nx * ny;
  const b = new Float64Array(n);
  const u = new Float64Array(n);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const g = (j + 1) * w + (i + 1);
      let s = 0;
      if (i === 0) s += x[g - 1];
      if (i === nx - 1) s += x[g + 1];
      if (j === 0) s += x[g - w];
      if (j === ny - 1) s += x[g + w];
      b[j * nx + i] = s - rhs[g];
      u[j * nx + i] = x[g];
    }
  }
  const bnorm = Math.sqrt(dot(b, b));
  let iterations = 0;
  let rel = 0;
  if (bnorm === 0) {
    u.fill(0);
  } else {
    const levels = makeLevels(nx, ny);
    const top = levels[0];
    const r = new Float64Array(n);
    const p = new Float64Array(n);
    const q = new Float64Array(n);
    const limit = tol * bnorm;
    for (let restarts = 0; ; restarts++) {
      // True residual (the start, or a restart after the recurrence drifted).
      applyA(nx, ny, u, r);
      for (let k = 0; k < n; k++) r[k] = b[k] - r[k];
      const rnorm = Math.sqrt(dot(r, r));
      rel = rnorm / bnorm;
      // A restart only follows a drifted recurrence; 8 in a row means the arithmetic stalls.
      if (rnorm <= limit || iterations >= maxIter || rnorm !== rnorm || restarts > 8) break;
      top.f.set(r);
      vcycle(levels, 0);
      p.set(top.u);
      let rz = dot(r, top.u);
      while (iterations < maxIter) {
        applyA(nx, ny, p, q);
        const pq = dot(p, q);
        if (!(pq > 0)) break;
        const alpha = rz / pq;
        for (let k = 0; k < n; k++) {
          u[k] += alpha * p[k];
          r[k] -= alpha * q[k];
        }
        iterations++;
        if (Math.sqrt(dot(r, r)) <= limit) break;
        top.f.set(r);
        vcycle(levels, 0);
        const rzNext = dot(r, top.u);
        const beta = rzNext / rz;
        rz = rzNext;
        for (let k = 0; k < n; k++) p[k] = top.u[k] + beta * p[k];
      }
    }
  }
  for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) x[(j + 1) * w + (i + 1)] = u[j * nx + i];
  return [iterations, rel];
}

export function poissonSolve(p: PoissonParams, rhs: Float64Array, x: Float64Array, info: Float64Array): void {
  const { planes, height: h, width: w } = p;
  const hw = h * w;
  for (let c = 0; c < planes; c++) {
    let result: [number, number] = [0, 0];
    if (h >= 3 && w >= 3) result = solvePlane(h, w, p.tol, p.maxIter, rhs.subarray(c * hw, (c + 1) * hw), x.subarray(c * hw, (c + 1) * hw));
    info[2 * c] = result[0];
    info[2 * c + 1] = result[1];
  }
}
