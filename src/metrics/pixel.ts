// Pooled pixel metrics (methods.md §9.3): every pixel of every test image, normal images
// (all-zero masks) included, becomes one (score, label) pair. Exact by default; the
// streaming mode bins the scores and reports a guaranteed error bound (histogram.ts).
//
// Maps and masks: one flattened row-major array per image; masks binary 0/1 at the
// map's resolution. Per-image averages are different metrics and are not computed here.

import { auproExact, type AuproOptions } from './aupro.js';
import { type ConfusionMetrics, type OracleFlag, confusionMetrics } from './image.js';
import { PixelHistogram, type StreamingDice, scoreRange } from './histogram.js';
import {
  type Approximate,
  type ExactMode,
  type StreamingMode,
  checkQuantiles,
  isStreaming,
} from './options.js';
import { countPixels, splitPixels } from './pool.js';
import { type DiceResult, quantileDice, rankSummary } from './sweep.js';
import { type Threshold, thresholdValue } from './threshold.js';
import { type MaskArray, type ScoreMap, checkMapsMasks, fail, isPositive } from './validate.js';

type Maps = ArrayLike<ScoreMap>;
type Masks = ArrayLike<MaskArray>;

/** Builds the streaming histogram of all maps (first pass for the range unless given). */
export function pixelHistogram(
  metric: string,
  maps: Maps,
  masks: Masks,
  opts: StreamingMode & { width?: number },
): PixelHistogram {
  checkMapsMasks(metric, maps, masks);
  const range = opts.range ?? scoreRange(maps);
  const hist = new PixelHistogram({ min: range.min, max: range.max, bins: opts.bins, width: opts.width });
  for (let i = 0; i < maps.length; i++) hist.add(maps[i], masks[i]);
  return hist;
}

/** Pooled pixel AUROC ("full": all test images). Not reported by the reference (§9.1). */
export function pixelAuroc(maps: Maps, masks: Masks, opts?: ExactMode): number;
export function pixelAuroc(maps: Maps, masks: Masks, opts: StreamingMode): Approximate;
export function pixelAuroc(maps: Maps, masks: Masks, opts?: ExactMode | StreamingMode): number | Approximate {
  if (isStreaming(opts)) return pixelHistogram('pixelAuroc', maps, masks, opts as StreamingMode).auroc();
  return rankSummary(splitPixels('pixelAuroc', maps, masks)).auroc;
}

/** Pooled pixel AUROC over the anomalous test images only (the "anomaly" variant). */
export function pixelAurocAnomalous(maps: Maps, masks: Masks): number {
  checkMapsMasks('pixelAurocAnomalous', maps, masks);
  const keepMaps: ScoreMap[] = [];
  const keepMasks: MaskArray[] = [];
  for (let i = 0; i < maps.length; i++) {
    const mask = masks[i];
    let any = false;
    for (let j = 0; j < mask.length && !any; j++) any = isPositive(mask[j]);
    if (any) {
      keepMaps.push(maps[i]);
      keepMasks.push(mask);
    }
  }
  if (keepMaps.length === 0) fail('pixelAurocAnomalous', 'masks contain no anomalous pixel; the metric is undefined');
  return rankSummary(splitPixels('pixelAurocAnomalous', keepMaps, keepMasks)).auroc;
}

/** Pooled pixel AP (the reported AP_pix). */
export function pixelAp(maps: Maps, masks: Masks, opts?: ExactMode): number;
export function pixelAp(maps: Maps, masks: Masks, opts: StreamingMode): Approximate;
export function pixelAp(maps: Maps, masks: Masks, opts?: ExactMode | StreamingMode): number | Approximate {
  if (isStreaming(opts)) return pixelHistogram('pixelAp', maps, masks, opts as StreamingMode).ap();
  return rankSummary(splitPixels('pixelAp', maps, masks)).ap;
}

export interface BestDiceOptions extends OracleFlag {
  /**
   * Number of quantile thresholds of the reference procedure (default 200; the one-stage
   * SSL code uses 100), or 'all' for the exact pooled F1-max over every distinct score
   * with the rule score ≥ t (quirk diceQuantileStrict off).
   */
  quantiles?: number | 'all';
}

export interface BestDiceResult extends DiceResult {
  oracle: true;
}

/**
 * The reported ⌈Dice⌉: best global Dice over thresholds chosen on the scored (test) data,
 * an upper bound, labelled oracle: true. Default: the reference
 * quantile grid (methods.md §9.3) with strict >; the first (smallest) best threshold
 * wins, as in the reference. With quantiles 'all': the largest best threshold, ≥ rule.
 */
