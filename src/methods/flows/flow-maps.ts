// Anomaly maps of the two flows.
//
// CFlow-AD (gudovskiy/cflow-ad `train.py test_meta_epoch` / `train`): per level, the fibers'
// log p̄ (float32, as the flows give them) minus the level's maximum, exponentiated in float64
// → probabilities in (0, 1]; bilinear upsampling with align_corners = True to S × S (float64);
// summed over levels → P; anomaly map = max(P) − P; image score = max of its map.
//   normalisation 'set' (reference): both maxima are taken over the WHOLE scored set, so every
//     image's map and score depend on every other image scored with it (the reference scores
//     the test split at once; so does this library: score() receives the whole split);
//   normalisation 'batch' (anomalib `cflow/anomaly_map.py`): over the images of each scoring
//     batch — an image's score then also depends on which images share its batch and on the
//     batch size, and scores from different batches are on different scales.
// anomalib computes the 'batch' form in float32; here both forms run in float64.
//
// FastFlow (anomalib `fastflow/anomaly_map.py`): per level −exp(−½·mean_C z²) ∈ [−1, 0),
// bilinear upsampling with align_corners = False to S × S, mean over levels (float32 ops);
// image score = max of the map.
import { exp, interpolate, mean, mul, neg, stack, type Tensor } from '../../engine/index.js';

/** log p̄ of every fiber of n images at one level, image-major: [n, H, W]. */
export interface LevelLogProb {
  height: number;
  width: number;
  values: Float32Array;
}

export type CFlowNormalisation = 'set' | 'batch';

/** Bilinear upsampling with align_corners = True of one h × w plane to s × s, in float64, added into `out`. */
export function addUpsampledAlignCorners(src: Float64Array, h: number, w: number, s: number, out: Float64Array): void {
  const sy = s > 1 ? (h - 1) / (s - 1) : 0;
  const sx = s > 1 ? (w - 1) / (s - 1) : 0;
  const x0s = new Int32Array(s);
  const x1s = new Int32Array(s);
  const lxs = new Float64Array(s);
  for (let x = 0; x < s; x++) {
    const fx = sx * x;
    const x0 = Math.min(Math.floor(fx), w - 1);
    x0s[x] = x0;
    x1s[x] = x0 < w - 1 ? x0 + 1 : x0;
    lxs[x] = fx - x0;
  }
  for (let y = 0; y < s; y++) {
    const fy = sy * y;
    const y0 = Math.min(Math.floor(fy), h - 1);
    const y1 = y0 < h - 1 ? y0 + 1 : y0;
    const ly = fy - y0;
    const r0 = y0 * w;
    const r1 = y1 * w;
    const o = y * s;
    for (let x = 0; x < s; x++) {
      const lx = lxs[x];
      const a = (1 - lx) * src[r0 + x0s[x]] + lx * src[r0 + x1s[x]];
      const b = (1 - lx) * src[r1 + x0s[x]] + lx * src[r1 + x1s[x]];
      out[o + x] += (1 - ly) * a + ly * b;
    }
  }
}

/** P of image i of a group: Σ_levels upsample(exp(log p̄ − max_level)), float64 S × S. */
function probabilitySum(levels: readonly LevelLogProb[], maxima: Float64Array, i: number, s: number, out: Float64Array): void {
  out.fill(0);
  levels.forEach((l, k) => {
    const hw = l.height * l.width;
    const plane = new Float64Array(hw);
    for (let j = 0; j < hw; j++) plane[j] = Math.exp(l.values[i * hw + j] - maxima[k]);
    addUpsampledAlignCorners(plane, l.height, l.width, s, out);
  });
}

/**
 * CFlow-AD maps (S × S per image, float32) and image scores of n images from their per-level
 * log p̄, normalised over the whole set or over consecutive groups of `batchSize` images.
 */
export function cflowMaps(levels: readonly LevelLogProb[], n: number, size: number, normalisation: CFlowNormalisation, batchSize = n): { maps: Float32Array[]; scores: Float32Array } {
  const group = normalisation === 'set' ? Math.max(1, n) : batchSize;
  if (!(Number.isInteger(group) && group >= 1)) throw new RangeError(`cflowMaps: batchSize must be a positive integer, got ${batchSize}`);
  const maps: Float32Array[] = [];
  const scores = new Float32Array(n);
  const P = new Float64Array(size * size);
  for (let g0 = 0; g0 < n; g0 += group) {
    const g1 = Math.min(n, g0 + group);
    const maxima = new Float64Array(levels.length);
    levels.forEach((l, k) => {
      const hw = l.height * l.width;
      let m = -Infinity;
      for (let j = g0 * hw; j < g1 * hw; j++) if (l.values[j] > m) m = l.values[j];
      maxima[k] = m;
    });
    // Two passes: the group's max of P first, then each map as max − P (P recomputed: the
    // maps of a large test set need not be held in float64).
    let top = -Infinity;
    for (let i = g0; i < g1; i++) {
      probabilitySum(levels, maxima, i, size, P);
      for (let j = 0; j < P.length; j++) if (P[j] > top) top = P[j];
    }
    for (let i = g0; i < g1; i++) {
      probabilitySum(levels, maxima, i, size, P);
      const map = new Float32Array(P.length);
      let best = -Infinity;
      for (let j = 0; j < P.length; j++) {
        const v = top - P[j];
        map[j] = v;
        if (v > best) best = v;
      }
      maps.push(map);
      scores[i] = best;
    }
  }
  return { maps, scores };
}

/** FastFlow's map [B, S, S]: mean over levels of upsample(−exp(−½·mean_C z²)) (align_corners false). */
export function fastflowMap(z: readonly Tensor[], size: number): Tensor {
  const per = z.map((zl) => {
    const prob = exp(mul(mean(mul(zl, zl), 1, true), -0.5));
    return interpolate(neg(prob), { size, mode: 'bilinear', alignCorners: false });
  });
  return mean(stack(per, -1), -1).reshape([z[0].shape[0], size, size]);
}
