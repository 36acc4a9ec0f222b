// Seeded OpenSimplex noise in 2-D and 3-D, and its fractal (octave) sums.
//
// The algorithm is KdotJPG's original OpenSimplex (2014) as the Python package `opensimplex`
// (lmas/opensimplex, 0.3–0.4) computes it, which RD++ (tientrandinh/Revisiting-Reverse-
// Distillation, `dataset/noise.py`) copies for its pseudo-anomalies and the simplex-noise
// diffusion models use:
//
// - The seed (any integer, 64-bit two's complement arithmetic) drives Knuth's MMIX LCG
//   s ← s·6364136223846793005 + 1442695040888963407 (mod 2⁶⁴): three steps, then one step per
//   entry of a 256-entry permutation built by a Fisher–Yates pass from the top, taking
//   r = (s + 31) mod (i + 1) (Python's non-negative modulo of the unwrapped sum). The same
//   seed gives the same field as the Python package, value for value.
// - 2-D: the plane is skewed onto a rhombus lattice (stretch (1/√3 − 1)/2, squish (√3 − 1)/2);
//   the 3 or 4 lattice points that can reach a sample contribute (2 − |d|²)⁴ · (g · d) with
//   g one of 8 gradients (±5, ±2 / ±2, ±5), summed and divided by 47.
// - 3-D: the same on the skewed cubic lattice (stretch −1/6, squish 1/3), 6 to 8 contributing
//   points chosen by which tetrahedron or octahedron of the cell holds the sample, 24
//   gradients (permutations of ±11, ±4, ±4), divided by 103.
// Every value is computed in float64 with the operations in the reference's order, so the
// results are the package's to the last bit. Values lie roughly in [−1, 1].
//
// Fractal noise (`fractalNoise3`, `fractalNoise2`): the sum over octaves o = 0..n−1 of
// persistenceᵒ · noise(coords / (period / 2ᵒ)), the coordinates being the integer indices
// of the output grid — RD++'s `rand_3d_octaves` / `rand_2d_octaves` (whose argument
// `frequency` is this period). RD++ uses 6 octaves, persistence 0.6, period 32 on a
// [3, h, w] grid (one z slice per RGB channel): `RDPP_FRACTAL`.

import { simplexField3d, simplexNoise3, simplexPermutation as enginePermutation, type SimplexTables } from '../engine/ops/simplex.js';

const STRETCH2 = -0.211324865405187; // (1/√3 − 1)/2
const SQUISH2 = 0.366025403784439; // (√3 − 1)/2
const NORM2 = 47;

/** 2-D gradients: the 8 directions to an octagon's vertices, as (x, y) pairs. */
const GRAD2 = new Int8Array([5, 2, 2, 5, -5, 2, -2, 5, 5, -2, 2, -5, -5, -2, -2, -5]);

/** The permutation of a seed, and the 3-D gradient offset of each entry (the engine's seeding). */
export function simplexPermutation(seed: number | bigint): { perm: Uint8Array; gradIndex3: Uint8Array } {
  const { perm, gradIndex3 } = enginePermutation(seed);
  return { perm, gradIndex3 };
}

/** A seeded OpenSimplex noise field (the `opensimplex` package's OpenSimplex(seed)). */
export class OpenSimplex {
  readonly seed: bigint;
  private readonly perm: Uint8Array;
  /** The seeded tables of the engine's 3-D kernel. */
  readonly tables: SimplexTables;

  constructor(seed: number | bigint) {
    this.tables = enginePermutation(seed); // checks the seed
    this.seed = typeof seed === 'bigint' ? seed : BigInt(seed);
    this.perm = this.tables.perm;
  }

  /** g · d of the lattice point (xsb, ysb). */
  private extrapolate2(xsb: number, ysb: number, dx: number, dy: number): number {
    const p = this.perm;
    const i = p[(p[xsb & 0xff] + ysb) & 0xff] & 0x0e;
    return GRAD2[i] * dx + GRAD2[i + 1] * dy;
  }

