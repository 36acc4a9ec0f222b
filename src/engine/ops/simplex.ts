// Seeded multi-octave 3-D OpenSimplex noise (K. Spencer's 2014 OpenSimplex as the Python
// package lmas/opensimplex v0.4 computes it), float64, through the simplexField3 kernel:
// AnoDDPM's `rand_3d_fixed_T_octaves` (defaults 6 octaves, persistence 0.8, wavelength 64)
// and RD++'s `rand_3d_octaves` (src/anomalies/simplex-noise.ts: several z slices, 0.6, 32)
// are both one call.
//
// Seeding (the package's `_init`) stays here, in BigInt: s ← seed; three times s ← LCG(s);
// then for i = 255 … 0: s ← LCG(s); r = (s + 31) mod (i + 1) (Python's non-negative modulo of
// the unwrapped sum); perm[i] = source[r]; pgi3[i] = (perm[i] mod 24)·3; source[r] =
// source[i]; LCG(s) = s·6364136223846793005 + 1442695040888963407 wrapped to signed 64 bits.
import { kernels } from '../../backend/registry.js';
import type { SimplexFieldParams } from '../../backend/types.js';
import { simplexNoise3 as noise3 } from '../../backend/ts/simplex.js';

/** The LCG's multiplier and increment (Knuth's MMIX). */
const LCG_A = 6364136223846793005n;
const LCG_C = 1442695040888963407n;

/** The seeded tables: perm, the 3-D gradient offset of each entry, and both as the kernel's Int32Array [512]. */
export interface SimplexTables {
  perm: Uint8Array;
  gradIndex3: Uint8Array;
  tables: Int32Array;
}

function toSeed(seed: number | bigint): bigint {
  if (typeof seed === 'bigint') return seed;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new TypeError(`OpenSimplex: seed must be a safe integer or a bigint, got ${String(seed)}`);
  }
  return BigInt(seed);
}

/** The permutation of a seed and the 3-D gradient offset of each entry (the package's `_init`). */
export function simplexPermutation(seed: number | bigint): SimplexTables {
  let s = toSeed(seed);
  const step = (v: bigint): bigint => BigInt.asIntN(64, v * LCG_A + LCG_C);
  s = step(step(step(s)));
  const source = new Uint8Array(256);
  for (let i = 0; i < 256; i++) source[i] = i;
  const perm = new Uint8Array(256);
  const gradIndex3 = new Uint8Array(256);
  for (let i = 255; i >= 0; i--) {
    s = step(s);
    const m = BigInt(i + 1);
    // Python's modulo of the unwrapped s + 31: never negative.
    const r = Number((((s + 31n) % m) + m) % m);
    perm[i] = source[r];
    gradIndex3[i] = (perm[i] % 24) * 3;
    source[r] = source[i];
  }
  const tables = new Int32Array(512);
  tables.set(perm, 0);
  tables.set(gradIndex3, 256);
  return { perm, gradIndex3, tables };
}

/** One value N3(x, y, z) of the seeded tables (TS, float64: the kernel's bits). */
export function simplexNoise3(t: SimplexTables, x: number, y: number, z: number): number {
  return noise3(t.tables, x, y, z);
}

export interface SimplexField3dOptions {
  /** An integer seed (number or bigint, any size: 64-bit wrap-around), or tables already seeded. */
  seed: number | bigint | SimplexTables;
  height: number;
  width: number;
  /** The z coordinate of each slice (not divided yet); one number: one slice. Default 0. */
  t?: number | readonly number[];
  /** Octaves summed, 1 … 64 (default 6). */
  octaves?: number;
  /** Amplitude ratio of consecutive octaves (default 0.8). */
  persistence?: number;
  /** Wavelength of octave 0 in pixels, halved per octave (AnoDDPM's `frequency`, default 64). */
  frequency?: number;
  /** Grid origin: column j sits at x0 + j, row i at y0 + i (default 0: the reference's grid). */
  x0?: number;
  y0?: number;
}

/** AnoDDPM's defaults (`generate_simplex_noise`): 6 octaves, persistence 0.8, wavelength 64. */
export const ANODDPM_SIMPLEX = Object.freeze({ octaves: 6, persistence: 0.8, frequency: 64 });

/**
 * value[k, i, j] = Σ_{o<K} p^o · N3((x0+j)/f_o, (y0+i)/f_o, t_k/f_o), f_o = f_0/2^o (amplitudes and
 * wavelengths formed by repeated ·p and /2, the sum from 0 in octave order): a Float64Array
 * [t.length, height, width], not normalised. Threaded over rows; the same bits on every
 * backend and thread count.
 */
export function simplexField3d(o: SimplexField3dOptions): Float64Array {
  const op = 'simplexField3d';
  const tables = typeof o.seed === 'object' && o.seed !== null ? o.seed : simplexPermutation(o.seed);
  if (!(tables.tables instanceof Int32Array) || tables.tables.length !== 512) throw new TypeError(`${op}: seed tables must hold an Int32Array [512]`);
  const size = (name: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 31) throw new RangeError(`${op}: ${name} must be an integer in [0, 2^31], got ${String(v)}`);
    return v;
  };
  const height = size('height', o.height);
  const width = size('width', o.width);
  const ts = o.t === undefined ? [0] : typeof o.t === 'number' ? [o.t] : o.t;
  if (!Array.isArray(ts) && !ArrayBuffer.isView(ts)) throw new TypeError(`${op}: t must be a number or an array of numbers`);
  for (const v of ts) if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${op}: t must hold finite numbers, got ${String(v)}`);
  const octaves = o.octaves ?? ANODDPM_SIMPLEX.octaves;
  if (!Number.isInteger(octaves) || octaves < 1 || octaves > 64) throw new RangeError(`${op}: octaves must be an integer in [1, 64], got ${String(octaves)}`);
  const persistence = o.persistence ?? ANODDPM_SIMPLEX.persistence;
  if (typeof persistence !== 'number' || !Number.isFinite(persistence)) throw new RangeError(`${op}: persistence must be a finite number, got ${String(persistence)}`);
  const period = o.frequency ?? ANODDPM_SIMPLEX.frequency;
  if (typeof period !== 'number' || !(period > 0) || !Number.isFinite(period)) throw new RangeError(`${op}: frequency (a wavelength in pixels) must be a finite number > 0, got ${String(period)}`);
  const x0 = o.x0 ?? 0;
  const y0 = o.y0 ?? 0;
  if (typeof x0 !== 'number' || !Number.isFinite(x0) || typeof y0 !== 'number' || !Number.isFinite(y0)) throw new RangeError(`${op}: x0 and y0 must be finite numbers, got ${String(x0)}, ${String(y0)}`);
  const p: SimplexFieldParams = { depth: ts.length, height, width, octaves, persistence, period, x0, y0 };
  const n = ts.length * height * width;
  if (n > 2 ** 31) throw new RangeError(`${op}: ${ts.length}·${height}·${width} values is too many`);
  const out = new Float64Array(n);
  kernels().simplexField3(p, tables.tables, Float64Array.from(ts), out);
  return out;
}
