// Thresholds and the rule that keeps them honest (feature-reference.md REQ-THRESH).
//
// A threshold that is chosen on the data it is then scored on is an oracle: it gives an
// upper bound, not a deployable operating point. So every threshold here carries where
// it came from:
//
//   givenThreshold(0.42)                                   a number the user chose
//   f1MaxThreshold(valScores, valLabels)                   F1-optimal on a validation split
//   normalQuantileThreshold(normalValScores, 0.95)         a percentile of normal scores
//
// and is then applied to the test set with atThreshold(testScores, testLabels, t) (or
// pixelAtThreshold for maps). Fitting on the test split is possible only by saying so:
// f1MaxThreshold(testScores, testLabels, { split: 'test', fitOnTest: true }) returns a
// threshold marked `oracle: true`; f1Max / bestDice, which always fit on the data they
// score, demand the same flag.
//
// Everywhere in this module "predicted anomalous" means score ≥ threshold, the rule
// under which an F1-max threshold t* (a score value) reproduces its F1.

import { splitScores } from './pool.js';
import { rankSummary } from './sweep.js';
import { type LabelArray, type ScoreArray, checkScores, countPositives, fail } from './validate.js';

export type ThresholdRule = 'given' | 'f1-max' | 'normal-quantile';

export interface Threshold {
  /** Predict anomalous when score ≥ value. */
  readonly value: number;
  readonly rule: ThresholdRule;
  /** The split it was fitted on, recorded with every result ('validation', 'train', 'test', …). */
  readonly split: string;
  /** True when fitted on the test split: results using it are upper bounds. */
  readonly oracle: boolean;
  /** normal-quantile: the quantile level q. */
  readonly q?: number;
  /** f1-max: the F1 reached on the fitting split. */
  readonly f1?: number;
}

/** Options for anything that fits a threshold on the data it is given. */
export interface FitOptions {
  /** Name of the split the data comes from (default 'validation'). */
  split?: string;
  /** Must be true when split is 'test': the result is then labelled an oracle. */
  fitOnTest?: boolean;
}

function checkSplit(metric: string, opts: FitOptions | undefined): { split: string; oracle: boolean } {
  const split = opts?.split ?? 'validation';
  if (typeof split !== 'string' || split.length === 0) fail(metric, 'options.split must be a non-empty string', 'type');
  const oracle = split === 'test';
  if (oracle && opts?.fitOnTest !== true) {
    fail(
      metric,
      "refusing to fit a threshold on the test split; fit it on a validation split (or on normal scores with normalQuantileThreshold), or pass { split: 'test', fitOnTest: true } to compute an oracle upper bound",
    );
  }
  return { split, oracle };
}

/** A threshold the user chose. */
export function givenThreshold(value: number, split = 'given'): Threshold {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail('givenThreshold', `value must be a finite number, got ${String(value)}`, 'type');
  }
  return { value, rule: 'given', split, oracle: false };
}

/**
 * The F1-optimal threshold on a validation split (largest score attaining the maximum
 * F1). Refuses a split without anomalous samples instead of falling back to the minimum
 * score (a known peer bug: every test image then counts as anomalous); use
 * normalQuantileThreshold on normal-only data instead.
 */
export function f1MaxThreshold(scores: ScoreArray, labels: LabelArray, opts?: FitOptions): Threshold {
  const metric = 'f1MaxThreshold';
  const { split, oracle } = checkSplit(metric, opts);
  checkScores(metric, 'scores', scores);
  if (countPositives(metric, 'labels', labels, scores.length) === 0) {
    fail(
      metric,
      `the ${split} labels contain no anomalous sample, so an F1-optimal threshold does not exist; use normalQuantileThreshold(normalScores, q) for a normal-only rule`,
    );
  }
  const summary = rankSummary(splitScores(metric, scores, labels));
  return { value: summary.f1Threshold, rule: 'f1-max', split, oracle, f1: summary.f1 };
}

/**
 * The q-quantile of normal scores (linear interpolation between order statistics, numpy's
 * default), e.g. q = 0.95 flags about 5 % of normal samples. Pass only normal samples.
 */
export function normalQuantileThreshold(normalScores: ScoreArray, q: number, opts?: FitOptions): Threshold {
  const metric = 'normalQuantileThreshold';
  const { split, oracle } = checkSplit(metric, opts);
  if (typeof q !== 'number' || !(q >= 0 && q <= 1)) fail(metric, `q must be a number in [0, 1], got ${String(q)}`);
  checkScores(metric, 'normalScores', normalScores);
  const sorted = Float64Array.from(normalScores).sort();
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const value = sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  return { value, rule: 'normal-quantile', split, oracle, q };
}

/** Accepts a Threshold or a plain number (treated as given). */
export function thresholdValue(metric: string, threshold: number | Threshold): number {
  const value = typeof threshold === 'number' ? threshold : threshold?.value;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail(metric, `threshold must be a finite number or a Threshold, got ${String(value)}`, 'type');
  }
  return value;
}
