// Options shared by the pooled pixel metrics: exact (default) or streaming mode.

import { fail } from './validate.js';

/** Exact computation (the default): sorts every pooled pixel, O(P) extra memory. */
export interface ExactMode {
  mode?: 'exact';
}

/**
 * Streaming computation: fixed-width bins over [min, max] of the scores (a first pass
 * finds the range unless given), memory independent of the pixel count. Every result
 * carries a guaranteed bound on its distance to the exact value (see histogram.ts).
 */
export interface StreamingMode {
  mode: 'streaming';
  /** Number of bins (default 65536). More bins, tighter bound. */
  bins?: number;
  /** Score range, when known beforehand (skips the first pass). Scores outside it are refused. */
  range?: { min: number; max: number };
}

/** A streaming result: |exact − value| ≤ errorBound is guaranteed. */
export interface Approximate {
  value: number;
  errorBound: number;
  bins: number;
}

export const DEFAULT_BINS = 65536;
export const DEFAULT_FPR_LIMIT = 0.3;
export const DEFAULT_QUANTILES = 200;

export function isStreaming(opts: { mode?: string } | undefined): boolean {
  const mode = opts?.mode ?? 'exact';
  if (mode !== 'exact' && mode !== 'streaming') fail('metrics', `options.mode must be 'exact' or 'streaming', got ${String(mode)}`);
  return mode === 'streaming';
}

export function checkFprLimit(metric: string, fprLimit: number | undefined): number {
  const limit = fprLimit ?? DEFAULT_FPR_LIMIT;
  if (typeof limit !== 'number' || !(limit > 0 && limit <= 1)) {
    fail(metric, `options.fprLimit must be in (0, 1], got ${String(fprLimit)}`);
  }
  return limit;
}

export function checkBins(metric: string, bins: number | undefined): number {
  const b = bins ?? DEFAULT_BINS;
  if (!Number.isInteger(b) || b < 1 || b > 1 << 26) fail(metric, `options.bins must be an integer in [1, 2^26], got ${String(bins)}`);
  return b;
}

/** Quantile count of the reference ⌈Dice⌉ (200 reconstruction, 100 one-stage), or 'all'. */
export function checkQuantiles(metric: string, quantiles: number | 'all' | undefined): number | 'all' {
  const q = quantiles ?? DEFAULT_QUANTILES;
  if (q === 'all') return q;
  if (!Number.isInteger(q) || q < 1) fail(metric, `options.quantiles must be a positive integer or 'all', got ${String(quantiles)}`);
  return q;
}
