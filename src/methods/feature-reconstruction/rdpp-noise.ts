// RD++'s simplex-noise pseudo-anomalies (tientrandinh/Revisiting-Reverse-Distillation
// `dataset/dataset.py` MVTecDataset_train, `dataset/noise.py`): one rectangle per training
// image receives fractal OpenSimplex noise.
//
// Per image, in this order (the official per-item draws of np.random.randint):
//   height, width  uniform integers in [patchMin, patchMax]   (official [10, 31]: randint(10, 256//8))
//   top, left      uniform integers in [1, S − size − 1]      (randint(1, 256 − size))
// The noise is 3-D fractal OpenSimplex (6 octaves, persistence 0.6, first period 32) on the
// integer grid [3, height, width], channel c taking the slice z = c, and the image becomes
// image + strength·noise inside the rectangle (strength 0.2 on the 0–1 scale, i.e. 0.4 on the
// [-1, 1] scale used here), with no clipping. Grey images are repeated to three channels
// first, as the backbone would, so each channel still gets its own slice.
//
// Quirk (the default, `field: 'fixed'`): the official dataset seeds its noise object once and
// every call evaluates the field from coordinate 0, so every patch is the top-left crop of one
// fixed field; only the rectangle's size and place vary. `field: 'fresh'` draws a new seed per
// image (what calling newSeed() per item would do), which varies the texture too.
import { Tensor, type Generator } from '../../engine/index.js';
import { fractalNoise3, OpenSimplex, RDPP_FRACTAL, type FractalOptions } from '../../anomalies/simplex-noise.js';

export interface SimplexPatchOptions {
  /** Smallest patch side in pixels (official 10). */
  patchMin: number;
  /** Largest patch side in pixels, inclusive (official 31). */
  patchMax: number;
  /** Noise amplitude on the 0–1 image scale (official 0.2). */
  strength: number;
  /** 'fixed' (official quirk): one field for every patch; 'fresh': a new field per image. */
  field: 'fixed' | 'fresh';
  fractal?: FractalOptions;
}

export const RDPP_PATCH_DEFAULTS: Readonly<SimplexPatchOptions> = Object.freeze({ patchMin: 10, patchMax: 31, strength: 0.2, field: 'fixed' });

/** One image's rectangle and (field 'fresh') its noise seed. */
export interface PatchDraw {
  height: number;
  width: number;
  top: number;
  left: number;
  /** The image's own field seed, or null for the fixed field. */
  seed: bigint | null;
}

/** A seed as the official newSeed() draws one: an integer in [−10¹⁰, 10¹⁰). */
export function drawNoiseSeed(g: Generator): bigint {
  return BigInt(Math.floor(g.uniform() * 2e10) - 1e10);
}

/** Checks patch options against the image side S; throws naming the option. */
export function checkPatchOptions(where: string, size: number, o: SimplexPatchOptions): void {
  if (!Number.isInteger(o.patchMin) || o.patchMin < 1) throw new RangeError(`${where}: option "noisePatchMin" must be an integer ≥ 1, got ${o.patchMin}`);
  if (!Number.isInteger(o.patchMax) || o.patchMax < o.patchMin) {
    throw new RangeError(`${where}: option "noisePatchMax" must be an integer ≥ noisePatchMin (${o.patchMin}), got ${o.patchMax}`);
  }
  if (o.patchMax > size - 2) {
    throw new RangeError(`${where}: option "noisePatchMax" (${o.patchMax}) must be at most size − 2 = ${size - 2}: the patch's corner is drawn in [1, size − side − 1]`);
  }
  if (!(o.strength >= 0 && Number.isFinite(o.strength))) throw new RangeError(`${where}: option "noiseStrength" must be a finite number ≥ 0, got ${o.strength}`);
  if (o.field !== 'fixed' && o.field !== 'fresh') throw new RangeError(`${where}: option "noiseField" must be 'fixed' or 'fresh', got ${String(o.field)}`);
}

/** Uniform integer in [lo, hi] (both inclusive). */
const between = (g: Generator, lo: number, hi: number): number => lo + g.int(hi - lo + 1);

