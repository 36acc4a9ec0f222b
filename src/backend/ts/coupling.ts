// FrEIA AllInOneBlock's coupling step, forward and backward, and the Haar rotation: the
// reference for native/cpu/coupling.cc, line by line. Float32 arithmetic is rounded
// where C++ rounds (Math.fround after every float operation), sums are float64 in the
// same order (the native loops are split into rows and lanes, the arithmetic per
// element is this), so the two differ only by the exp/tanh (vectorised natively) and
// log1p of each side; the rotation is float64 throughout and identical bit for bit.
import type { CouplingParams, F32, F64, I32 } from '../types.js';

const f = Math.fround;
const F01 = f(0.1);
const F02 = f(0.2);

// 0.1·Softplus(β = 0.5)(γ) = 0.2·ln(1 + exp(γ/2)), identity above γ/2 = 20 (PyTorch's threshold).
function globalScale(gamma: number): number {
  const h = f(0.5 * gamma);
  const sp = h > 20 ? h : f(Math.log1p(f(Math.exp(h))));
  return f(F02 * sp);
}

// dg/dγ = 0.2 · 0.5 · σ(γ/2) (PyTorch's softplus backward: z/(z + 1), z = e^h; 1 above the threshold).
function globalScaleGrad(gamma: number): number {
  const h = f(0.5 * gamma);
  let d = 1;
  if (!(h > 20)) {
    const z = f(Math.exp(h));
    d = f(z / f(z + 1));
  }
  return f(f(0.5 * d) * F02);
}

export function couplingForward(p: CouplingParams, x: F32, r: F32, gamma: F32, offset: F32, permInv: I32 | null, y: F32, th: F32, logdet: F32): void {
  const { B, C, C1, HW } = p;
  const C2 = C - C1;
  const alpha = f(p.clamp);
  const scaled = p.scaled;
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < C; k++) {
      const g = globalScale(gamma[k]);
      const off = offset[k];
      const o = permInv ? permInv[k] : k;
      const xr = (b * C + k) * HW;
      const yr = (b * C + o) * HW;
      if (k < C1) {
        for (let i = 0; i < HW; i++) y[yr + i] = f(x[xr + i] * g) + off;
        continue;
      }
      const m = k - C1;
      const sr = (b * 2 * C2 + m) * HW;
      const tr = (b * 2 * C2 + C2 + m) * HW;
      const hr = (b * C2 + m) * HW;
      for (let i = 0; i < HW; i++) {
        const s = f(F01 * r[sr + i]);
        const h = f(Math.tanh(scaled ? f(s / alpha) : s));
        const j = f(alpha * h);
        const u = f(f(x[xr + i] * f(Math.exp(j))) + f(F01 * r[tr + i]));
        th[hr + i] = h;
        y[yr + i] = f(u * g) + off;
      }
    }
  }
  let logG = 0;
  for (let k = 0; k < C; k++) logG += Math.log(globalScale(gamma[k]));
  for (let b = 0; b < B; b++) {
    const hr = b * C2 * HW;
    let s = 0;
    for (let i = 0; i < C2 * HW; i++) s += f(alpha * th[hr + i]);
    logdet[b] = s + HW * logG;
  }
}

export function couplingBackward(
  p: CouplingParams,
  x: F32,
  r: F32,
  th: F32,
  gamma: F32,
  permInv: I32 | null,
  dy: F32,
  dlogdet: F32 | null,
  dx: F32,
  dr: F32,
  dgamma: F32,
  doffset: F32,
): void {
  const { B, C, C1, HW } = p;
  const C2 = C - C1;
  const alpha = f(p.clamp);
  const scaled = p.scaled;
  let dlSum = 0;
  if (dlogdet) for (let b = 0; b < B; b++) dlSum += dlogdet[b];
  const su = new Float64Array(C);
  const so = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    const dl = dlogdet ? dlogdet[b] : 0;
    for (let k = 0; k < C; k++) {
      const g = globalScale(gamma[k]);
      const o = permInv ? permInv[k] : k;
      const xr = (b * C + k) * HW;
      const dvr = (b * C + o) * HW;
      let accU = su[k];
      let accO = so[k];
      if (k < C1) {
        for (let i = 0; i < HW; i++) {
          const dv = dy[dvr + i];
          accU += f(dv * x[xr + i]);
          accO += dv;
          dx[xr + i] = dv * g;
        }
      } else {
        const m = k - C1;
        const tr = (b * 2 * C2 + C2 + m) * HW;
        const hr = (b * C2 + m) * HW;
        const dsr = (b * 2 * C2 + m) * HW;
        const dtr = (b * 2 * C2 + C2 + m) * HW;
        for (let i = 0; i < HW; i++) {
          const dv = dy[dvr + i];
          const h = th[hr + i];
          const e = f(Math.exp(f(alpha * h)));
          const xe = f(x[xr + i] * e);
          const u = f(xe + f(F01 * r[tr + i]));
          accU += f(dv * u);
          accO += dv;
          const du = f(dv * g);
          dx[xr + i] = du * e;
          dr[dtr + i] = F01 * du;
          const dj = f(f(du * xe) + dl);
          const dh = f(1 - f(h * h));
          dr[dsr + i] = F01 * (scaled ? f(dj * dh) : f(dj * f(alpha * dh)));
        }
      }
      su[k] = accU;
      so[k] = accO;
    }
  }
  for (let k = 0; k < C; k++) {
    const g = globalScale(gamma[k]);
    const gd = globalScaleGrad(gamma[k]);
    dgamma[k] = (gd * su[k] + (dlSum * HW * gd) / g);
    doffset[k] = so[k];
  }
}

