// Score-map helpers shared by the feature-reference methods (PatchCore, PaDiM): a patch-score
// grid upsampled to the input size, then a Gaussian blur with σ = 4, in the two flavours
// the reference code bases use (feature-reference spec §2.2, §2.3, §3.1):
//
// - 'scipy' (official PatchCore): SciPy `ndimage.gaussian_filter(map, sigma)`, default
//   truncate 4 → radius int(4σ + 0.5) = 16, 33 taps; mode 'reflect' = half-sample symmetric
//   (d c b a | a b c d | d c b a: the edge value is repeated). SciPy filters axis 0, writes the
//   float32 result, then filters axis 1 of it, each pass accumulating in float64; so does this.
// - 'torch' (anomalib's GaussianBlur2d): 2·int(4σ + 0.5) + 1 = 33 taps, the same normalised
//   weights, torch 'reflect' padding = whole-sample symmetric (d c b | a b c d | c b a: the
//   edge is not repeated), then one 2-D convolution with the outer-product kernel. Done here
//   as two separable passes (the product kernel is separable), equal to the 2-D convolution
//   within float32 reordering. PyTorch refuses reflect padding wider than the map (maps
//   smaller than 17 px); here the reflection simply repeats (periodic mirror), as SciPy does.
import { interpolate, Tensor } from '../../engine/index.js';

export type BlurFlavour = 'scipy' | 'torch';

/** The 1-D Gaussian weights (normalised to sum 1) of radius int(truncate·σ + 0.5). */
export function gaussianKernel1d(sigma: number, truncate = 4): Float64Array {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new RangeError(`gaussianKernel1d: sigma must be a positive number, got ${sigma}`);
  const radius = Math.trunc(truncate * sigma + 0.5);
  const w = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp((-0.5 * i * i) / (sigma * sigma));
    w[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < w.length; i++) w[i] /= sum;
  return w;
}

/** The source index of position i (may be outside [0, n)) under the flavour's border rule. */
export function reflectIndex(i: number, n: number, flavour: BlurFlavour): number {
  if (n === 1) return 0;
  if (flavour === 'scipy') {
    // half-sample symmetric, period 2n
    const p = 2 * n;
    let j = i % p;
    if (j < 0) j += p;
    return j < n ? j : p - 1 - j;
  }
  // whole-sample symmetric, period 2(n - 1)
  const p = 2 * (n - 1);
  let j = i % p;
  if (j < 0) j += p;
  return j < n ? j : p - j;
}

/**
 * Gaussian blur of `count` maps of h × w (packed, row-major) with σ; returns new maps.
 * Rows (axis 0) first, then columns, float64 accumulation, float32 between the passes.
 */
export function gaussianBlurMaps(maps: Float32Array, count: number, h: number, w: number, opts: { sigma?: number; flavour: BlurFlavour }): Float32Array {
  const sigma = opts.sigma ?? 4;
  if (opts.flavour !== 'scipy' && opts.flavour !== 'torch') throw new TypeError(`gaussianBlurMaps: flavour must be 'scipy' or 'torch', got ${String(opts.flavour)}`);
  if (maps.length !== count * h * w) throw new RangeError(`gaussianBlurMaps: ${maps.length} values, expected count·h·w = ${count * h * w}`);
  const k = gaussianKernel1d(sigma);
  const r = (k.length - 1) / 2;
  // Source index tables: one per axis, for every output position and tap.
  const table = (n: number): Int32Array => {
    const t = new Int32Array(n * k.length);
    for (let i = 0; i < n; i++) for (let j = -r; j <= r; j++) t[i * k.length + j + r] = reflectIndex(i + j, n, opts.flavour);
    return t;
  };
  const th = table(h);
  const tw = table(w);
  const tmp = new Float32Array(h * w);
  const out = new Float32Array(maps.length);
  const K = k.length;
  for (let m = 0; m < count; m++) {
    const base = m * h * w;
    // axis 0 (down the rows)
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let acc = 0;
        for (let t = 0; t < K; t++) acc += k[t] * maps[base + th[y * K + t] * w + x];
        tmp[y * w + x] = acc;
      }
    }
    // axis 1 (along each row)
    for (let y = 0; y < h; y++) {
      const row = y * w;
      for (let x = 0; x < w; x++) {
        let acc = 0;
        for (let t = 0; t < K; t++) acc += k[t] * tmp[row + tw[x * K + t]];
        out[base + row + x] = acc;
      }
    }
  }
  return out;
}

/**
 * Patch-score grids [B, gh, gw] (packed) to [B, size, size] maps: bilinear (align_corners
 * false, as F.interpolate(mode='bilinear')) or nearest (F.interpolate's default mode).
 */
export function upsampleGrid(grid: Float32Array, count: number, gh: number, gw: number, size: number, mode: 'bilinear' | 'nearest'): Float32Array {
  if (grid.length !== count * gh * gw) throw new RangeError(`upsampleGrid: ${grid.length} values, expected count·gh·gw = ${count * gh * gw}`);
  if (count === 0) return new Float32Array(0);
  const x = Tensor.fromData(grid, [count, 1, gh, gw]);
  const y = mode === 'bilinear' ? interpolate(x, { size: [size, size], mode, alignCorners: false }) : interpolate(x, { size: [size, size], mode });
  return y.data;
}

/** Grid → upsampled → blurred maps, the whole map rule of PatchCore and PaDiM. */
export function scoreMaps(grid: Float32Array, count: number, gh: number, gw: number, size: number, opts: { upsample: 'bilinear' | 'nearest'; blur: BlurFlavour; sigma?: number }): Float32Array {
  const up = upsampleGrid(grid, count, gh, gw, size, opts.upsample);
  if (opts.sigma === 0) return up;
  return gaussianBlurMaps(up, count, size, size, { sigma: opts.sigma ?? 4, flavour: opts.blur });
}
