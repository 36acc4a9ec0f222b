// The engine's random number generator: the library's xoshiro128** core (./xoshiro.ts)
// seeded through splitmix32, so that nearby seeds give unrelated streams. Fully
// reproducible: same seed, same numbers.
import { splitmix32, splitmix32Advance, Xoshiro128 } from './xoshiro.js';

export interface GeneratorState {
  s: [number, number, number, number];
  /** The second Box–Muller value waiting to be returned, or null. */
  spareNormal: number | null;
}

const TWO_POW_M24 = 1 / 16777216;
const TWO_POW_M53 = 1 / 9007199254740992;

export class Generator extends Xoshiro128 {
  private spare: number | null = null;

  constructor(seed: number) {
    super();
    this.seed(seed);
  }

  /** Reseeds in place. Any finite number is accepted (its fractional part is ignored). */
  seed(seed: number): void {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new TypeError(`Generator: seed must be a finite number, got ${String(seed)}`);
    // Fold the full double (sign, high and low words) so 2^32 + 1 and 1 differ.
    const hi = Math.floor(seed / 4294967296);
    let x = (seed >>> 0) ^ Math.imul(hi | 0, 0x27d4eb2d);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      words.push(splitmix32(x));
      x = splitmix32Advance(x);
    }
    this.setWords(words[0], words[1], words[2], words[3]);
    this.spare = null;
  }

  /** Uniform in [0, 1) with 53 random bits (a double). */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) * TWO_POW_M53;
  }

  /** Fills `out` with low + span · uniform(), in order: the same values as a loop of uniform(). */
  fillUniform(out: Float32Array | Float64Array, low = 0, span = 1): void {
    this.fillUniform53(out, low, span);
  }

  /** Uniform in [0, 1) with 24 random bits: exactly representable as float32, so never rounds to 1. */
  uniformFloat32(): number {
    return (this.nextUint32() >>> 8) * TWO_POW_M24;
  }

  /** Uniform integer in [0, n) without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) throw new RangeError(`Generator.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const r = this.nextUint32();
      if (r < limit) return r % n;
    }
  }

  /** Standard normal (Box–Muller; the second value of each pair is cached). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log stays finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(arr: T[] | Int32Array | Float32Array): typeof arr {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }

  /** An independent generator seeded from this one's stream (advances this one). */
  fork(): Generator {
    const g = new Generator(0);
    g.setState({ s: [this.nextUint32(), this.nextUint32(), this.nextUint32(), this.nextUint32() | 1], spareNormal: null });
    return g;
  }

  /** A snapshot that setState() restores exactly. */
  get state(): GeneratorState {
    return { s: [this.s0, this.s1, this.s2, this.s3], spareNormal: this.spare };
  }

  setState(state: GeneratorState): void {
    const s = state?.s;
    if (!Array.isArray(s) || s.length !== 4 || s.some((v) => !Number.isInteger(v))) {
      throw new TypeError('Generator.setState: state.s must be four 32-bit integers');
    }
    [this.s0, this.s1, this.s2, this.s3] = s.map((v) => v | 0);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) throw new RangeError('Generator.setState: the all-zero state is invalid');
    this.spare = state.spareNormal ?? null;
  }
}

/** The generator used when an op is given neither a seed nor a generator. */
const defaultGen = new Generator(0);

export function defaultGenerator(): Generator {
  return defaultGen;
}

/** Reseeds the default generator (like torch.manual_seed). */
export function manualSeed(seed: number): Generator {
  defaultGen.seed(seed);
  return defaultGen;
}
