// Random draws the generators need beyond the engine Generator's own (uniform,
// int, normal), with NumPy's meaning of each argument. Every draw comes from the
// Generator passed in, so a generator call is reproducible from its seed.
import type { Generator } from '../engine/random.js';

/** NumPy `random.uniform(low, high)`: low + (high − low)·U[0, 1). */
export function uniform(rng: Generator, low: number, high: number): number {
  return low + (high - low) * rng.uniform();
}

/** NumPy `random.randint(low, high)`: an integer in {low, …, high − 1}; throws a RangeError when the range is empty (NumPy's ValueError). */
export function randint(rng: Generator, low: number, high: number): number {
  if (!(high > low)) throw new RangeError(`randint: empty range [${low}, ${high})`);
  return low + rng.int(high - low);
}

/** NumPy `random.normal(mean, sd)`. */
export function normal(rng: Generator, mean: number, sd: number): number {
  return mean + sd * rng.normal();
}

/**
 * NumPy `random.gamma(shape, scale)`, by Marsaglia and Tsang's squeeze method (2000)
 * for shape ≥ 1 and the boost Gamma(k) = Gamma(k + 1)·U^(1/k) below 1. The loop
 * accepts with probability above 0.95 at every shape ≥ 1 (expected ≤ 1.05 rounds), so it
 * ends; it is not a rejection loop over data.
 */
export function gamma(rng: Generator, shape: number, scale = 1): number {
  if (!(shape > 0) || !Number.isFinite(shape)) throw new RangeError(`gamma: shape must be a positive finite number, got ${shape}`);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`gamma: scale must be a positive finite number, got ${scale}`);
  if (shape < 1) {
    const u = 1 - rng.uniform(); // (0, 1]
    return gamma(rng, shape + 1, scale) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    let v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    const u = 1 - rng.uniform(); // (0, 1]
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return d * v * scale;
    if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v * scale;
  }
}

/** NumPy's `round` (half to even), as `(x).round()` on an array does. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