// vᵀcol over rows k..C−1 in 8 interleaved partial sums, combined pairwise, tail last
// (native/cpu/coupling.cc's dot8, so that its vectorised loop gives the same bits).
function dot8(a: F64, v: number, b: F64, col: number, k: number, C: number): number {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  let i = k;
  for (; i + 8 <= C; i += 8) {
    a0 += a[v + i] * b[col + i];
    a1 += a[v + i + 1] * b[col + i + 1];
    a2 += a[v + i + 2] * b[col + i + 2];
    a3 += a[v + i + 3] * b[col + i + 3];
    a4 += a[v + i + 4] * b[col + i + 4];
    a5 += a[v + i + 5] * b[col + i + 5];
    a6 += a[v + i + 6] * b[col + i + 6];
    a7 += a[v + i + 7] * b[col + i + 7];
  }
  let dot = a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7));
  for (; i < C; i++) dot += a[v + i] * b[col + i];
  return dot;
}

export function couplingRotation(p: { C: number }, a: F64, q: F64): void {
  const C = p.C;
  // Householder vector k occupies a's column k from row k on (R's diagonal sign kept aside).
  const beta = new Float64Array(C);
  const rsign = new Float64Array(C).fill(1);
  let reflections = 0;
  for (let k = 0; k < C; k++) {
    const v = k * C;
    let norm2 = 0;
    for (let i = k; i < C; i++) norm2 += a[v + i] * a[v + i];
    const norm = Math.sqrt(norm2);
    const x0 = a[v + k];
    if (k === C - 1 || norm === 0) {
      rsign[k] = x0 < 0 ? -1 : 1; // nothing to reflect: R[k, k] = x0
      continue;
    }
    // H·x = α·e_k with α = −sign(x0)·‖x‖, v = x − α·e_k (no cancellation), β = 2 / vᵀv.
    const alpha = x0 < 0 ? norm : -norm;
    a[v + k] = x0 - alpha;
    let vv = 0;
    for (let i = k; i < C; i++) vv += a[v + i] * a[v + i];
    const bk = 2 / vv;
    beta[k] = bk;
    rsign[k] = alpha < 0 ? -1 : 1;
    reflections++;
    for (let j = k + 1; j < C; j++) {
      const col = j * C;
      const fk = bk * dot8(a, v, a, col, k, C);
      for (let i = k; i < C; i++) a[col + i] -= fk * a[v + i];
    }
  }
  // Q = H_0·H_1·…·H_{C−2}, accumulated from the last reflection back, column-major in q.
  q.fill(0, 0, C * C);
  for (let i = 0; i < C; i++) q[i * C + i] = 1;
  for (let k = C - 1; k >= 0; k--) {
    const bk = beta[k];
    if (bk === 0) continue;
    const v = k * C;
    for (let j = k; j < C; j++) {
      const col = j * C;
      const fk = bk * dot8(a, v, q, col, k, C);
      for (let i = k; i < C; i++) q[col + i] -= fk * a[v + i];
    }
  }
  // Q·diag(sign R_kk) (Haar on O(C)); det Q = (−1)^reflections · Π signs; negate column 0 if −1.
  let det = reflections % 2 === 0 ? 1 : -1;
  for (let k = 0; k < C; k++) {
    if (rsign[k] < 0) {
      det = -det;
      for (let i = 0; i < C; i++) q[k * C + i] = -q[k * C + i];
    }
  }
  if (det < 0) for (let i = 0; i < C; i++) q[i] = -q[i];
  // In place to row-major: transpose.
  for (let i = 0; i < C; i++) {
    for (let j = i + 1; j < C; j++) {
      const t = q[i * C + j];
      q[i * C + j] = q[j * C + i];
      q[j * C + i] = t;
    }
  }
}
