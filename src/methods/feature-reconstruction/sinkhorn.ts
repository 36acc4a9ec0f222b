// The debiased Sinkhorn divergence between two point clouds with uniform weights, as
// geomloss 0.2.6 computes it (`SamplesLoss('sinkhorn', p=2, ...)`, tensorized backend:
// `sinkhorn_samples.py sinkhorn_tensorized`, `sinkhorn_divergence.py`), which RD++'s SSOT
// loss calls (tientrandinh/Revisiting-Reverse-Distillation `utils/utils_train.py`
// Revisit_RDLoss: blur 0.05, scaling 0.95, diameter 1e7, debias, no reach).
//
// For x [N, D] and y [M, D] with weights α = 1/N, β = 1/M and the cost C(a, b) = |a − b|²/2:
//
//   S(α, β) = OT_ε(α, β) − ½ OT_ε(α, α) − ½ OT_ε(β, β),  ε = blur²,
//
// computed from the dual potentials of the three entropic problems:
// 1. ε-scaling: ε runs through diameter², then exp(e) for e = 2·ln(diameter), stepping by
//    2·ln(scaling) while above 2·ln(blur) (NumPy's arange), then blur² (`epsilon_schedule`).
// 2. Log-domain, symmetrised Sinkhorn updates at each ε (`sinkhorn_loop`):
//      softmin_ε(C, h)_i = −ε · log Σ_j exp(h_j − C_ij/ε)
//      a_x ← ½(a_x + softmin(C_xx, log α + a_x/ε))     (OT(α, α))
//      b_y ← ½(b_y + softmin(C_yy, log β + b_y/ε))     (OT(β, β))
//      a_y ← ½(a_y + softmin(C_yx, log α + b_x/ε)),  b_x ← ½(b_x + softmin(C_xy, log β + a_y/ε))
//    initialised by one softmin at the first ε with h = log weights alone.
// 3. One last update of all four potentials at ε = blur², the previous potentials held
//    constant, and S = Σ_i α_i (b_x − a_x)_i + Σ_j β_j (a_y − b_y)_j (`sinkhorn_cost`).
//
// Gradients are those of geomloss's last step, where the costs are C_xy = C(x, y.detach()),
// C_yx = C(y, x.detach()), C_xx = C(x, x.detach()), C_yy = C(y, y.detach()) and only the
// last update carries gradients: with π the softmax weights of a softmin row,
//   ∂S/∂x_i = α_i [Σ_j π^xy_ij (x_i − y_j) − Σ_k π^xx_ik (x_i − x_k)]
//   ∂S/∂y_j = β_j [Σ_i π^yx_ji (y_j − x_i) − Σ_l π^yy_jl (y_j − y_l)].
//
// Here the costs come from float32 Gram matrices (as geomloss's |a|² − 2a·b + |b|²) and the
// loop and the last step run in float64 (geomloss: float32), so values agree with geomloss to
// float32 rounding of the costs. The loop is O(iterations · N·M) on the small matrices; the
// work on the D-dimensional points is three Gram products forward and four products back.
//
// A set against a permutation of itself (RD++'s SSOT: the batch's projected features against
// the same rows shuffled) has S = 0 and zero gradient in exact arithmetic: both transport
// problems are the same problem relabelled. What remains is rounding.
import { add, linear, matmul, noGrad, record, Tensor } from '../../engine/index.js';

export interface SinkhornOptions {
  /** Entropic blur σ; ε = σ² at the end of the schedule (geomloss default 0.05). */
  blur?: number;
  /** Ratio of consecutive σ in the ε-scaling schedule, in (0, 1) (geomloss default 0.5; RD++ 0.95). */
  scaling?: number;
  /** Start of the schedule (σ); null = the clouds' bounding-box diagonal (geomloss default). RD++: 1e7. */
  diameter?: number | null;
  /** true (default): the debiased divergence S; false: OT_ε(α, β) alone. */
  debias?: boolean;
}

/** RD++'s SamplesLoss settings. */
export const RDPP_SINKHORN: Readonly<Required<SinkhornOptions>> = Object.freeze({ blur: 0.05, scaling: 0.95, diameter: 1e7, debias: true });

/**
 * geomloss's ε schedule for p = 2: [diameter², exp(e) for e in arange(2 ln diameter, 2 ln blur,
 * 2 ln scaling), blur²]. NumPy's float arange fills value i as start + i·δ, δ = (start + step) − start.
 */
export function epsilonSchedule(diameter: number, blur: number, scaling: number): number[] {
  const p = 2;
  const start = p * Math.log(diameter);
  const stop = p * Math.log(blur);
  const step = p * Math.log(scaling);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  const eps = [diameter ** p];
  for (let i = 0; i < n; i++) eps.push(Math.exp(i === 0 ? start : i === 1 ? start + step : start + i * delta));
  eps.push(blur ** p);
  return eps;
}

