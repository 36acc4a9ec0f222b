// Seeded pseudo-random numbers for the synthetic datasets.
//
// Every image is generated from its own stream, derived by hashing
// (seed, dataset, split, index), so any item can be regenerated alone and in
// any order. The generator is xoshiro128** (fast, 2^128 − 1 period, good
// statistical quality for 32-bit output; the library's one core, engine/xoshiro.ts),
// seeded through splitmix32 mixing so that neighbouring keys (index 7 and 8) give
// unrelated streams.
import { splitmix32, Xoshiro128 } from '../../engine/xoshiro.js';

/** Hashes a list of non-negative safe integers into one 32-bit value (order matters). */
export function hashKeys(keys: readonly number[]): number {
  let h = 0x2545f491;
  for (const k of keys) {
    // Safe integers can exceed 32 bits: fold in the low and the high word.
    const lo = k >>> 0;
    const hi = Math.floor(k / 0x100000000) >>> 0;
    h = splitmix32(h ^ lo);
    h = splitmix32(h ^ hi);
  }
  return h;
}

/** Turns a name into a 32-bit stream key (FNV-1a), so streams can be named. */
export function nameKey(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng extends Xoshiro128 {
  private spare = NaN; // second Box–Muller deviate, kept for the next normal()

  /** A stream determined by the given keys (e.g. seed, dataset, split, index). */
  constructor(...keys: number[]) {
    super();
    for (const k of keys) {
      if (!Number.isSafeInteger(k) || k < 0) {
        throw new RangeError(`Rng key must be a non-negative safe integer, got ${k}`);
      }
    }
    const h0 = splitmix32(hashKeys(keys));
    const h1 = splitmix32(h0);
    const h2 = splitmix32(h1);
    this.setWords(h0, h1, h2, splitmix32(h2));
  }

  /** A child stream: independent of this one's future draws, fixed by the key. */
  fork(key: number | string): Rng {
    const k = typeof key === 'string' ? nameKey(key) : key;
    return new Rng(this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0, k);
  }

  /** Uniform 32-bit unsigned integer. */
  uint32(): number {
    return this.nextUint32();
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Standard normal deviate (Box–Muller). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const z = this.spare;
      this.spare = NaN;
      return z;
    }
    const u = 1 - this.float(); // (0, 1]: log(u) is finite
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}
