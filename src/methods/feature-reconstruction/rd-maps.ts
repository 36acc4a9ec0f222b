// The anomaly map of the reverse-distillation family (hq-deng/RD4AD `test.py
// cal_anomaly_map`; RD++ and ReContrast use the same function): for each level k the pixel
// cosine distance between teacher and student maps, upsampled to the image size with
// bilinear interpolation and align_corners = True, combined over the levels by sum (the
// official amap_mode 'a') or product ('mul'; anomalib's AnomalyMapGenerator default, which
// the BMAD configs use), then smoothed with a Gaussian of σ = 4: SciPy's gaussian_filter
// ('scipy', official) or anomalib's GaussianBlur2d ('torch'; border handling differs, see
// feature-reference/maps.ts).
//
// The official code sums the float32 level maps into a float64 array and filters that;
// here the sum is float32 and the filter accumulates in float64 with a float32 intermediate,
// a difference of float32 rounding.
import { interpolate, noGrad, Tensor } from '../../engine/index.js';
import type { BatchScore } from '../training/base.js';
import { gaussianBlurMaps } from '../feature-reference/maps.js';
import { pixelCosineDistance } from './cosine.js';

export interface RdMapOptions {
  combine: 'add' | 'multiply';
  blur: 'scipy' | 'torch' | 'none';
  sigma: number;
}

/**
 * Per image, the S×S map from teacher/student pairs [E_k, D_k] ([B, C_k, H_k, W_k] each).
 * Runs without recording gradients.
 */
export function rdAnomalyMaps(pairs: [Tensor, Tensor][], size: number, opts: RdMapOptions): Float32Array[] {
  if (!Array.isArray(pairs) || pairs.length === 0) throw new TypeError('rdAnomalyMaps: pairs must be a non-empty array of [teacher, student] maps');
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`rdAnomalyMaps: size must be a positive integer, got ${size}`);
  const { combine, blur, sigma } = opts;
  if (combine !== 'add' && combine !== 'multiply') throw new TypeError(`rdAnomalyMaps: combine must be 'add' or 'multiply', got ${String(combine)}`);
  if (blur !== 'scipy' && blur !== 'torch' && blur !== 'none') throw new TypeError(`rdAnomalyMaps: blur must be 'scipy', 'torch' or 'none', got ${String(blur)}`);
  if (blur !== 'none' && !(sigma > 0 && Number.isFinite(sigma))) throw new RangeError(`rdAnomalyMaps: sigma must be a positive number, got ${sigma}`);
  const B = pairs[0][0].shape[0];
  const per = size * size;
  const acc = new Float32Array(B * per).fill(combine === 'add' ? 0 : 1);
  noGrad(() => {
    for (const [t, s] of pairs) {
      if (t.shape[0] !== B) throw new RangeError(`rdAnomalyMaps: every level must hold the same ${B} images, got [${t.shape.join(', ')}]`);
      const up = interpolate(pixelCosineDistance(t, s), { size: [size, size], mode: 'bilinear', alignCorners: true }).data;
      if (combine === 'add') for (let i = 0; i < acc.length; i++) acc[i] += up[i];
      else for (let i = 0; i < acc.length; i++) acc[i] *= up[i];
    }
  });
  const out = blur === 'none' ? acc : gaussianBlurMaps(acc, B, size, size, { sigma, flavour: blur });
  const maps: Float32Array[] = [];
  for (let i = 0; i < B; i++) maps.push(out.slice(i * per, (i + 1) * per));
  return maps;
}

/** The maps of `rdAnomalyMaps` packed as [B, S, S], with each image's score = its map's maximum (RD4AD, RD++). */
export function rdBatchScore(pairs: [Tensor, Tensor][], size: number, opts: RdMapOptions): BatchScore {
  const maps = rdAnomalyMaps(pairs, size, opts);
  const packed = new Float32Array(maps.length * size * size);
  const scores = new Float32Array(maps.length);
  maps.forEach((m, i) => {
    packed.set(m, i * size * size);
    let mx = -Infinity;
    for (const v of m) if (v > mx) mx = v;
    scores[i] = mx;
  });
  return { maps: Tensor.fromData(packed, [maps.length, size, size]), scores };
}
