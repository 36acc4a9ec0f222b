// IEEE 754 binary16 ("half") ↔ float32, bit-exact: what F16C's vcvtps2ph (round to
// nearest, ties to even) and vcvtph2ps do. Node 20 has no Math.f16round, so the rounding
// is written out on the float32 bit pattern.
import type { F32, U16 } from '../types.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The half nearest the float32 value of x (x is first rounded to float32), as raw bits:
 * ties to even, |x| ≥ 65520 → ±Inf, below 2^-25 → ±0 (2^-25 itself ties to 0), subnormals
 * kept, NaN → a quiet NaN keeping the top payload bits.
 */
export function floatToHalfBits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const a = b & 0x7fffffff;
  if (a >= 0x7f800000) return sign | 0x7c00 | (a > 0x7f800000 ? 0x200 | ((a >>> 13) & 0x3ff) : 0);
  if (a >= 0x477ff000) return sign | 0x7c00; // rounds to ≥ 65536: Inf
  if (a >= 0x38800000) {
    // Normal half: drop 13 mantissa bits, round to nearest even, rebias the exponent (127 → 15).
    const r = a + 0xfff + ((a >>> 13) & 1);
    return sign | ((r - 0x38000000) >>> 13);
  }
  if (a < 0x33000000) return sign; // < 2^-25: rounds to ±0
  // Subnormal half: round(value / 2^-24), ties to even.
  const e = a >>> 23;
  const m = (a & 0x7fffff) | 0x800000;
  const shift = 126 - e;
  const q = m >>> shift;
  const rem = m & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  return sign | (q + (rem > halfway || (rem === halfway && (q & 1) === 1) ? 1 : 0));
}

/** The float value of half bits h (exact). */
export function halfBitsToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0x1f) return man ? NaN : sign * Infinity;
  if (exp === 0) return sign * man * 2 ** -24;
  return sign * (1024 + man) * 2 ** (exp - 25);
}

/** x rounded to float32, then to half, back as a number (what Math.f16round does in newer engines). */
export function f16round(x: number): number {
  return halfBitsToFloat(floatToHalfBits(x));
}

export function halfFromFloat(p: { n: number }, x: F32, y: U16): void {
  for (let i = 0; i < p.n; i++) y[i] = floatToHalfBits(x[i]);
}

export function halfToFloat(p: { n: number }, x: U16, y: F32): void {
  for (let i = 0; i < p.n; i++) y[i] = halfBitsToFloat(x[i]);
}
