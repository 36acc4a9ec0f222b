// The quick benchmark: `medianomaly bench` with no arguments. Several fast methods of the
// unified-AE family on the built-in synthetic datasets at a reduced setting (small image
// counts, 32 px, few epochs, one seed) that finishes in a few minutes on two CPU cores
// with the native backend. It checks the whole pipeline end to end; its numbers are not
// comparable with the paper's (reference protocol: real datasets, 64 px, 250 epochs,
// 3 seeds).
import { methods } from '../methods/registry.js';

/** Preferred methods, in order; those registered here are used (at most QUICK.maxMethods). */
export const QUICK_METHODS = ['ae', 'ae-l1', 'ae-ssim', 'memae', 'vae', 'ae-spatial', 'constrained-ae', 'ceae'] as const;

export const QUICK = {
  datasets: ['synth-brain', 'synth-cxr'],
  size: 32,
  trainCount: 200,
  testCount: 100,
  epochs: 20,
  seeds: 1,
  maxMethods: 5,
} as const;

/** The quick methods registered in this build. */
export function quickMethods(): string[] {
  const known = new Set(methods.names());
  const picked = QUICK_METHODS.filter((m) => known.has(m)).slice(0, QUICK.maxMethods);
  if (picked.length) return [...picked];
  // No AE-family method registered: fall back to the first few methods at small sizes.
  return methods
    .list()
    .filter((m) => m.defaultSize <= 64)
    .slice(0, 3)
    .map((m) => m.name);
}

export interface QuickSetting {
  size: number;
  trainCount: number;
  testCount: number;
  epochs: number;
  seeds: number;
  /** Which kinds of dataset the bench has: synthetic ones take the counts, the others a seeded `limit` per split. */
  synthetic: boolean;
  /** The per-split limit of the other (real) datasets; absent when there are none. */
  limit?: number;
}

/**
 * The reduced setting for one dataset of a quick bench: synthetic datasets are generated at
 * the quick counts; a real one keeps a seeded, label-stratified subset of at most
 * `trainCount` images per split (the loaders' `limit`), so no dataset runs in full.
 */
export function quickCounts(synthetic: boolean, given: { trainCount?: number; testCount?: number; limit?: number }): { trainCount?: number; testCount?: number; limit?: number } {
  if (synthetic) return { trainCount: given.trainCount ?? QUICK.trainCount, testCount: given.testCount ?? QUICK.testCount, ...(given.limit !== undefined ? { limit: given.limit } : {}) };
  return { limit: given.limit ?? given.trainCount ?? QUICK.trainCount };
}

/** The line printed and reported with a quick benchmark, saying what was reduced (the counts that actually ran are reported per dataset after the runs). */
export function quickDescription(s: QuickSetting): string {
  const counts = [
    ...(s.synthetic ? [`${s.trainCount} training and ${s.testCount} test images (half abnormal) per synthetic dataset`] : []),
    ...(s.limit !== undefined ? [`a seeded subset of at most ${s.limit} images per split of each other dataset`] : []),
  ];
  return (
    `Quick benchmark, reduced setting: ${s.size} × ${s.size} px, ${counts.join(', ')}, ` +
    `${s.epochs} epoch${s.epochs === 1 ? '' : 's'}, ${s.seeds} seed${s.seeds === 1 ? '' : 's'}. ` +
    'A pipeline check, not the reference protocol (real datasets, 64 px, 250 epochs, 3 seeds): do not compare these numbers with the paper.'
  );
}
