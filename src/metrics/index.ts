// Metrics: image-level (AUROC, AP, F1), pooled pixel-level (AUROC, AP, ⌈Dice⌉, AUPRO),
// thresholds fitted off the test set, and mean ± std across seeds.
//
// Conventions: larger score = more anomalous; label 1 = anomalous (positive class); every
// distinct score is a threshold and ties enter as one (scikit-learn semantics). Exact by
// default; pooled pixel metrics also have a streaming mode with a guaranteed error bound.
// Anything fitted on the scored data (f1Max, bestDice, a threshold on split 'test') needs
// an explicit { fitOnTest: true } and is returned with oracle: true.

export { auroc, averagePrecision, f1Max, atThreshold } from './image.js';
export type { ConfusionMetrics, F1MaxResult, OracleFlag } from './image.js';
export {
  pixelAuroc,
  pixelAurocAnomalous,
  pixelAp,
  bestDice,
  aupro,
  pixelAtThreshold,
  pixelMetrics,
} from './pixel.js';
export type { BestDiceOptions, BestDiceResult, PixelMetrics } from './pixel.js';
export type { AuproOptions } from './aupro.js';
export { givenThreshold, f1MaxThreshold, normalQuantileThreshold } from './threshold.js';
export type { Threshold, ThresholdRule, FitOptions } from './threshold.js';
export { PixelHistogram, scoreRange } from './histogram.js';
export type { HistogramOptions, StreamingDice } from './histogram.js';
export type { Approximate, ExactMode, StreamingMode } from './options.js';
export { zoom2d } from './zoom.js';
export type { ZoomOrder } from './zoom.js';
export { labelRegions } from './regions.js';
export type { Regions } from './regions.js';
export { meanStd } from './summary.js';
export type { MeanStd } from './summary.js';
export type { ScoreArray, LabelArray, ScoreMap, MaskArray } from './validate.js';
