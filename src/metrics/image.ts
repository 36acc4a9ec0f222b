// Image-level metrics with scikit-learn semantics (methods.md §9.2): abnormal = positive
// class, every distinct score is a threshold, ties enter as one threshold.

import { splitScores } from './pool.js';
import { rankSummary } from './sweep.js';
import { type Threshold, thresholdValue } from './threshold.js';
import {
  type LabelArray,
  type ScoreArray,
  checkScores,
  countPositives,
  fail,
  isPositive,
  requireBothClasses,
} from './validate.js';

/**
 * Area under the ROC curve (roc_auc_score): trapezoid over distinct thresholds, which
 * equals the Mann–Whitney statistic (1/(n₊n₋)) Σ ([s_i > s_j] + ½[s_i = s_j]).
 */
export function auroc(scores: ScoreArray, labels: LabelArray): number {
  return rankSummary(splitScores('auroc', scores, labels)).auroc;
}

/** Average precision (average_precision_score): Σ_k (R_k − R_{k−1})·P_k, no interpolation. */
export function averagePrecision(scores: ScoreArray, labels: LabelArray): number {
  return rankSummary(splitScores('averagePrecision', scores, labels)).ap;
}

/**
 * Accepted by the oracle metrics (f1Max, bestDice) to say so at the call site. Calling an
 * oracle metric is itself the request: the result always carries `oracle: true`. What is
 * refused without `fitOnTest` is fitting a *threshold* on the test split (threshold.ts),
 * because that threshold would then be applied as if it were deployable.
 */
export interface OracleFlag {
  fitOnTest?: true;
}

export interface F1MaxResult {
  /** max over distinct thresholds of 2TP/(2TP + FP + FN), anomalous when score ≥ t. */
  f1: number;
  /** The largest score attaining the maximum. */
  threshold: number;
  /** Always true: the threshold was fitted on the scored data. */
  oracle: true;
}

/**
 * F1-max and its threshold over the full precision–recall curve: the figure the field
 * reports. It fits the threshold on the data it scores, so the result is labelled an
 * oracle (an upper bound). For a deployable F1, fit the threshold on validation data with
 * f1MaxThreshold and score the test set with atThreshold.
 */
export function f1Max(scores: ScoreArray, labels: LabelArray, _opts?: OracleFlag): F1MaxResult {
  const s = rankSummary(splitScores('f1Max', scores, labels));
  return { f1: s.f1, threshold: s.f1Threshold, oracle: true };
}

export interface ConfusionMetrics {
  /** The threshold applied: anomalous when score ≥ threshold. */
  threshold: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** TP / (TP + FN), also recall and TPR. */
  sensitivity: number;
  /** TN / (TN + FP), also TNR. */
  specificity: number;
  /** TP / (TP + FP); 0 when nothing is predicted anomalous (scikit-learn's zero_division = 0). */
  precision: number;
  /** 2TP / (2TP + FP + FN) (= Dice at pixel level). */
  f1: number;
  /** FP / (FP + TN). */
  fpr: number;
  /** (TP + TN) / total. */
  accuracy: number;
  /** (sensitivity + specificity) / 2. */
  balancedAccuracy: number;
}

/** Derived rates from confusion counts; both classes are present by construction. */
export function confusionMetrics(threshold: number, tp: number, fp: number, tn: number, fn: number): ConfusionMetrics {
  const sensitivity = tp / (tp + fn);
  const specificity = tn / (tn + fp);
  return {
    threshold,
    tp,
    fp,
    tn,
    fn,
    sensitivity,
    specificity,
    precision: tp + fp === 0 ? 0 : tp / (tp + fp),
    f1: (2 * tp) / (2 * tp + fp + fn),
    fpr: fp / (fp + tn),
    accuracy: (tp + tn) / (tp + fp + tn + fn),
    balancedAccuracy: (sensitivity + specificity) / 2,
  };
}

/**
 * Confusion-matrix metrics at a threshold fitted elsewhere (a Threshold from
 * f1MaxThreshold / normalQuantileThreshold / givenThreshold, or a number).
 */
export function atThreshold(scores: ScoreArray, labels: LabelArray, threshold: number | Threshold): ConfusionMetrics {
  const metric = 'atThreshold';
  const t = thresholdValue(metric, threshold);
  checkScores(metric, 'scores', scores);
  const positives = countPositives(metric, 'labels', labels, scores.length);
  requireBothClasses(metric, 'labels', positives, scores.length);
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i] >= t) {
      if (isPositive(labels[i])) tp++;
      else fp++;
    }
  }
  const negatives = scores.length - positives;
  return confusionMetrics(t, tp, fp, negatives - fp, positives - tp);
}
