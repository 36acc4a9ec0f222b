// Streaming pooled pixel metrics: fixed-width bins over a known score range.
//
// For pixel counts too large to sort (BraTS2021 at 256 px pools ≈ 1.8·10⁸ pixels), maps
// are added one image at a time into per-bin counts of normal pixels, anomalous pixels
// and the PRO weight Σ 1/|R| of anomalous pixels; memory is O(bins), independent of the
// pixel count. Binning merges the scores inside a bin into one tied group; the binned
// metric is the exact metric of those merged scores.
//
// Error bounds. Binning is monotone (score order is never reversed across bins), so
// the exact curve differs from the binned one only inside each bin. Let, walking bins
// from the top score down, TP_b / FP_b be the cumulative anomalous / normal counts after
// bin b, dp_b / dn_b the counts in bin b, n₊ / n₋ the class totals. Every bound below
// is computed from these counts and is guaranteed: |exact − value| ≤ errorBound.
//
//  - AUROC: only pairs (anomalous, normal) inside the same bin change (exact 0 or 1 or
//    ½, binned ½), so errorBound = Σ_b dp_b·dn_b / (2 n₊ n₋).
//  - AP: an anomalous pixel in bin b has, at its exact threshold, TP ∈ [TP_{b−1}+1, TP_b]
//    and FP ∈ [FP_{b−1}, FP_b]; precision is increasing in TP and decreasing in FP, so
//    its precision lies in [lo_b, hi_b] = [(TP_{b−1}+1)/(TP_{b−1}+1+FP_b),
//    TP_b/(TP_b+FP_{b−1})], which also contains the binned precision TP_b/(TP_b+FP_b).
//    errorBound = Σ_b dp_b·max(hi_b − binned_b, binned_b − lo_b) / n₊.
//  - AUPRO (and the ROC area, same argument): inside a bin the exact curve is monotone
//    from (FPR_{b−1}, PRO_{b−1}) to (FPR_b, PRO_b), so its area lies between the lower
//    and the upper rectangle; the binned trapezoid is their midpoint: error ≤ ½·ΔFPR·ΔPRO
//    per bin, ≤ ΔFPR_clipped·ΔPRO for the bin cut by the FPR limit; divided by the limit.
//  - Dice/F1 over all thresholds (score ≥ t): "bin ≥ b" is an exact threshold (the
//    smallest score in those bins), so the binned maximum is attained exactly; a
//    threshold inside bin b has F1 ≤ 2TP_b/(TP_b + FP_{b−1} + n₊). value = binned max,
//    errorBound = max_b of that upper bound − value.
//  - Reference quantile Dice: the bin holding each rank j·s is known from the
//    cumulative counts; inside it TP ∈ [n₊ − P_{≤b}, n₊ − P_{<b}] and FP likewise, which
//    brackets Dice_j; the maximum over j lies between the largest lower and the largest
//    upper bracket; value = midpoint, errorBound = half the width.
//
// The bounds shrink with the mass per bin: for continuous scores spread over the range
// they fall roughly like 1/bins; a bin holding many tied scores (e.g. an exact 0
// background) keeps its own share, which the bound reports honestly.

import { ClippedArea } from './aupro.js';
import { type Approximate, checkBins, checkFprLimit, checkQuantiles } from './options.js';
import { imageWidth, labelRegions } from './regions.js';
import {
  type MaskArray,
  type ScoreMap,
  checkArrayLike,
  checkMapValues,
  countMaskPositives,
  fail,
  isPositive,
} from './validate.js';

export interface HistogramOptions {
  /** Smallest score that will be added. */
  min: number;
  /** Largest score that will be added. */
  max: number;
  /** Number of equal-width bins over [min, max] (default 65536). */
  bins?: number;
  /** Image width for AUPRO regions; inferred per map for square maps when omitted. */
  width?: number;
}

export interface StreamingDice extends Approximate {
  /** Always true: thresholds are chosen on the scored data. */
  oracle: true;
}

