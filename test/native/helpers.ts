// Shared pieces of the native conformance tests: the addon's kernels (or a reason to
// skip), the `ts` reference, a seeded generator and magnitude-relative comparisons.
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpuBackend, setBlas, setThreads, getThreads } from '../../src/backend/native.js';
import { tsKernels } from '../../src/backend/ts/index.js';
import type { KernelTable } from '../../src/backend/types.js';

export const skipReason = cpuBackend.unavailableReason();
/** The native kernels; only used inside tests, which are skipped when the addon is missing. */
export const native = cpuBackend.kernels as KernelTable;
export const ref = tsKernels;
export { setBlas, setThreads, getThreads };

/**
 * A uvu suite whose tests are reported as skipped (not passed) when the addon is not
 * built. Returns the `it` to register tests with and `run`.
 */
export function nativeSuite(name: string): {
  it: (title: string, fn: () => void | Promise<void>) => void;
  /** Registers a test that is reported skipped unless `condition` holds (e.g. OpenBLAS linked). */
  itIf: (condition: boolean, title: string, fn: () => void | Promise<void>) => void;
  run: () => void;
} {
  const s: Test = suite(skipReason ? `${name} (skipped: ${skipReason})` : name);
  return {
    it: (title, fn) => (skipReason ? s.skip(title, fn) : s(title, fn)),
    itIf: (condition, title, fn) => (skipReason || !condition ? s.skip(title, fn) : s(title, fn)),
    run: () => s.run(),
  };
}

/** Whether this build links OpenBLAS (false when the addon is missing). */
export const openblasLinked = !skipReason && cpuBackend.info().openblasLinked === true;

/** mulberry32: small, fast, seeded. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function rand(r: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

/**
 * Asserts max|actual − expected| ≤ tol · max(max|expected|, floor): an error bound
 * relative to the magnitude of the result. NaN must match NaN, ±Infinity must match.
 */
export function near(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string, floor = 1e-6): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  let scale = floor;
  for (let i = 0; i < expected.length; i++) if (Number.isFinite(expected[i])) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) assert.unreachable(`${what}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    const d = Math.abs(a - e);
    if (!(d <= worst)) {
      worst = Number.isNaN(d) ? Infinity : d;
      at = i;
    }
  }
  if (worst > tol * scale) {
    assert.unreachable(
      `${what}: max error ${worst.toExponential(3)} at [${at}] (got ${actual[at]}, expected ${expected[at]}) exceeds ${tol} × ${scale.toExponential(3)}`,
    );
  }
}

export function equalInts(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) assert.unreachable(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

/** Bitwise equality (for results that must not depend on the thread count). */
export function identical(a: Float32Array, b: Float32Array, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) assert.unreachable(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

/** Runs fn with the pool at `n` threads, restoring the previous count. */
export function withThreads<T>(n: number, fn: () => T): T {
  const before = getThreads();
  setThreads(n);
  try {
    return fn();
  } finally {
    setThreads(before);
  }
}
