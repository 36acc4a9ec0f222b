// Small geometric helpers shared by the generators: soft edges, radial
// perturbations of ellipses ("irregular blobs") and piecewise-linear profiles.

import type { Rng } from './rng.js';

/** Hermite smoothstep: 0 below e0, 1 above e1, smooth in between (e0 < e1). */
export function smoothstep(e0: number, e1: number, x: number): number {
  // Most pixels sit on a plateau: settle those before paying for the division.
  if (x <= e0) return 0;
  if (x >= e1) return 1;
  const t = (x - e0) / (e1 - e0);
  return t * t * (3 - 2 * t);
}

/** Soft indicator of r < edge, with a transition of half-width `soft` (anti-aliased edges). */
export function inside(r: number, edge: number, soft: number): number {
  return 1 - smoothstep(edge - soft, edge + soft, r);
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

export function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}

/**
 * A Fourier series in the polar angle, r(φ) = Σ_k a_k cos kφ + b_k sin kφ, used to
 * make an ellipse's outline irregular. Evaluated from cos φ and sin φ by
 * complex multiplication, so no trigonometric call per pixel.
 */
export class Harmonics {
  readonly a: Float64Array;
  readonly b: Float64Array;

  constructor(a: ArrayLike<number>, b: ArrayLike<number>) {
    this.a = Float64Array.from(a);
    this.b = Float64Array.from(b);
  }

  /** Random phases, amplitude amp(k) for k = first..last. */
  static random(rng: Rng, first: number, last: number, amp: (k: number) => number): Harmonics {
    const a = new Array<number>(last + 1).fill(0);
    const b = new Array<number>(last + 1).fill(0);
    for (let k = first; k <= last; k++) {
      const phase = rng.range(0, 2 * Math.PI);
      const m = amp(k) * rng.range(0.5, 1.2);
      a[k] = m * Math.cos(phase);
      b[k] = m * Math.sin(phase);
    }
    return new Harmonics(a, b);
  }

  at(cos: number, sin: number): number {
    let ck = 1;
    let sk = 0;
    let sum = 0;
    for (let k = 1; k < this.a.length; k++) {
      const c = ck * cos - sk * sin;
      sk = sk * cos + ck * sin;
      ck = c;
      sum += this.a[k] * ck + this.b[k] * sk;
    }
    return sum;
  }
}

/**
 * An ellipse with a perturbed outline. rho(x, y) is the point's distance from the
 * centre in units of the local outline radius: < 1 inside, 1 on the edge.
 */
export class Blob {
  private readonly cos: number;
  private readonly sin: number;

  constructor(
    readonly cx: number,
    readonly cy: number,
    readonly rx: number,
    readonly ry: number,
    angle: number,
    readonly outline: Harmonics,
  ) {
    this.cos = Math.cos(angle);
    this.sin = Math.sin(angle);
  }

  rho(x: number, y: number): number {
    const dx = x - this.cx;
    const dy = y - this.cy;
    const lx = (this.cos * dx + this.sin * dy) / this.rx;
    const ly = (-this.sin * dx + this.cos * dy) / this.ry;
    const q = Math.sqrt(lx * lx + ly * ly);
    if (q < 1e-9) return 0;
    return q / (1 + this.outline.at(lx / q, ly / q));
  }
}

/** Piecewise-linear profile through knots (t_i, v_i), t ascending; constant outside. */
export function profile(ts: readonly number[], vs: readonly number[], t: number): number {
  if (t <= ts[0]) return vs[0];
  const n = ts.length - 1;
  if (t >= ts[n]) return vs[n];
  let i = 1;
  while (ts[i] < t) i++;
  const u = (t - ts[i - 1]) / (ts[i] - ts[i - 1]);
  return vs[i - 1] + (vs[i] - vs[i - 1]) * u;
}

/**
 * Smooth profile through knots (t_i, v_i), t ascending: Catmull–Rom between knots
 * (so outlines have no corners), constant outside.
 */
export function spline(ts: readonly number[], vs: readonly number[], t: number): number {
  const n = ts.length - 1;
  if (t <= ts[0]) return vs[0];
  if (t >= ts[n]) return vs[n];
  let i = 1;
  while (ts[i] < t) i++;
  const t0 = ts[i - 1];
  const t1 = ts[i];
  const h = t1 - t0;
  const u = (t - t0) / h;
  // Tangents from the neighbouring knots (one-sided at the ends).
  const m0 = i - 2 >= 0 ? ((vs[i] - vs[i - 2]) / (ts[i] - ts[i - 2])) * h : vs[i] - vs[i - 1];
  const m1 = i + 1 <= n ? ((vs[i + 1] - vs[i - 1]) / (ts[i + 1] - ts[i - 1])) * h : vs[i] - vs[i - 1];
  const u2 = u * u;
  const u3 = u2 * u;
  return (2 * u3 - 3 * u2 + 1) * vs[i - 1] + (u3 - 2 * u2 + u) * m0 + (-2 * u3 + 3 * u2) * vs[i] + (u3 - u2) * m1;
}