/** First pass of the streaming mode: the score range of all maps (validated finite). */
export function scoreRange(maps: ArrayLike<ScoreMap>): { min: number; max: number } {
  checkArrayLike('scoreRange', 'maps', maps);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < maps.length; i++) {
    const map = maps[i];
    checkArrayLike('scoreRange', `maps[${i}]`, map);
    checkMapValues('scoreRange', map, i);
    for (let j = 0; j < map.length; j++) {
      const v = map[j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (min > max) fail('scoreRange', 'maps contain no pixel');
  return { min, max };
}

export class PixelHistogram {
  readonly bins: number;
  readonly min: number;
  readonly max: number;
  private readonly scale: number;
  private readonly width: number | undefined;
  /** Per-bin counts of anomalous and normal pixels, and Σ 1/|R| of anomalous pixels. */
  private readonly posCount: Float64Array;
  private readonly negCount: Float64Array;
  private readonly proWeight: Float64Array;
  positives = 0;
  negatives = 0;
  regions = 0;
  images = 0;
  /** Index of the first map whose regions could not be labelled (non-square, no width). */
  private unlabelled: number | null = null;
  /** Per-pixel bin indices of the image being added (reused). */
  private scratch = new Uint32Array(0);

  constructor(opts: HistogramOptions) {
    const metric = 'PixelHistogram';
    const { min, max } = opts ?? ({} as HistogramOptions);
    if (typeof min !== 'number' || typeof max !== 'number' || !Number.isFinite(min) || !Number.isFinite(max) || min > max) {
      fail(metric, `options.min and options.max must be finite numbers with min ≤ max, got ${String(min)} and ${String(max)}`);
    }
    this.bins = checkBins(metric, opts.bins);
    this.min = min;
    this.max = max;
    this.scale = max > min ? this.bins / (max - min) : 0;
    // When bins/(max − min) overflows (a range of a few ulps) fall back to one bin.
    if (!Number.isFinite(this.scale)) this.scale = 0;
    this.width = opts.width;
    this.posCount = new Float64Array(this.bins);
    this.negCount = new Float64Array(this.bins);
    this.proWeight = new Float64Array(this.bins);
  }

  /** Bin of a score; monotone in the score, so bins never reorder scores. */
  private bin(v: number): number {
    const b = Math.floor((v - this.min) * this.scale);
    return b < this.bins ? b : this.bins - 1;
  }

  /** Adds one image's map and mask (binary, same length). */
  add(map: ScoreMap, mask: MaskArray): this {
    const metric = 'PixelHistogram.add';
    const index = this.images;
    checkArrayLike(metric, 'map', map);
    checkArrayLike(metric, 'mask', mask);
    if (map.length !== mask.length) {
      fail(metric, `map has ${map.length} pixels but mask has ${mask.length} (image ${index}); resize the mask to the map's resolution first`);
    }
    if (map.length === 0) fail(metric, `map of image ${index} is empty`);
    // One validating pass that also bins; nothing is accumulated until the whole image
    // has passed, so a refused image leaves the histogram untouched.
    if (this.scratch.length < map.length) this.scratch = new Uint32Array(map.length);
    const bins = this.scratch;
    let positives = 0;
    for (let j = 0; j < map.length; j++) {
      const v = map[j];
      if (!(v >= this.min && v <= this.max)) {
        // Non-finite: checkMapValues throws, naming the pixel.
        if (typeof v !== 'number' || !Number.isFinite(v)) checkMapValues(metric, map, index);
        fail(metric, `image ${index} pixel ${j} has score ${v}, outside the histogram range [${this.min}, ${this.max}]; take the range from a first pass (scoreRange)`);
      }
      bins[j] = this.bin(v);
      const m = mask[j];
      if (m === 1 || m === true) positives++;
      else if (m !== 0 && m !== false) countMaskPositives(metric, mask, index); // throws, naming the pixel
    }
    let labels: Int32Array | null = null;
    let weights: number[] = [];
    if (positives > 0 && this.unlabelled === null) {
      let width: number | null = null;
      try {
        width = imageWidth(metric, map.length, this.width, index);
      } catch {
        this.unlabelled = index;
      }
      if (width !== null) {
        const regions = labelRegions(mask, width, map.length / width);
        labels = regions.labels;
        weights = [0, ...regions.sizes.map((s) => 1 / s)];
        this.regions += regions.sizes.length;
      }
    }
    for (let j = 0; j < map.length; j++) {
      const b = bins[j];
      if (isPositive(mask[j])) {
        this.posCount[b]++;
        if (labels) this.proWeight[b] += weights[labels[j]];
      } else this.negCount[b]++;
    }
    this.positives += positives;
    this.negatives += map.length - positives;
    this.images++;
    return this;
  }

  private requireBothClasses(metric: string): void {
    if (this.positives === 0) fail(metric, 'no anomalous pixel was added; pixel metrics are undefined without anomalous pixels');
    if (this.negatives === 0) fail(metric, 'no normal pixel was added; pixel metrics are undefined without normal pixels');
  }

  /** Pooled pixel AUROC with its guaranteed error bound. */
  auroc(): Approximate {
    this.requireBothClasses('pixelAuroc');
    const P = this.positives;
    const N = this.negatives;
    let tp = 0;
    let area2 = 0;
    let tiedPairs = 0;
    for (let b = this.bins - 1; b >= 0; b--) {
      const dp = this.posCount[b];
      const dn = this.negCount[b];
      area2 += dn * (2 * tp + dp);
      tiedPairs += dp * dn;
      tp += dp;
    }
    return { value: area2 / (2 * P * N), errorBound: tiedPairs / (2 * P * N), bins: this.bins };
  }

  /** Pooled pixel AP with its guaranteed error bound. */
  ap(): Approximate {
    this.requireBothClasses('pixelAp');
    const P = this.positives;
    let tp = 0;
    let fp = 0;
    let sum = 0;
    let err = 0;
    for (let b = this.bins - 1; b >= 0; b--) {
      const dp = this.posCount[b];
      const dn = this.negCount[b];
      const tpPrev = tp;
      const fpPrev = fp;
      tp += dp;
      fp += dn;
      if (dp === 0) continue;
      const binned = tp / (tp + fp);
      const lo = (tpPrev + 1) / (tpPrev + 1 + fp);
      const hi = tp / (tp + fpPrev);
      sum += dp * binned;
      err += dp * Math.max(hi - binned, binned - lo);
    }
    return { value: sum / P, errorBound: err / P, bins: this.bins };
  }

  /**
   * Best pooled Dice (an oracle: fitted on the scored data). quantiles: the reference
   * quantile grid (200 by default, strict >), or 'all' for every threshold (≥).
   */
  bestDice(opts: { quantiles?: number | 'all'; fitOnTest?: true } = {}): StreamingDice {
    const metric = 'bestDice';
    const quantiles = checkQuantiles(metric, opts.quantiles);
    this.requireBothClasses(metric);
    return quantiles === 'all' ? this.diceAll() : this.diceQuantiles(quantiles);
  }

  private diceAll(): StreamingDice {
    const P = this.positives;
    let tp = 0;
    let fp = 0;
    let best = 0;
    let upper = 0;
    for (let b = this.bins - 1; b >= 0; b--) {
      const fpPrev = fp;
      tp += this.posCount[b];
      fp += this.negCount[b];
      if (this.posCount[b] + this.negCount[b] === 0) continue;
      const f1 = (2 * tp) / (tp + fp + P);
      if (f1 > best) best = f1;
      const hi = (2 * tp) / (tp + fpPrev + P);
      if (hi > upper) upper = hi;
    }
    return { value: best, errorBound: Math.max(upper - best, 0), bins: this.bins, oracle: true };
  }

  private diceQuantiles(quantiles: number): StreamingDice {
    const P = this.positives;
    const N = this.negatives;
    const total = P + N;
    const step = Math.floor(total / quantiles);
    if (step === 0) fail('bestDice', `only ${total} pooled pixels for ${quantiles} quantiles; use fewer quantiles`);
    let posBelow = 0; // counts in bins < b
    let negBelow = 0;
    let nextRank = 0;
    let bestLo = 0;
    let bestHi = 0;
    for (let b = 0; b < this.bins; b++) {
      const posUpTo = posBelow + this.posCount[b];
      const negUpTo = negBelow + this.negCount[b];
      if (nextRank < posUpTo + negUpTo) {
        const hits = Math.floor((posUpTo + negUpTo - 1 - nextRank) / step) + 1;
        nextRank += hits * step;
        const tpMin = P - posUpTo;
        const tpMax = P - posBelow;
        const fpMin = N - negUpTo;
        const fpMax = N - negBelow;
        const lo = (2 * tpMin) / (tpMin + fpMax + P);
        const hi = (2 * tpMax) / (tpMax + fpMin + P);
        if (lo > bestLo) bestLo = lo;
        if (hi > bestHi) bestHi = hi;
      }
      posBelow = posUpTo;
      negBelow = negUpTo;
    }
    return { value: (bestLo + bestHi) / 2, errorBound: (bestHi - bestLo) / 2, bins: this.bins, oracle: true };
  }

  /** AUPRO up to options.fprLimit (default 0.3), normalised by the limit, with its bound. */
  aupro(opts?: { fprLimit?: number }): Approximate {
    const metric = 'aupro';
    const limit = checkFprLimit(metric, opts?.fprLimit);
    if (this.unlabelled !== null) {
      fail(metric, `maps[${this.unlabelled}] is not square; pass options.width to the histogram so regions can be labelled`);
    }
    this.requireBothClasses(metric);
    const N = this.negatives;
    const K = this.regions;
    const curve = new ClippedArea(limit);
    let fp = 0;
    let overlap = 0;
    let prevPro = 0;
    let err = 0;
    let remainingPos = this.positives;
    for (let b = this.bins - 1; b >= 0 && !curve.done; b--) {
      const dn = this.negCount[b];
      fp += dn;
      overlap += this.proWeight[b];
      remainingPos -= this.posCount[b];
      if (dn === 0 && this.posCount[b] === 0) continue;
      const pro = remainingPos === 0 ? 1 : Math.min(overlap / K, 1);
      const fpr = fp / N;
      const width = curve.add(fpr, pro);
      // A full bin: the trapezoid is the midpoint of the two rectangles (½·w·ΔPRO);
      // the bin cut by the limit: a whole w·ΔPRO.
      err += (fpr > limit ? 1 : 0.5) * width * (pro - prevPro);
      prevPro = pro;
    }
    const value = Math.min(curve.area / limit, 1);
    return { value, errorBound: err / limit, bins: this.bins };
  }
}
