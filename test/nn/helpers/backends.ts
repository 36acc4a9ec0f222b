// Runs the same assertions once per backend: always on `ts`, then on `cpu` when the native
// addon is available (reported as skipped, never as passed, when it is not).
import type { Test } from 'uvu';
import { backends, setBackend } from '../../../src/backend/registry.js';

export const BACKENDS = ['ts', 'cpu'] as const;

export function eachBackend(test: Test, name: string, fn: () => void | Promise<void>): void {
  const status = new Map(backends().map((b) => [b.name, b]));
  for (const b of BACKENDS) {
    const label = `${name} [${b}]`;
    if (!status.get(b)?.available) {
      test.skip(label, () => {});
      continue;
    }
    test(label, async () => {
      setBackend(b);
      await fn();
    });
  }
}