  /** The (2 − |d|²)⁴ (g · d) contribution of one 2-D lattice point (0 outside its reach). */
  private point2(xsv: number, ysv: number, dx: number, dy: number): number {
    let attn = 2 - dx * dx - dy * dy;
    if (!(attn > 0)) return 0;
    attn *= attn;
    return attn * attn * this.extrapolate2(xsv, ysv, dx, dy);
  }

  /** Noise at (x, y). */
  noise2(x: number, y: number): number {
    // Skew onto the rhombus lattice; (xsb, ysb) is the super-cell's origin.
    const stretch = (x + y) * STRETCH2;
    const xs = x + stretch;
    const ys = y + stretch;
    let xsb = Math.floor(xs);
    let ysb = Math.floor(ys);
    const squish = (xsb + ysb) * SQUISH2;
    const xins = xs - xsb;
    const yins = ys - ysb;
    const inSum = xins + yins;
    let dx0 = x - (xsb + squish);
    let dy0 = y - (ysb + squish);

    // Terms are added one at a time, in the reference's order (float sums are order-dependent).
    let value = 0;
    value += this.point2(xsb + 1, ysb + 0, dx0 - 1 - SQUISH2, dy0 - 0 - SQUISH2);
    value += this.point2(xsb + 0, ysb + 1, dx0 - 0 - SQUISH2, dy0 - 1 - SQUISH2);

    let xsvExt: number, ysvExt: number, dxExt: number, dyExt: number;
    if (inSum <= 1) {
      // The triangle at (0, 0).
      const zins = 1 - inSum;
      if (zins > xins || zins > yins) {
        if (xins > yins) {
          [xsvExt, ysvExt, dxExt, dyExt] = [xsb + 1, ysb - 1, dx0 - 1, dy0 + 1];
        } else {
          [xsvExt, ysvExt, dxExt, dyExt] = [xsb - 1, ysb + 1, dx0 + 1, dy0 - 1];
        }
      } else {
        [xsvExt, ysvExt, dxExt, dyExt] = [xsb + 1, ysb + 1, dx0 - 1 - 2 * SQUISH2, dy0 - 1 - 2 * SQUISH2];
      }
    } else {
      // The triangle at (1, 1).
      const zins = 2 - inSum;
      if (zins < xins || zins < yins) {
        if (xins > yins) {
          [xsvExt, ysvExt, dxExt, dyExt] = [xsb + 2, ysb + 0, dx0 - 2 - 2 * SQUISH2, dy0 + 0 - 2 * SQUISH2];
        } else {
          [xsvExt, ysvExt, dxExt, dyExt] = [xsb + 0, ysb + 2, dx0 + 0 - 2 * SQUISH2, dy0 - 2 - 2 * SQUISH2];
        }
      } else {
        [xsvExt, ysvExt, dxExt, dyExt] = [xsb, ysb, dx0, dy0];
      }
      xsb += 1;
      ysb += 1;
      dx0 = dx0 - 1 - 2 * SQUISH2;
      dy0 = dy0 - 1 - 2 * SQUISH2;
    }
    value += this.point2(xsb, ysb, dx0, dy0);
    value += this.point2(xsvExt, ysvExt, dxExt, dyExt);
    return value / NORM2;
  }

  /** Noise at (x, y, z) (the engine's TS N3, the simplexField3 kernel's bits). */
  noise3(x: number, y: number, z: number): number {
    return simplexNoise3(this.tables, x, y, z);
  }

  /** Noise on the grid xs × ys: [ys.length, xs.length] row-major (the package's noise2array). */
  noise2Grid(xs: ArrayLike<number>, ys: ArrayLike<number>): Float64Array {
    const out = new Float64Array(xs.length * ys.length);
    for (let j = 0; j < ys.length; j++) for (let i = 0; i < xs.length; i++) out[j * xs.length + i] = this.noise2(xs[i], ys[j]);
    return out;
  }

