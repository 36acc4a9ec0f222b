// AUPRO: area under the per-region-overlap curve up to a false-positive-rate limit,
// normalised by the limit (feature-reference.md §5.5).
//
//  - Regions: 8-connected components of each image's mask; every region counts equally.
//  - At threshold t (anomalous when score ≥ t; over distinct scores the strict and the
//    non-strict rule trace the same points): FPR = FP / #normal pixels over all images,
//    PRO = mean over regions R of |R ∩ predicted| / |R|.
//  - Curve from (0, 0) through every distinct score (ties merged) to (1, 1); trapezoid
//    rule up to FPR = limit with PRO linearly interpolated there; divided by the limit,
//    so a perfect detector scores 1 and nothing valid exceeds 1.
//
// Exact and O(P log P): one sort of the anomalous pixels carrying their region id (the
// weight 1/|R| is looked up per pixel) and one of the normal pixels, then one descending
// merge. PRO(t) = (1/K) Σ_{anomalous p with s_p ≥ t} 1/|R(p)|.

import { checkFprLimit, type ExactMode } from './options.js';
import { countPixels, type FloatArray } from './pool.js';
import { sortFloat } from './radix.js';
import { imageWidth, labelRegions } from './regions.js';
import type { MaskArray, ScoreMap } from './validate.js';

export interface AuproOptions extends ExactMode {
  /** Integration limit on the FPR axis, in (0, 1]; default 0.3. */
  fprLimit?: number;
  /** Image width in pixels; inferred for square maps when omitted. */
  width?: number;
}

/** Accumulates the clipped trapezoid area of a monotone curve given point by point. */
export class ClippedArea {
  area = 0;
  private prevX = 0;
  private prevY = 0;
  done = false;
  constructor(readonly limit: number) {}

  /** Adds the segment to (x, y); returns the width it contributed inside the limit. */
  add(x: number, y: number): number {
    if (this.done) return 0;
    const w = x - this.prevX;
    if (x <= this.limit) {
      this.area += (w * (y + this.prevY)) / 2;
      this.prevX = x;
      this.prevY = y;
      if (x === this.limit) this.done = true;
      return w;
    }
    const part = this.limit - this.prevX;
    const yAt = this.prevY + ((y - this.prevY) * part) / w;
    this.area += (part * (yAt + this.prevY)) / 2;
    this.done = true;
    return part;
  }
}

/** Exact AUPRO of pooled maps and masks. */
export function auproExact(maps: ArrayLike<ScoreMap>, masks: ArrayLike<MaskArray>, opts?: AuproOptions): number {
  const metric = 'aupro';
  const limit = checkFprLimit(metric, opts?.fprLimit);
  const counts = countPixels(metric, maps, masks);
  const pos: FloatArray = counts.float32 ? new Float32Array(counts.positives) : new Float64Array(counts.positives);
  const neg: FloatArray = counts.float32 ? new Float32Array(counts.negatives) : new Float64Array(counts.negatives);
  const region = new Uint32Array(counts.positives);
  const weights: number[] = [0];
  let p = 0;
  let q = 0;
  for (let i = 0; i < maps.length; i++) {
    const map = maps[i];
    const width = imageWidth(metric, map.length, opts?.width, i);
    const { labels, sizes } = labelRegions(masks[i], width, map.length / width);
    const base = weights.length - 1;
    for (const size of sizes) weights.push(1 / size);
    for (let j = 0; j < map.length; j++) {
      const r = labels[j];
      if (r > 0) {
        pos[p] = map[j];
        region[p++] = base + r;
      } else neg[q++] = map[j];
    }
  }
  const regions = weights.length - 1;
  sortFloat(pos, region);
  sortFloat(neg);

  const P = pos.length;
  const N = neg.length;
  const curve = new ClippedArea(limit);
  let i = P - 1;
  let j = N - 1;
  let fp = 0;
  let overlap = 0; // Σ 1/|R| over anomalous pixels above the threshold
  while ((i >= 0 || j >= 0) && !curve.done) {
    const v = i < 0 ? neg[j] : j < 0 ? pos[i] : pos[i] > neg[j] ? pos[i] : neg[j];
    while (i >= 0 && pos[i] === v) overlap += weights[region[i--]];
    while (j >= 0 && neg[j] === v) {
      fp++;
      j--;
    }
    // The last point is (1, 1) by construction; pin it so rounding in Σ 1/|R| cannot
    // push PRO above 1.
    const pro = i < 0 ? 1 : Math.min(overlap / regions, 1);
    curve.add(fp / N, pro);
  }
  const value = curve.area / limit;
  if (!(value >= 0 && value <= 1 + 1e-12)) throw new Error(`aupro: internal error, value ${value} outside [0, 1]`);
  return Math.min(value, 1);
}