export class SimplexPseudoAnomalies {
  private readonly fractal: FractalOptions;
  private readonly fixed: OpenSimplex;
  /** The fixed field on [3, patchMax, patchMax]; every patch is its top-left crop. */
  private fixedField: Float64Array | null = null;

  /** `fieldSeed`: the seed of the fixed field (drawn once per fit). */
  constructor(
    readonly size: number,
    readonly opts: SimplexPatchOptions,
    fieldSeed: bigint,
  ) {
    checkPatchOptions('SimplexPseudoAnomalies', size, opts);
    this.fractal = opts.fractal ?? RDPP_FRACTAL;
    this.fixed = new OpenSimplex(fieldSeed);
  }

  /** One image's draws, in the official order: height, width, top, left (then the seed of a fresh field). */
  draw(g: Generator): PatchDraw {
    const { patchMin, patchMax, field } = this.opts;
    const height = between(g, patchMin, patchMax);
    const width = between(g, patchMin, patchMax);
    const top = between(g, 1, this.size - height - 1);
    const left = between(g, 1, this.size - width - 1);
    return { height, width, top, left, seed: field === 'fresh' ? drawNoiseSeed(g) : null };
  }

  /** The patch's noise, [3, height, width] row-major. */
  noise(d: PatchDraw): Float64Array {
    if (d.seed !== null) return fractalNoise3(new OpenSimplex(d.seed), [3, d.height, d.width], this.fractal);
    const m = this.opts.patchMax;
    if (d.height > m || d.width > m) return fractalNoise3(this.fixed, [3, d.height, d.width], this.fractal);
    // Each grid value depends on its coordinates only, so the crop equals a direct evaluation.
    this.fixedField ??= fractalNoise3(this.fixed, [3, m, m], this.fractal);
    const out = new Float64Array(3 * d.height * d.width);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < d.height; i++) {
        for (let j = 0; j < d.width; j++) out[(c * d.height + i) * d.width + j] = this.fixedField[(c * m + i) * m + j];
      }
    }
    return out;
  }

  /**
   * The noisy copy [B, 3, S, S] of images x [B, C, S, S] in [-1, 1] (C 1 or 3; grey is
   * repeated), one patch per image as given.
   */
  applyDraws(x: Tensor, draws: readonly PatchDraw[]): Tensor {
    const [b, c, h, w] = x.shape;
    if (x.ndim !== 4 || (c !== 1 && c !== 3) || h !== this.size || w !== this.size) {
      throw new RangeError(`SimplexPseudoAnomalies: expected images [B, 1 or 3, ${this.size}, ${this.size}], got [${x.shape.join(', ')}]`);
    }
    if (draws.length !== b) throw new RangeError(`SimplexPseudoAnomalies: ${draws.length} patches for ${b} images`);
    const hw = h * w;
    const out = new Float32Array(b * 3 * hw);
    const src = x.data;
    for (let n = 0; n < b; n++) for (let ch = 0; ch < 3; ch++) out.set(src.subarray((n * c + (c === 3 ? ch : 0)) * hw, (n * c + (c === 3 ? ch : 0) + 1) * hw), (n * 3 + ch) * hw);
    // strength is on the 0–1 scale; these images are on [-1, 1], twice as wide.
    const k = 2 * this.opts.strength;
    draws.forEach((d, n) => {
      const noise = this.noise(d);
      for (let ch = 0; ch < 3; ch++) {
        for (let i = 0; i < d.height; i++) {
          const row = (n * 3 + ch) * hw + (d.top + i) * w + d.left;
          const nrow = (ch * d.height + i) * d.width;
          for (let j = 0; j < d.width; j++) out[row + j] += k * noise[nrow + j];
        }
      }
    });
    return Tensor.fromData(out, [b, 3, h, w]);
  }

  /** Draws a patch per image from `g` (image order) and returns the noisy copy with the draws. */
  apply(x: Tensor, g: Generator): { noisy: Tensor; draws: PatchDraw[] } {
    const draws = Array.from({ length: x.shape[0] }, () => this.draw(g));
    return { noisy: this.applyDraws(x, draws), draws };
  }
}
