// Threshold sweeps over two sorted score arrays (anomalous `pos`, normal `neg`).
//
// A descending merge visits every distinct score once, with the number of positives
// (dp) and negatives (dn) that carry it; tied scores therefore enter as one threshold,
// exactly as in scikit-learn. All counts are integers held in doubles (exact below
// 2^53 ≈ 9·10^15 samples); the sums accumulate in float64.

import type { SplitScores } from './pool.js';

export interface RankSummary {
  /** Trapezoidal ROC area = Mann–Whitney U / (n₊n₋), ties counted one half. */
  auroc: number;
  /** Step-wise AP: Σ (R_k − R_{k−1})·P_k over distinct thresholds, no interpolation. */
  ap: number;
  /** max over distinct thresholds t of F1(t), predicting anomalous when score ≥ t. */
  f1: number;
  /** The largest t attaining the maximum F1. */
  f1Threshold: number;
}

/** AUROC, AP and F1-max in one descending pass. */
export function rankSummary({ pos, neg }: SplitScores): RankSummary {
  const P = pos.length;
  const N = neg.length;
  let i = P - 1;
  let j = N - 1;
  let tp = 0;
  let fp = 0;
  // Twice the ROC area in count units: each group adds dn·(tp_before + tp_after), the
  // trapezoid under the diagonal segment a tied group draws.
  let area2 = 0;
  let apSum = 0;
  let bestF1 = -1;
  let bestT = NaN;
  while (i >= 0 || j >= 0) {
    const v = i < 0 ? neg[j] : j < 0 ? pos[i] : pos[i] > neg[j] ? pos[i] : neg[j];
    let dp = 0;
    while (i >= 0 && pos[i] === v) {
      dp++;
      i--;
    }
    let dn = 0;
    while (j >= 0 && neg[j] === v) {
      dn++;
      j--;
    }
    area2 += dn * (2 * tp + dp);
    tp += dp;
    fp += dn;
    if (dp > 0) apSum += dp * (tp / (tp + fp));
    // F1 = 2TP / (2TP + FP + FN) with FN = P − TP. Equal ratios give identical doubles
    // (IEEE division is correctly rounded), so the strict > keeps the largest threshold.
    const f1 = (2 * tp) / (tp + fp + P);
    if (f1 > bestF1) {
      bestF1 = f1;
      bestT = v;
    }
  }
  return { auroc: area2 / (2 * P * N), ap: apSum / P, f1: bestF1, f1Threshold: bestT };
}

export interface DiceResult {
  /** Best global (pooled) Dice over the thresholds tried. */
  dice: number;
  /** The threshold attaining it. */
  threshold: number;
  /** How many thresholds were tried (duplicates included, as in the reference). */
  thresholds: number;
}

/**
 * The reference ⌈Dice⌉ (methods.md §9.3): with N pooled values and q quantiles,
 * step s = ⌊N/q⌋, thresholds t_j = sort(v)[j·s] for j·s < N, prediction v > t_j
 * (strict), Dice_j = 2TP/(2TP + FP + FN) over all pooled pixels; the first (smallest)
 * threshold attaining the maximum wins, as numpy's argmax does on the ascending list.
 *
 * One ascending merge: at a distinct value v the j with j·s inside v's rank range all
 * share the threshold v, and the counts ≤ v are known, so TP = n₊ − #pos ≤ v etc.
 */
export function quantileDice({ pos, neg }: SplitScores, quantiles: number): DiceResult {
  const P = pos.length;
  const N = neg.length;
  const total = P + N;
  const step = Math.floor(total / quantiles);
  let i = 0;
  let j = 0;
  let posLE = 0;
  let negLE = 0;
  let nextRank = 0; // rank (0-based, ascending) of the next threshold j·s
  let tried = 0;
  let best = -1;
  let bestT = NaN;
  while (i < P || j < N) {
    const v = i >= P ? neg[j] : j >= N ? pos[i] : pos[i] < neg[j] ? pos[i] : neg[j];
    while (i < P && pos[i] === v) i++;
    while (j < N && neg[j] === v) j++;
    posLE = i;
    negLE = j;
    const rankEnd = posLE + negLE; // ranks [previous rankEnd, rankEnd) hold value v
    if (nextRank < rankEnd) {
      const hits = Math.floor((rankEnd - 1 - nextRank) / step) + 1;
      tried += hits;
      nextRank += hits * step;
      const tp = P - posLE;
      const fp = N - negLE;
      const dice = (2 * tp) / (tp + fp + P);
      if (dice > best) {
        best = dice;
        bestT = v;
      }
    }
  }
  return { dice: best, threshold: bestT, thresholds: tried };
}