export function bestDice(maps: Maps, masks: Masks, opts?: BestDiceOptions & ExactMode): BestDiceResult;
export function bestDice(maps: Maps, masks: Masks, opts: BestDiceOptions & StreamingMode): StreamingDice;
export function bestDice(
  maps: Maps,
  masks: Masks,
  opts: BestDiceOptions & (ExactMode | StreamingMode) = {},
): BestDiceResult | StreamingDice {
  const metric = 'bestDice';
  const quantiles = checkQuantiles(metric, opts.quantiles);
  if (isStreaming(opts)) {
    return pixelHistogram(metric, maps, masks, opts as StreamingMode).bestDice({ quantiles, fitOnTest: true });
  }
  const split = splitPixels(metric, maps, masks);
  return { ...diceOf(metric, split, quantiles), oracle: true };
}

function diceOf(metric: string, split: ReturnType<typeof splitPixels>, quantiles: number | 'all'): DiceResult {
  if (quantiles === 'all') {
    const s = rankSummary(split);
    const distinct = countDistinct(split);
    return { dice: s.f1, threshold: s.f1Threshold, thresholds: distinct };
  }
  const total = split.pos.length + split.neg.length;
  if (total < quantiles) fail(metric, `only ${total} pooled pixels for ${quantiles} quantiles; use fewer quantiles`);
  return quantileDice(split, quantiles);
}

function countDistinct({ pos, neg }: ReturnType<typeof splitPixels>): number {
  let i = 0;
  let j = 0;
  let count = 0;
  while (i < pos.length || j < neg.length) {
    const v = i >= pos.length ? neg[j] : j >= neg.length ? pos[i] : Math.min(pos[i], neg[j]);
    while (i < pos.length && pos[i] === v) i++;
    while (j < neg.length && neg[j] === v) j++;
    count++;
  }
  return count;
}

/** AUPRO up to fprLimit (default 0.3), normalised by the limit. */
export function aupro(maps: Maps, masks: Masks, opts?: AuproOptions): number;
export function aupro(maps: Maps, masks: Masks, opts: StreamingMode & Omit<AuproOptions, 'mode'>): Approximate;
export function aupro(
  maps: Maps,
  masks: Masks,
  opts?: AuproOptions | (StreamingMode & Omit<AuproOptions, 'mode'>),
): number | Approximate {
  if (isStreaming(opts)) {
    const o = opts as StreamingMode & Omit<AuproOptions, 'mode'>;
    return pixelHistogram('aupro', maps, masks, o).aupro({ fprLimit: o.fprLimit });
  }
  return auproExact(maps, masks, opts as AuproOptions | undefined);
}

/** Pooled confusion metrics at a threshold fitted elsewhere (anomalous when score ≥ t); f1 is the Dice. */
export function pixelAtThreshold(maps: Maps, masks: Masks, threshold: number | Threshold): ConfusionMetrics {
  const metric = 'pixelAtThreshold';
  const t = thresholdValue(metric, threshold);
  const { positives, negatives } = countPixels(metric, maps, masks);
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < maps.length; i++) {
    const map = maps[i];
    const mask = masks[i];
    for (let j = 0; j < map.length; j++) {
      if (map[j] >= t) {
        if (isPositive(mask[j])) tp++;
        else fp++;
      }
    }
  }
  return confusionMetrics(t, tp, fp, negatives - fp, positives - tp);
}

export interface PixelMetrics {
  auroc: number;
  ap: number;
  /** Present only when bestDice was requested. */
  bestDice?: BestDiceResult;
}

/**
 * AUROC, AP and optionally ⌈Dice⌉ from one sort of the pooled pixels: at 10⁷–10⁸ pixels
 * the sort dominates, so computing them together costs about one metric.
 */
export function pixelMetrics(
  maps: Maps,
  masks: Masks,
  opts?: { bestDice?: { quantiles?: number | 'all' }; fitOnTest?: true },
): PixelMetrics {
  const metric = 'pixelMetrics';
  const quantiles = opts?.bestDice ? checkQuantiles(metric, opts.bestDice.quantiles) : null;
  const split = splitPixels(metric, maps, masks);
  const s = rankSummary(split);
  const out: PixelMetrics = { auroc: s.auroc, ap: s.ap };
  if (quantiles !== null) out.bestDice = { ...diceOf(metric, split, quantiles), oracle: true };
  return out;
}
