// Seeded pseudo-random numbers for the synthetic datasets.
//
// Every image is generated from its own stream, derived by hashing
// (seed, dataset, split, index), so any item can be regenerated alone and in
// any order. The generator is xoshiro128** (fast, 2^128 − 1 period, good
// statistical quality for 32-bit output), seeded through splitmix32-style
// mixing so that neighbouring keys (index 7 and 8) give unrelated streams.

/** One splitmix32 step: advances a 32-bit state by the golden ratio and mixes it. */
export function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

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

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = NaN; // second Box–Muller deviate, kept for the next normal()

  /** A stream determined by the given keys (e.g. seed, dataset, split, index). */
  constructor(...keys: number[]) {
    for (const k of keys) {
      if (!Number.isSafeInteger(k) || k < 0) {
        throw new RangeError(`Rng key must be a non-negative safe integer, got ${k}`);
      }
    }
    let h = hashKeys(keys);
    h = splitmix32(h);
    this.s0 = h;
    h = splitmix32(h);
    this.s1 = h;
    h = splitmix32(h);
    this.s2 = h;
    h = splitmix32(h);
    this.s3 = h;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the one forbidden state
  }

  /** A child stream: independent of this one's future draws, fixed by the key. */
  fork(key: number | string): Rng {
    const k = typeof key === 'string' ? nameKey(key) : key;
    return new Rng(this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0, k);
  }

  /** Uniform 32-bit unsigned integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
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
