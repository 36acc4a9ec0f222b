// The one random-number core of the library: xoshiro128** (Blackman & Vigna; 128 bits of
// state, period 2^128 − 1, fast in 32-bit JS arithmetic) and the splitmix32 mixer that
// expands seeds into its state. Two front ends share it and keep their own seeding and
// draws: the engine's Generator (one seed: initialisation, shuffling, noise) and the
// synthetic datasets' Rng (a stream per hashed key list, so any image regenerates alone).

/** One splitmix32 output for the state x: x advanced by the golden ratio, then mixed. */
export function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** splitmix32's state step (what splitmix32 adds before mixing). */
export function splitmix32Advance(x: number): number {
  return (x + 0x9e3779b9) | 0;
}

const TWO_POW_M53 = 1 / 9007199254740992;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** xoshiro128** state and step; subclasses seed it. */
export class Xoshiro128 {
  protected s0 = 0;
  protected s1 = 0;
  protected s2 = 0;
  protected s3 = 1;

  /** Sets the state; the all-zero state (a fixed point) becomes s0 = 1. */
  protected setWords(s0: number, s1: number, s2: number, s3: number): void {
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
    if ((s0 | s1 | s2 | s3) === 0) this.s0 = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * out[i] = low + span · u_i for i in order, u_i the 53-bit uniform [0, 1) of two successive
   * outputs (high 27 bits, then 26): the same numbers as that many separate draws, with the
   * state kept in locals (initialising a 100 M-parameter U-Net draws 200 M outputs).
   */
  protected fillUniform53(out: Float32Array | Float64Array, low: number, span: number): void {
    let s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    for (let i = 0; i < out.length; i++) {
      let r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      let t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
      const a = r >>> 5;
      r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
      out[i] = low + span * ((a * 67108864 + (r >>> 6)) * TWO_POW_M53);
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }
}
