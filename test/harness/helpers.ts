// Shared pieces of the harness tests: a temporary folder and a tiny synthetic setting.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatasetSpec } from '../../src/harness/run-folder.js';

/** A fresh temporary folder, removed at process exit. */
export function tempDir(prefix = 'medianomaly-harness-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The error `fn` rejects with; fails the test when it resolves. */
export async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** synth-brain at 32 px with 24 training and 12 test images: seconds per fit, not minutes. */
export const TINY: DatasetSpec = { name: 'synth-brain', options: { size: 32, count: { train: 24, testNormal: 6, testAbnormal: 6 } } as DatasetSpec['options'] };

/** Small AE options for TINY (batch 8: 24 images make 3 full batches, no batch of 1 for BatchNorm). */
export const TINY_AE = { epochs: 2, batchSize: 8, hidden: 64, seed: 1 };

/** Options of the crash-resume runs: 3 epochs, so a kill in epoch 2 has an older epoch to clean up. */
export const CRASH_OPTIONS = { ...TINY_AE, epochs: 3 };
