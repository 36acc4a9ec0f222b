// poissonSolve: multigrid-preconditioned conjugate gradient for Poisson image editing.
// A line-for-line twin of src/backend/ts/poisson.ts (same operations, same order).
#include "medianomaly/poisson.h"

#include <atomic>
#include <cmath>
#include <new>
#include <utility>
#include <vector>

#include "medianomaly/threadpool.h"

namespace medianomaly {

namespace {

constexpr int kSmooth = 2;
constexpr int kCoarseSweeps = 8;

struct Level {
  int64_t nx, ny;
  std::vector<double> u, f, r;
};

std::vector<Level> make_levels(int64_t nx, int64_t ny) {
  std::vector<Level> levels;
  for (;;) {
    const size_t n = static_cast<size_t>(nx * ny);
    levels.push_back(Level{nx, ny, std::vector<double>(n), std::vector<double>(n), std::vector<double>(n)});
    if (nx < 3 || ny < 3) break;
    nx /= 2;
    ny /= 2;
  }
  return levels;
}

// Interior rows and columns take a branch-free loop with the same additions in the same
// order as the general one (s = 0 + left + right + up + down), so results are unchanged.
inline double a_at(int64_t nx, int64_t ny, const double* u, int64_t i, int64_t j) {
  const int64_t k = j * nx + i;
  double s = 0;
  if (i > 0) s += u[k - 1];
  if (i < nx - 1) s += u[k + 1];
  if (j > 0) s += u[k - nx];
  if (j < ny - 1) s += u[k + nx];
  return 4 * u[k] - s;
}

void apply_a(int64_t nx, int64_t ny, const double* u, double* out) {
  for (int64_t j = 0; j < ny; j++) {
    if (j == 0 || j == ny - 1 || nx < 3) {
      for (int64_t i = 0; i < nx; i++) out[j * nx + i] = a_at(nx, ny, u, i, j);
      continue;
    }
    out[j * nx] = a_at(nx, ny, u, 0, j);
    const double* row = u + j * nx;
    double* o = out + j * nx;
    for (int64_t i = 1; i < nx - 1; i++) {
      double s = 0;
      s += row[i - 1];
      s += row[i + 1];
      s += row[i - nx];
      s += row[i + nx];
      o[i] = 4 * row[i] - s;
    }
    out[j * nx + nx - 1] = a_at(nx, ny, u, nx - 1, j);
  }
}

inline void relax_at(int64_t nx, int64_t ny, double* u, const double* f, int64_t i, int64_t j) {
  const int64_t k = j * nx + i;
  double s = f[k];
  if (i > 0) s += u[k - 1];
  if (i < nx - 1) s += u[k + 1];
  if (j > 0) s += u[k - nx];
  if (j < ny - 1) s += u[k + nx];
  u[k] = s * 0.25;
}

void relax(int64_t nx, int64_t ny, double* u, const double* f, int64_t colour) {
  for (int64_t j = 0; j < ny; j++) {
    const int64_t first = (j + colour) & 1;
    if (j == 0 || j == ny - 1 || nx < 3) {
      for (int64_t i = first; i < nx; i += 2) relax_at(nx, ny, u, f, i, j);
      continue;
    }
    int64_t i = first;
    if (i == 0) {
      relax_at(nx, ny, u, f, 0, j);
      i = 2;
    }
    double* row = u + j * nx;
    const double* frow = f + j * nx;
    for (; i < nx - 1; i += 2) {
      double s = frow[i];
      s += row[i - 1];
      s += row[i + 1];
      s += row[i - nx];
      s += row[i + nx];
      row[i] = s * 0.25;
    }
    if (i == nx - 1) relax_at(nx, ny, u, f, i, j);
  }
}

void restrict_to(const Level& fine, Level& coarse) {
  const int64_t nx = fine.nx, ny = fine.ny;
  const double* r = fine.r.data();
  for (int64_t J = 0; J < coarse.ny; J++) {
    const int64_t j = 2 * J + 1;
    for (int64_t I = 0; I < coarse.nx; I++) {
      const int64_t i = 2 * I + 1;
      double s = 0;
      for (int64_t dj = -1; dj <= 1; dj++) {
        const int64_t jj = j + dj;
        if (jj < 0 || jj >= ny) continue;
        const double wj = dj == 0 ? 1 : 0.5;
        for (int64_t di = -1; di <= 1; di++) {
          const int64_t ii = i + di;
          if (ii < 0 || ii >= nx) continue;
          const double wi = di == 0 ? 1 : 0.5;
          s += wj * wi * r[jj * nx + ii];
        }
      }
      coarse.f[J * coarse.nx + I] = s;
    }
  }
}

inline double at(const Level& c, int64_t I, int64_t J) {
  return I < 0 || I >= c.nx || J < 0 || J >= c.ny ? 0 : c.u[J * c.nx + I];
}

struct Stencil {
  int64_t a;
  double wa;
  int64_t b;
  double wb;
};

inline Stencil stencil(int64_t i) {
  // i ≥ 0: (i − 1) >> 1 and (i >> 1) − 1 as in the ts twin (arithmetic shifts)
  return (i & 1) ? Stencil{(i - 1) >> 1, 1, 0, 0} : Stencil{(i >> 1) - 1, 0.5, i >> 1, 0.5};
}

void prolong_add(const Level& coarse, Level& fine) {
  for (int64_t j = 0; j < fine.ny; j++) {
    const Stencil sj = stencil(j);
    for (int64_t i = 0; i < fine.nx; i++) {
      const Stencil si = stencil(i);
      double s = sj.wa * si.wa * at(coarse, si.a, sj.a);
      if (si.wb != 0) s += sj.wa * si.wb * at(coarse, si.b, sj.a);
      if (sj.wb != 0) {
        s += sj.wb * si.wa * at(coarse, si.a, sj.b);
        if (si.wb != 0) s += sj.wb * si.wb * at(coarse, si.b, sj.b);
      }
      fine.u[j * fine.nx + i] += s;
    }
  }
}

void vcycle(std::vector<Level>& levels, size_t l) {
  Level& L = levels[l];
  std::fill(L.u.begin(), L.u.end(), 0.0);
  if (l == levels.size() - 1) {
    for (int s = 0; s < kCoarseSweeps; s++) {
      relax(L.nx, L.ny, L.u.data(), L.f.data(), 0);
      relax(L.nx, L.ny, L.u.data(), L.f.data(), 1);
      relax(L.nx, L.ny, L.u.data(), L.f.data(), 1);
      relax(L.nx, L.ny, L.u.data(), L.f.data(), 0);
    }
    return;
  }
  for (int s = 0; s < kSmooth; s++) {
    relax(L.nx, L.ny, L.u.data(), L.f.data(), 0);
    relax(L.nx, L.ny, L.u.data(), L.f.data(), 1);
  }
  apply_a(L.nx, L.ny, L.u.data(), L.r.data());
  for (size_t k = 0; k < L.r.size(); k++) L.r[k] = L.f[k] - L.r[k];
  Level& C = levels[l + 1];
  restrict_to(L, C);
  vcycle(levels, l + 1);
  prolong_add(C, L);
  for (int s = 0; s < kSmooth; s++) {
    relax(L.nx, L.ny, L.u.data(), L.f.data(), 1);
    relax(L.nx, L.ny, L.u.data(), L.f.data(), 0);
  }
}

double dot(const double* a, const double* b, int64_t n) {
  double s = 0;
  for (int64_t k = 0; k < n; k++) s += a[k] * b[k];
  return s;
}

std::pair<double, double> solve_plane(int64_t h, int64_t w, double tol, int64_t max_iter, const double* rhs, double* x) {
  const int64_t nx = w - 2, ny = h - 2, n = nx * ny;
  std::vector<double> b(static_cast<size_t>(n)), u(static_cast<size_t>(n));
  for (int64_t j = 0; j < ny; j++) {
    for (int64_t i = 0; i < nx; i++) {
      const int64_t g = (j + 1) * w + (i + 1);
      double s = 0;
      if (i == 0) s += x[g - 1];
      if (i == nx - 1) s += x[g + 1];
      if (j == 0) s += x[g - w];
      if (j == ny - 1) s += x[g + w];
      b[j * nx + i] = s - rhs[g];
      u[j * nx + i] = x[g];
    }
  }
  const double bnorm = std::sqrt(dot(b.data(), b.data(), n));
  int64_t iterations = 0;
  double rel = 0;
  if (bnorm == 0) {
    std::fill(u.begin(), u.end(), 0.0);
  } else {
    std::vector<Level> levels = make_levels(nx, ny);
    Level& top = levels[0];
    std::vector<double> r(static_cast<size_t>(n)), p(static_cast<size_t>(n)), q(static_cast<size_t>(n));
    const double limit = tol * bnorm;
    for (int restarts = 0;; restarts++) {
      apply_a(nx, ny, u.data(), r.data());
      for (int64_t k = 0; k < n; k++) r[k] = b[k] - r[k];
      const double rnorm = std::sqrt(dot(r.data(), r.data(), n));
      rel = rnorm / bnorm;
      if (rnorm <= limit || iterations >= max_iter || rnorm != rnorm || restarts > 8) break;
      top.f = r;
      vcycle(levels, 0);
      p = top.u;
      double rz = dot(r.data(), top.u.data(), n);
      while (iterations < max_iter) {
        apply_a(nx, ny, p.data(), q.data());
        const double pq = dot(p.data(), q.data(), n);
        if (!(pq > 0)) break;
        const double alpha = rz / pq;
        for (int64_t k = 0; k < n; k++) {
          u[k] += alpha * p[k];
          r[k] -= alpha * q[k];
        }
        iterations++;
        if (std::sqrt(dot(r.data(), r.data(), n)) <= limit) break;
        top.f = r;
        vcycle(levels, 0);
        const double rz_next = dot(r.data(), top.u.data(), n);
        const double beta = rz_next / rz;
        rz = rz_next;
        for (int64_t k = 0; k < n; k++) p[k] = top.u[k] + beta * p[k];
      }
    }
  }
  for (int64_t j = 0; j < ny; j++)
    for (int64_t i = 0; i < nx; i++) x[(j + 1) * w + (i + 1)] = u[j * nx + i];
  return {static_cast<double>(iterations), rel};
}

}  // namespace

Status poisson_solve(const PoissonParams& p, const double* rhs, double* x, double* info) {
  const int64_t h = p.height, w = p.width, hw = h * w;
  std::atomic<bool> oom{false};
  parallel_for(p.planes, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; c++) {
      std::pair<double, double> result{0, 0};
      if (h >= 3 && w >= 3) {
        try {
          result = solve_plane(h, w, p.tol, p.max_iter, rhs + c * hw, x + c * hw);
        } catch (const std::bad_alloc&) {
          oom = true;
          result = {0, NAN};
        }
      }
      info[2 * c] = result.first;
      info[2 * c + 1] = result.second;
    }
  });
  return oom ? Status::kOutOfMemory : Status::kOk;
}

}  // namespace medianomaly
