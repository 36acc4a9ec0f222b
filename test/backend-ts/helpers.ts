// Small shared helpers for the ts-backend tests: a seeded generator, float64 dot
// products and tolerance checks. (Not a test file: the runner only picks *.test.ts.)
import * as assert from 'uvu/assert';

/** mulberry32: a tiny seeded PRNG, enough for test inputs. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n uniform values in [lo, hi). */
export function randArray(r: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length, 'dot: lengths differ');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** |a − b| ≤ atol + rtol·|b| elementwise, with the first offending index in the message. */
export function close(a: ArrayLike<number>, b: ArrayLike<number>, atol = 1e-5, rtol = 1e-5, what = 'values'): void {
  assert.is(a.length, b.length, `${what}: lengths differ`);
  for (let i = 0; i < a.length; i++) {
    const ok = a[i] === b[i] || Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i]));
    if (!ok) assert.unreachable(`${what}[${i}]: got ${a[i]}, expected ${b[i]}`);
  }
}

/** Scalar closeness relative to the magnitude of the expected value. */
export function closeScalar(a: number, b: number, rtol = 1e-5, what = 'value'): void {
  const ok = Math.abs(a - b) <= rtol * Math.max(1, Math.abs(b));
  if (!ok) assert.unreachable(`${what}: got ${a}, expected ${b}`);
}
