// IEEE half (float16) storage for float32 values: conversions used by float16 memory banks
// and the coreset's float16 points. Arithmetic on them always happens in float32.
import { kernels } from '../../backend/registry.js';

/** The largest finite half; values with |x| ≥ 65520 round to ±Infinity. */
export const HALF_MAX = 65504;

/** x rounded to the nearest IEEE half (ties to even), as raw bits. */
export function halfFromFloat(x: Float32Array, out?: Uint16Array): Uint16Array {
  if (!(x instanceof Float32Array)) throw new TypeError('halfFromFloat: x must be a Float32Array');
  const y = out ?? new Uint16Array(x.length);
  if (!(y instanceof Uint16Array) || y.length !== x.length) throw new RangeError(`halfFromFloat: out must be a Uint16Array of ${x.length} values`);
  if (x.length > 0) kernels().halfFromFloat({ n: x.length }, x, y);
  return y;
}

/** The float32 values of half bits (exact). */
export function halfToFloat(h: Uint16Array, out?: Float32Array): Float32Array {
  if (!(h instanceof Uint16Array)) throw new TypeError('halfToFloat: h must be a Uint16Array of IEEE half bits');
  const y = out ?? new Float32Array(h.length);
  if (!(y instanceof Float32Array) || y.length !== h.length) throw new RangeError(`halfToFloat: out must be a Float32Array of ${h.length} values`);
  if (h.length > 0) kernels().halfToFloat({ n: h.length }, h, y);
  return y;
}

/** Index of the first ±Inf or NaN half (exponent all ones), or −1. */
export function firstNonFiniteHalf(h: Uint16Array): number {
  for (let i = 0; i < h.length; i++) if ((h[i] & 0x7c00) === 0x7c00) return i;
  return -1;
}
