// Random fields for texture, shape perturbation, bias fields and pixel noise.
//
// Smooth fields are value noise: random values on a coarse lattice, upsampled
// to the pixel grid with separable Catmull–Rom interpolation. This costs a few
// multiply-adds per pixel, which is what keeps a 64 × 64 image under a
// millisecond, and the lattice spacing sets the feature size directly.

import type { Rng } from './rng.js';

/**
 * Adds amp × a smooth random field to `out` (size × size, row-major).
 * `cells` lattice cells span the image width, so features are about
 * size / cells pixels across. The field has zero mean and a standard deviation
 * of roughly 0.45 · amp.
 */
export function addValueNoise(out: Float32Array, size: number, rng: Rng, cells: number, amp = 1): Float32Array {
  if (!(cells >= 1)) throw new RangeError(`noise cells must be ≥ 1, got ${cells}`);
  const n = Math.ceil(cells) + 3; // lattice points per axis, with one spare on each side
  const lattice = new Float32Array(n * n);
  for (let i = 0; i < lattice.length; i++) lattice[i] = 2 * rng.float() - 1;

  // Per-pixel lattice index and Catmull–Rom weights; the same along both axes.
  const idx = new Int32Array(size);
  const w = new Float32Array(size * 4);
  for (let j = 0; j < size; j++) {
    const g = ((j + 0.5) / size) * cells + 1;
    const i0 = Math.floor(g);
    const t = g - i0;
    const t2 = t * t;
    const t3 = t2 * t;
    idx[j] = i0 - 1;
    w[4 * j] = 0.5 * (-t3 + 2 * t2 - t);
    w[4 * j + 1] = 0.5 * (3 * t3 - 5 * t2 + 2);
    w[4 * j + 2] = 0.5 * (-3 * t3 + 4 * t2 + t);
    w[4 * j + 3] = 0.5 * (t3 - t2);
  }

  // Pass 1: interpolate every lattice row along x.
  const rows = new Float32Array(n * size);
  for (let r = 0; r < n; r++) {
    const base = r * n;
    for (let j = 0; j < size; j++) {
      const k = base + idx[j];
      rows[r * size + j] =
        w[4 * j] * lattice[k] + w[4 * j + 1] * lattice[k + 1] + w[4 * j + 2] * lattice[k + 2] + w[4 * j + 3] * lattice[k + 3];
    }
  }
  // Pass 2: interpolate along y.
  for (let i = 0; i < size; i++) {
    const r0 = idx[i] * size;
    const a = amp * w[4 * i];
    const b = amp * w[4 * i + 1];
    const c = amp * w[4 * i + 2];
    const d = amp * w[4 * i + 3];
    const o = i * size;
    for (let j = 0; j < size; j++) {
      out[o + j] += a * rows[r0 + j] + b * rows[r0 + size + j] + c * rows[r0 + 2 * size + j] + d * rows[r0 + 3 * size + j];
    }
  }
  return out;
}

// Pixel noise needs two normal deviates per pixel; Box–Muller's log/sin/cos per
// pixel would dominate the run time, so normals come from a table of quantiles
// indexed by random bits (12 bits each, two per 32-bit draw). The table is
// symmetric and truncated at ±3.4σ, which is invisible in an image.
const TABLE_BITS = 12;
const NORMAL_TABLE = (() => {
  const n = 1 << TABLE_BITS;
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) t[i] = inverseNormalCdf((i + 0.5) / n);
  return t;
})();

/** Fills a and b with independent standard normal deviates (table-based, fast). */
export function fillNormalPairs(rng: Rng, a: Float32Array, b: Float32Array): void {
  const mask = (1 << TABLE_BITS) - 1;
  for (let i = 0; i < a.length; i++) {
    const u = rng.uint32();
    a[i] = NORMAL_TABLE[u & mask];
    b[i] = NORMAL_TABLE[(u >>> 16) & mask];
  }
}

/** Acklam's rational approximation of the standard normal quantile (|error| < 1.2e-9). */
export function inverseNormalCdf(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`inverseNormalCdf needs p in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -inverseNormalCdf(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
