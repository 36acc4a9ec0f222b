// The noise fields of the diffusion process (diffusion spec §2.4): Gaussian N(0, I), or
// AnoDDPM's multi-octave 3-D OpenSimplex field. Every draw is fresh and comes from the
// seeded Generator the source was made with, so the same seed gives the same fields.
//
// Simplex rules (`generate_simplex_noise`): each call draws a new seed per channel (the
// reference: a uniform integer in [−10¹⁰, 10¹⁰)), and the level t only selects the z slice
// (coordinates j/f_k, i/f_k, t/f_k). The reference runs batch 1, so every image has its own
// field; `perImage: false` is the ci-ber/autoDDPM port's behaviour (one field for the whole
// batch). Fields are not normalised (std ≈ 0.48 for 6 octaves, p 0.8, wavelength 64).
import { randn, simplexField3d, Tensor, type Generator } from '../../engine/index.js';

export type NoiseKind = 'gaussian' | 'simplex';

export interface NoiseSource {
  kind: NoiseKind;
  /** a fresh field of `shape` for level t */
  draw(shape: number[], t: number): Tensor;
}

export interface SimplexNoiseOptions {
  /** Octaves summed (AnoDDPM 6). */
  octaves: number;
  /** Amplitude ratio of consecutive octaves (0.8). */
  persistence: number;
  /** Wavelength of the first octave in pixels, halved per octave (64). */
  frequency: number;
  /** One field per image (the reference at batch 1) or one shared by the batch (ci-ber port). */
  perImage: boolean;
}

function checkShape(shape: number[], who: string): void {
  if (!Array.isArray(shape) || shape.length !== 4 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new RangeError(`${who}: shape must be [B, C, H, W] of positive integers, got ${JSON.stringify(shape)}`);
  }
}

export function gaussianNoise(g: Generator): NoiseSource {
  return {
    kind: 'gaussian',
    draw(shape: number[]): Tensor {
      checkShape(shape, 'gaussianNoise.draw');
      return randn(shape, { generator: g });
    },
  };
}

/** The reference's seed draw: a uniform integer in [−10¹⁰, 10¹⁰). */
function drawSeed(g: Generator): number {
  return Math.floor(g.uniform() * 2e10) - 1e10;
}

export function simplexNoise(g: Generator, o: SimplexNoiseOptions): NoiseSource {
  const who = 'simplexNoise';
  if (!Number.isInteger(o?.octaves) || o.octaves < 1 || o.octaves > 64) throw new RangeError(`${who}: octaves must be an integer in [1, 64], got ${String(o?.octaves)}`);
  if (!(o.persistence > 0) || !Number.isFinite(o.persistence)) throw new RangeError(`${who}: persistence must be a finite number > 0, got ${String(o.persistence)}`);
  if (!(o.frequency > 0) || !Number.isFinite(o.frequency)) throw new RangeError(`${who}: frequency (a wavelength in pixels) must be a finite number > 0, got ${String(o.frequency)}`);
  const field = (h: number, w: number, t: number): Float64Array =>
    simplexField3d({ seed: drawSeed(g), height: h, width: w, t, octaves: o.octaves, persistence: o.persistence, frequency: o.frequency });
  return {
    kind: 'simplex',
    draw(shape: number[], t: number): Tensor {
      checkShape(shape, `${who}.draw`);
      if (typeof t !== 'number' || !Number.isFinite(t)) throw new RangeError(`${who}.draw: t must be a finite number, got ${String(t)}`);
      const [b, c, h, w] = shape;
      const plane = h * w;
      const out = Tensor.empty(shape);
      const d = out.data;
      const images = o.perImage ? b : 1;
      for (let i = 0; i < images; i++) {
        for (let ch = 0; ch < c; ch++) {
          const f = field(h, w, t);
          for (let k = 0; k < plane; k++) d[(i * c + ch) * plane + k] = f[k];
        }
      }
      if (!o.perImage) for (let i = 1; i < b; i++) d.copyWithin(i * c * plane, 0, c * plane);
      return out;
    },
  };
}

/**
 * Fields for a batch whose images sit at different levels (training): Gaussian in one
 * draw; simplex one image at a time, each at its own level (its own z slice).
 */
export function drawAtLevels(src: NoiseSource, shape: number[], levels: Int32Array): Tensor {
  checkShape(shape, 'drawAtLevels');
  if (levels.length !== shape[0]) throw new RangeError(`drawAtLevels: ${levels.length} levels for a batch of ${shape[0]}`);
  if (src.kind === 'gaussian') return src.draw(shape, levels[0]);
  const [b, c, h, w] = shape;
  const per = c * h * w;
  const out = Tensor.empty(shape);
  for (let i = 0; i < b; i++) out.data.set(src.draw([1, c, h, w], levels[i]).data, i * per);
  return out;
}
