// Splits (score, label) pairs into the sorted scores of the anomalous (positive) and of
// the normal (negative) samples. Every ranking metric here (AUROC, AP, F1, Dice) only
// needs, per distinct score, how many positives and negatives carry it; two sorted
// arrays merged on the fly give exactly that without an index array or per-pixel
// objects, and the memory is one copy of the scores (plus the sort's scratch buffer).
//
// Scores keep their precision: float32 inputs stay float32 (half the memory for pixel
// maps, and the exact values the model produced), anything else becomes float64.

import { sortFloat } from './radix.js';
import {
  type LabelArray,
  type MaskArray,
  type ScoreArray,
  type ScoreMap,
  checkMapValues,
  checkMapsMasks,
  checkScores,
  countMaskPositives,
  countPositives,
  fail,
  isPositive,
  requireBothClasses,
} from './validate.js';

export type FloatArray = Float32Array | Float64Array;

/** Ascending scores of each class. */
export interface SplitScores {
  pos: FloatArray;
  neg: FloatArray;
}

function allocate(asFloat32: boolean, n: number): FloatArray {
  return asFloat32 ? new Float32Array(n) : new Float64Array(n);
}

/** Image-level split: validates, splits by label and sorts. */
export function splitScores(metric: string, scores: ScoreArray, labels: LabelArray): SplitScores {
  checkScores(metric, 'scores', scores);
  const positives = countPositives(metric, 'labels', labels, scores.length);
  requireBothClasses(metric, 'labels', positives, scores.length);
  const f32 = scores instanceof Float32Array;
  const pos = allocate(f32, positives);
  const neg = allocate(f32, scores.length - positives);
  let p = 0;
  let q = 0;
  for (let i = 0; i < scores.length; i++) {
    if (isPositive(labels[i])) pos[p++] = scores[i];
    else neg[q++] = scores[i];
  }
  sortFloat(pos);
  sortFloat(neg);
  return { pos, neg };
}

/** Counts per image, computed while validating maps and masks. */
export interface PixelCounts {
  positives: number;
  negatives: number;
  /** All maps are Float32Array: pool as float32. */
  float32: boolean;
}

/** Validates maps/masks (sizes, finite scores, binary masks) and counts pixels by class. */
export function countPixels(metric: string, maps: ArrayLike<ScoreMap>, masks: ArrayLike<MaskArray>): PixelCounts {
  checkMapsMasks(metric, maps, masks);
  let positives = 0;
  let total = 0;
  let float32 = true;
  for (let i = 0; i < maps.length; i++) {
    const map = maps[i];
    checkMapValues(metric, map, i);
    positives += countMaskPositives(metric, masks[i], i);
    total += map.length;
    if (!(map instanceof Float32Array)) float32 = false;
  }
  if (positives === 0) {
    fail(metric, 'masks contain no anomalous pixel; pixel metrics are undefined without anomalous pixels in the test set');
  }
  if (positives === total) {
    fail(metric, 'masks contain no normal pixel; pixel metrics are undefined without normal pixels in the test set');
  }
  return { positives, negatives: total - positives, float32 };
}

/** Pooled pixel split: every pixel of every image, normal images included (methods.md §9.3). */
export function splitPixels(metric: string, maps: ArrayLike<ScoreMap>, masks: ArrayLike<MaskArray>): SplitScores {
  const counts = countPixels(metric, maps, masks);
  const pos = allocate(counts.float32, counts.positives);
  const neg = allocate(counts.float32, counts.negatives);
  let p = 0;
  let q = 0;
  for (let i = 0; i < maps.length; i++) {
    const map = maps[i];
    const mask = masks[i];
    for (let j = 0; j < map.length; j++) {
      if (isPositive(mask[j])) pos[p++] = map[j];
      else neg[q++] = map[j];
    }
  }
  sortFloat(pos);
  sortFloat(neg);
  return { pos, neg };
}
