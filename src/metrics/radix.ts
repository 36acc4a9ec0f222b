// Ascending LSD radix sort of float32 / float64 values, optionally carrying a Uint32
// payload (used to carry a region id next to each anomalous pixel for AUPRO).
//
// Why not TypedArray.prototype.sort: for the pooled pixel metrics (10⁷–10⁸ values) V8's
// comparison sort takes about 1.3 s per 10⁷ float32 values on this project's machines;
// the radix sort below takes about 0.3 s, needs one scratch buffer the size of the input
// and no per-element allocation. It is exact: it orders the IEEE bit patterns.
//
// Order-preserving key: for a non-negative float flip the sign bit, for a negative float
// flip every bit; unsigned order of the keys is then numeric order of the floats. −0 is
// rewritten as +0 first so the two compare equal, as they do in scikit-learn. NaN never
// gets here (validate.ts refuses it).
//
// 11-bit digits (2048 buckets) keep the counting tables in L1/L2; a pass whose digit is
// the same for every value (e.g. the low mantissa bits of float32 values stored as
// float64) is skipped.

const SIGN = 0x80000000;

function toKey(bits: number): number {
  if (bits === SIGN) return SIGN; // −0 → key of +0
  return bits & SIGN ? ~bits >>> 0 : (bits | SIGN) >>> 0;
}

function fromKey(key: number): number {
  return key & SIGN ? (key & ~SIGN) >>> 0 : ~key >>> 0;
}

interface Digit {
  word: number; // 0 = low word, 1 = high word (float64 only)
  shift: number;
  mask: number;
}

const DIGITS_32: Digit[] = [
  { word: 0, shift: 0, mask: 0x7ff },
  { word: 0, shift: 11, mask: 0x7ff },
  { word: 0, shift: 22, mask: 0x3ff },
];

const DIGITS_64: Digit[] = [
  { word: 0, shift: 0, mask: 0x7ff },
  { word: 0, shift: 11, mask: 0x7ff },
  { word: 0, shift: 22, mask: 0x3ff },
  { word: 1, shift: 0, mask: 0x7ff },
  { word: 1, shift: 11, mask: 0x7ff },
  { word: 1, shift: 22, mask: 0x3ff },
];

/** Exclusive prefix sums in place; returns false when one bucket holds all n values. */
function prefix(counts: Uint32Array, n: number): boolean {
  let sum = 0;
  let informative = true;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c === n) informative = false;
    counts[i] = sum;
    sum += c;
  }
  return informative;
}

/**
 * Sorts `values` ascending in place. When `payload` is given (same length) it is
 * permuted alongside, so payload[i] still belongs to values[i] afterwards.
 */
export function sortFloat32(values: Float32Array, payload?: Uint32Array): void {
  const n = values.length;
  if (payload && payload.length !== n) throw new RangeError('sortFloat32: payload length must equal values length');
  if (n < 2) return;
  let keys: Uint32Array = new Uint32Array(values.buffer, values.byteOffset, n);
  const original = keys;
  const counts = DIGITS_32.map((d) => new Uint32Array(d.mask + 1));
  const [c0, c1, c2] = counts;
  for (let i = 0; i < n; i++) {
    const k = toKey(keys[i]);
    keys[i] = k;
    c0[k & 0x7ff]++;
    c1[(k >>> 11) & 0x7ff]++;
    c2[k >>> 22]++;
  }
  let scratch: Uint32Array = new Uint32Array(n);
  let pay: Uint32Array | null = payload ?? null;
  let payScratch: Uint32Array | null = payload ? new Uint32Array(n) : null;
  for (let p = 0; p < DIGITS_32.length; p++) {
    const { shift, mask } = DIGITS_32[p];
    const c = counts[p];
    if (!prefix(c, n)) continue;
    if (pay && payScratch) {
      for (let i = 0; i < n; i++) {
        const k = keys[i];
        const dst = c[(k >>> shift) & mask]++;
        scratch[dst] = k;
        payScratch[dst] = pay[i];
      }
      const t = pay;
      pay = payScratch;
      payScratch = t;
    } else {
      for (let i = 0; i < n; i++) {
        const k = keys[i];
        scratch[c[(k >>> shift) & mask]++] = k;
      }
    }
    const t = keys;
    keys = scratch;
    scratch = t;
  }
  for (let i = 0; i < n; i++) original[i] = fromKey(keys[i]);
  if (payload && pay !== payload) payload.set(pay as Uint32Array);
}

/** Float64 counterpart of sortFloat32 (six 11-bit passes at most). */
export function sortFloat64(values: Float64Array, payload?: Uint32Array): void {
  const n = values.length;
  if (payload && payload.length !== n) throw new RangeError('sortFloat64: payload length must equal values length');
  if (n < 2) return;
  // Little-endian words: [lo, hi] per value (every platform Node supports is little-endian).
  let words: Uint32Array = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  const original = words;
  const counts = DIGITS_64.map((d) => new Uint32Array(d.mask + 1));
  for (let i = 0; i < n; i++) {
    let lo = words[2 * i];
    let hi = words[2 * i + 1];
    if (hi === SIGN && lo === 0) hi = 0; // −0 → +0
    if (hi & SIGN) {
      hi = ~hi >>> 0;
      lo = ~lo >>> 0;
    } else {
      hi = (hi | SIGN) >>> 0;
    }
    words[2 * i] = lo;
    words[2 * i + 1] = hi;
    counts[0][lo & 0x7ff]++;
    counts[1][(lo >>> 11) & 0x7ff]++;
    counts[2][lo >>> 22]++;
    counts[3][hi & 0x7ff]++;
    counts[4][(hi >>> 11) & 0x7ff]++;
    counts[5][hi >>> 22]++;
  }
  let scratch: Uint32Array = new Uint32Array(2 * n);
  let pay: Uint32Array | null = payload ?? null;
  let payScratch: Uint32Array | null = payload ? new Uint32Array(n) : null;
  for (let p = 0; p < DIGITS_64.length; p++) {
    const { word, shift, mask } = DIGITS_64[p];
    const c = counts[p];
    if (!prefix(c, n)) continue;
    for (let i = 0; i < n; i++) {
      const lo = words[2 * i];
      const hi = words[2 * i + 1];
      const dst = c[((word === 0 ? lo : hi) >>> shift) & mask]++;
      scratch[2 * dst] = lo;
      scratch[2 * dst + 1] = hi;
      if (pay && payScratch) payScratch[dst] = pay[i];
    }
    if (pay && payScratch) {
      const t = pay;
      pay = payScratch;
      payScratch = t;
    }
    const t = words;
    words = scratch;
    scratch = t;
  }
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i];
    const hi = words[2 * i + 1];
    if (hi & SIGN) {
      original[2 * i] = lo;
      original[2 * i + 1] = (hi & ~SIGN) >>> 0;
    } else {
      original[2 * i] = ~lo >>> 0;
      original[2 * i + 1] = ~hi >>> 0;
    }
  }
  if (payload && pay !== payload) payload.set(pay as Uint32Array);
}

/** Sorts either float type in place (see sortFloat32). */
export function sortFloat(values: Float32Array | Float64Array, payload?: Uint32Array): void {
  if (values instanceof Float32Array) sortFloat32(values, payload);
  else sortFloat64(values, payload);
}