function checkOptions(o: SinkhornOptions): Required<SinkhornOptions> {
  const blur = o.blur ?? 0.05;
  const scaling = o.scaling ?? 0.5;
  const diameter = o.diameter === undefined ? null : o.diameter;
  const debias = o.debias ?? true;
  if (!(blur > 0 && Number.isFinite(blur))) throw new RangeError(`sinkhornDivergence: blur must be a positive number, got ${blur}`);
  if (!(scaling > 0 && scaling < 1)) throw new RangeError(`sinkhornDivergence: scaling must be in (0, 1), got ${scaling}`);
  if (diameter !== null && !(diameter > 0 && Number.isFinite(diameter))) throw new RangeError(`sinkhornDivergence: diameter must be a positive number or null, got ${diameter}`);
  if (typeof debias !== 'boolean') throw new TypeError(`sinkhornDivergence: debias must be a boolean, got ${String(debias)}`);
  return { blur, scaling, diameter, debias };
}

/** a·bᵀ for a [n, d], b [m, d]: float32 [n, m] (one product with b transposed, no copy). */
function gram(a: Tensor, b: Tensor): Float32Array {
  return noGrad(() => linear(a, b)).data;
}

function rowNorms(a: Float32Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = i * d; k < (i + 1) * d; k++) s += a[k] * a[k];
    out[i] = s;
  }
  return out;
}

/** C_ij = (|a_i|² − 2 a_i·b_j + |b_j|²)/2 in float64 from the float32 Gram matrix. */
function costs(na: Float64Array, nb: Float64Array, g: Float32Array): Float64Array {
  const n = na.length;
  const m = nb.length;
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) c[i * m + j] = (na[i] - 2 * g[i * m + j] + nb[j]) / 2;
  return c;
}

/** Cost matrix between clouds: [rows, cols] values. */
interface Cost {
  c: Float64Array;
  rows: number;
  cols: number;
}

/** softmin_ε(C, h)_i = −ε log Σ_j exp(h_j − C_ij/ε); optionally the softmax weights π. */
function softmin(eps: number, C: Cost, h: Float64Array, weights?: Float64Array): Float64Array {
  const { c, rows, cols } = C;
  const out = new Float64Array(rows);
  const z = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    let m = -Infinity;
    for (let j = 0; j < cols; j++) {
      z[j] = h[j] - c[i * cols + j] / eps;
      if (z[j] > m) m = z[j];
    }
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(z[j] - m);
    out[i] = -eps * (m + Math.log(s));
    if (weights) for (let j = 0; j < cols; j++) weights[i * cols + j] = Math.exp(z[j] - m) / s;
  }
  return out;
}

/** log α + f/ε for the uniform weights α = 1/n. */
function shifted(logW: number, f: Float64Array, eps: number): Float64Array {
  const out = new Float64Array(f.length);
  for (let i = 0; i < f.length; i++) out[i] = logW + f[i] / eps;
  return out;
}

const avg = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => 0.5 * (v + b[i]));

/** Bounding-box diagonal of both clouds (geomloss `max_diameter`). */
function maxDiameter(x: Float32Array, n: number, y: Float32Array, m: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      lo = Math.min(lo, x[i * d + k]);
      hi = Math.max(hi, x[i * d + k]);
    }
    for (let j = 0; j < m; j++) {
      lo = Math.min(lo, y[j * d + k]);
      hi = Math.max(hi, y[j * d + k]);
    }
    s += (hi - lo) * (hi - lo);
  }
  return Math.sqrt(s);
}

/**
 * Row-weighted gradient of the last step for one cloud a [n, d] against b [m, d]: for each row i,
 * w [(Σ_j P_ij − Σ_k Q_ik) a_i − Σ_j P_ij b_j + Σ_k Q_ik a_k] (Q absent when not debiased), as
 * two small [n, ·] × [·, d] products.
 */
function cloudGrad(a: Tensor, b: Tensor, P: Float64Array, Q: Float64Array | null, w: number): Tensor {
  const n = a.shape[0];
  const m = b.shape[0];
  const A = new Float32Array(n * n); // coefficients of a's rows
  const B = new Float32Array(n * m); // coefficients of b's rows
  for (let i = 0; i < n; i++) {
    let rp = 0;
    for (let j = 0; j < m; j++) {
      rp += P[i * m + j];
      B[i * m + j] = -w * P[i * m + j];
    }
    let rq = 0;
    if (Q) {
      for (let k = 0; k < n; k++) {
        rq += Q[i * n + k];
        A[i * n + k] = w * Q[i * n + k];
      }
    }
    A[i * n + i] += w * (rp - rq);
  }
  return noGrad(() => add(matmul(Tensor.fromData(A, [n, n]), a), matmul(Tensor.fromData(B, [n, m]), b)));
}

