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
}

/** The line printed and reported with a quick benchmark, saying what was reduced. */
export function quickDescription(s: QuickSetting): string {
  return (
    `Quick benchmark, reduced setting: ${s.size} × ${s.size} px, ${s.trainCount} training and ${s.testCount} test images ` +
    `(half abnormal) per synthetic dataset, ${s.epochs} epoch${s.epochs === 1 ? '' : 's'}, ${s.seeds} seed${s.seeds === 1 ? '' : 's'}. ` +
    'A pipeline check, not the reference protocol (real datasets, 64 px, 250 epochs, 3 seeds): do not compare these numbers with the paper.'
  );
}
