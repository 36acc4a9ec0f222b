// Aggregation across runs: the reference protocol reports mean ± std over 3 seeds.

import { checkScores, fail } from './validate.js';

export interface MeanStd {
  mean: number;
  std: number;
  n: number;
  /** Degrees-of-freedom correction used for std (1: sample std, 0: population std). */
  ddof: 0 | 1;
}

/**
 * Mean and standard deviation of per-seed values. Default ddof = 1 (sample std,
 * divisor n − 1, as pandas and most papers' "± std over runs"); pass { ddof: 0 } for
 * numpy's np.std default (divisor n). With ddof = 1 at least two values are needed: a
 * single run has no spread to report, and 0 would read as "perfectly stable".
 */
export function meanStd(values: ArrayLike<number>, opts?: { ddof?: 0 | 1 }): MeanStd {
  const metric = 'meanStd';
  const ddof = opts?.ddof ?? 1;
  if (ddof !== 0 && ddof !== 1) fail(metric, `options.ddof must be 0 or 1, got ${String(ddof)}`);
  checkScores(metric, 'values', values);
  const n = values.length;
  if (n - ddof < 1) fail(metric, `values has ${n} entry; a sample std needs at least 2 runs (or pass { ddof: 0 })`);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  // Two-pass: subtracting the mean first keeps the sum of squares accurate.
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (n - ddof)), n, ddof };
}