/**
 * The Sinkhorn divergence S_ε(α, β) between the rows of x [N, D] and y [M, D] (uniform
 * weights, cost |a − b|²/2), a 0-d tensor differentiable in x and y (geomloss's gradients).
 */
export function sinkhornDivergence(x: Tensor, y: Tensor, opts: SinkhornOptions = {}): Tensor {
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new TypeError('sinkhornDivergence: x and y must be Tensors');
  if (x.ndim !== 2 || y.ndim !== 2) throw new RangeError(`sinkhornDivergence: x and y must be [N, D] and [M, D] point clouds, got [${x.shape.join(', ')}] and [${y.shape.join(', ')}]`);
  const [n, d] = x.shape;
  const [m, dy] = y.shape;
  if (d !== dy) throw new RangeError(`sinkhornDivergence: the clouds' dimensions differ: ${d} vs ${dy}`);
  if (n < 1 || m < 1) throw new RangeError(`sinkhornDivergence: each cloud needs at least one point, got ${n} and ${m}`);
  const o = checkOptions(opts);
  const xd = x.data;
  const yd = y.data;
  const xc = x.detach();
  const yc = y.detach();

  const nx = rowNorms(xd, n, d);
  const ny = rowNorms(yd, m, d);
  const gxy = gram(xc, yc);
  const Cxy: Cost = { c: costs(nx, ny, gxy), rows: n, cols: m };
  // C_yx is C_xyᵀ: geomloss computes it by its own product, equal up to summation order.
  const cyx = new Float64Array(m * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) cyx[j * n + i] = Cxy.c[i * m + j];
  const Cyx: Cost = { c: cyx, rows: m, cols: n };
  const Cxx: Cost | null = o.debias ? { c: costs(nx, nx, gram(xc, xc)), rows: n, cols: n } : null;
  const Cyy: Cost | null = o.debias ? { c: costs(ny, ny, gram(yc, yc)), rows: m, cols: m } : null;

  const diameter = o.diameter ?? maxDiameter(xd, n, yd, m, d);
  const schedule = epsilonSchedule(diameter, o.blur, o.scaling);
  const logA = Math.log(1 / n);
  const logB = Math.log(1 / m);
  const constA = new Float64Array(n).fill(logA);
  const constB = new Float64Array(m).fill(logB);

  let eps = schedule[0];
  let ax = Cxx ? softmin(eps, Cxx, constA) : null;
  let by = Cyy ? softmin(eps, Cyy, constB) : null;
  let ay = softmin(eps, Cyx, constA);
  let bx = softmin(eps, Cxy, constB);
  for (eps of schedule) {
    const atx = Cxx && ax ? softmin(eps, Cxx, shifted(logA, ax, eps)) : null;
    const bty = Cyy && by ? softmin(eps, Cyy, shifted(logB, by, eps)) : null;
    const aty = softmin(eps, Cyx, shifted(logA, bx, eps));
    const btx = softmin(eps, Cxy, shifted(logB, ay, eps));
    if (ax && atx) ax = avg(ax, atx);
    if (by && bty) by = avg(by, bty);
    ay = avg(ay, aty);
    bx = avg(bx, btx);
  }
  // The last extrapolation (ε = blur²): the one step gradients flow through.
  const Pxx = Cxx ? new Float64Array(n * n) : null;
  const Pyy = Cyy ? new Float64Array(m * m) : null;
  const Pyx = new Float64Array(m * n);
  const Pxy = new Float64Array(n * m);
  const ax2 = Cxx && ax && Pxx ? softmin(eps, Cxx, shifted(logA, ax, eps), Pxx) : null;
  const by2 = Cyy && by && Pyy ? softmin(eps, Cyy, shifted(logB, by, eps), Pyy) : null;
  const ay2 = softmin(eps, Cyx, shifted(logA, bx, eps), Pyx);
  const bx2 = softmin(eps, Cxy, shifted(logB, ay, eps), Pxy);

  let value = 0;
  for (let i = 0; i < n; i++) value += (1 / n) * (bx2[i] - (ax2 ? ax2[i] : 0));
  for (let j = 0; j < m; j++) value += (1 / m) * (ay2[j] - (by2 ? by2[j] : 0));

  const out = Tensor.fromData(Float32Array.of(value), []);
  return record(out, 'sinkhornDivergence', [x, y], (g, needs) => {
    const s = g.data[0];
    return [
      needs[0] ? cloudGrad(xc, yc, Pxy, Pxx, s / n) : null,
      needs[1] ? cloudGrad(yc, xc, Pyx, Pyy, s / m) : null,
    ];
  });
}