  /** Noise on the grid xs × ys × zs: [zs.length, ys.length, xs.length] row-major (the package's noise3array). */
  noise3Grid(xs: ArrayLike<number>, ys: ArrayLike<number>, zs: ArrayLike<number>): Float64Array {
    const nx = xs.length;
    const ny = ys.length;
    const out = new Float64Array(nx * ny * zs.length);
    for (let k = 0; k < zs.length; k++) {
      for (let j = 0; j < ny; j++) {
        const row = (k * ny + j) * nx;
        for (let i = 0; i < nx; i++) out[row + i] = this.noise3(xs[i], ys[j], zs[k]);
      }
    }
    return out;
  }
}

export interface FractalOptions {
  /** Number of octaves summed (≥ 1). */
  octaves: number;
  /** Amplitude ratio of consecutive octaves, in (0, 1]. */
  persistence: number;
  /** Period (in grid steps) of the first octave; halved at each octave (RD++ calls it `frequency`). */
  period: number;
}

/** RD++'s pseudo-anomaly noise: 6 octaves, persistence 0.6, first period 32. */
export const RDPP_FRACTAL: Readonly<FractalOptions> = Object.freeze({ octaves: 6, persistence: 0.6, period: 32 });

function checkFractal(where: string, shape: readonly number[], rank: number, o: FractalOptions): void {
  if (shape.length !== rank || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(`${where}: shape must be ${rank} non-negative integers, got [${shape.join(', ')}]`);
  }
  if (!Number.isInteger(o.octaves) || o.octaves < 1) throw new RangeError(`${where}: octaves must be an integer ≥ 1, got ${o.octaves}`);
  if (!(o.persistence > 0 && o.persistence <= 1)) throw new RangeError(`${where}: persistence must be in (0, 1], got ${o.persistence}`);
  if (!(o.period > 0 && Number.isFinite(o.period))) throw new RangeError(`${where}: period must be a positive number, got ${o.period}`);
}

/** The indices 0..n−1 divided by f (as NumPy divides an integer range by a float). */
function coords(n: number, f: number): Float64Array {
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) c[i] = i / f;
  return c;
}

/**
 * Fractal 3-D noise on the integer grid [depth, height, width] (row-major, z slowest): the
 * sum over octaves of persistenceᵒ · noise3(x/pₒ, y/pₒ, z/pₒ), pₒ = period/2ᵒ (RD++'s
 * `rand_3d_octaves(shape, octaves, persistence, frequency)`).
 */
export function fractalNoise3(noise: OpenSimplex, shape: readonly [number, number, number], opts: FractalOptions = RDPP_FRACTAL): Float64Array {
  checkFractal('fractalNoise3', shape, 3, opts);
  const [d, h, w] = shape;
  // The engine's simplexField3 kernel: slice k at z = k, the same sums in the same order.
  const t = Array.from({ length: d }, (_, k) => k);
  return simplexField3d({ seed: noise.tables, height: h, width: w, t, octaves: opts.octaves, persistence: opts.persistence, frequency: opts.period });
}

/** Fractal 2-D noise on the integer grid [height, width] (row-major): as fractalNoise3 with noise2. */
export function fractalNoise2(noise: OpenSimplex, shape: readonly [number, number], opts: FractalOptions = RDPP_FRACTAL): Float64Array {
  checkFractal('fractalNoise2', shape, 2, opts);
  const [h, w] = shape;
  const out = new Float64Array(h * w);
  let amplitude = 1;
  let period = opts.period;
  for (let o = 0; o < opts.octaves; o++) {
    const octave = noise.noise2Grid(coords(w, period), coords(h, period));
    for (let i = 0; i < out.length; i++) out[i] += amplitude * octave[i];
    period /= 2;
    amplitude *= opts.persistence;
  }
  return out;
}
