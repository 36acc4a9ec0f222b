// The radix sort against V8's comparison sort, on values that stress the key transform:
// negatives, ±0, subnormals, huge magnitudes, heavy ties; and the payload permutation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sortFloat32, sortFloat64 } from '../../src/metrics/radix.js';
import { uniforms } from './lcg.js';

function tricky(n: number, seed: number): Float64Array {
  const u = uniforms(seed, 2 * n);
  const out = new Float64Array(n);
  const specials = [0, -0, 5e-324, -5e-324, 1e-310, -1e-310, 1e300, -1e300, 1, -1, 0.5, -0.5];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(u[2 * i] * 4);
    const r = u[2 * i + 1];
    out[i] =
      k === 0 ? specials[Math.floor(r * specials.length)] : k === 1 ? Math.round(r * 8) / 8 - 0.5 : (r - 0.5) * 10 ** Math.floor(r * 40 - 20);
  }
  return out;
}

function sameAsNative(sorted: ArrayLike<number>, input: ArrayLike<number>, ctor: Float32ArrayConstructor | Float64ArrayConstructor) {
  const ref = ctor.from(input).sort();
  for (let i = 0; i < ref.length; i++) {
    // −0 is canonicalised to +0, which compares equal (=== treats them alike).
    assert.ok(sorted[i] === ref[i], `position ${i}: ${sorted[i]} vs ${ref[i]}`);
  }
}

for (const n of [0, 1, 2, 3, 17, 1000, 50000]) {
  test(`float64 and float32 sorts match the native sort (n = ${n})`, () => {
    const x = tricky(n, 100 + n);
    const a = Float64Array.from(x);
    sortFloat64(a);
    sameAsNative(a, x, Float64Array);
    const b = Float32Array.from(x);
    sortFloat32(b);
    sameAsNative(b, Float32Array.from(x), Float32Array);
  });
}

test('payload follows its value (float32 and float64)', () => {
  const n = 20000;
  const x = tricky(n, 9);
  for (const make of [(v: Float64Array) => Float32Array.from(v), (v: Float64Array) => Float64Array.from(v)]) {
    const values = make(x);
    const original = make(x);
    const payload = Uint32Array.from({ length: n }, (_, i) => i);
    if (values instanceof Float32Array) sortFloat32(values, payload);
    else sortFloat64(values as Float64Array, payload);
    const seen = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      assert.ok(values[i] === original[payload[i]], `value/payload pair broken at ${i}`);
      seen[payload[i]]++;
      if (i > 0) assert.ok(values[i - 1] <= values[i]);
    }
    assert.ok(seen.every((c) => c === 1), 'payload is a permutation');
  }
});

test('sorts a subarray view in place without touching its neighbours', () => {
  const buf = new Float32Array([9, 3, 1, 2, 9]);
  sortFloat32(buf.subarray(1, 4));
  assert.equal(Array.from(buf), [9, 1, 2, 3, 9]);
  const buf64 = new Float64Array([9, 3, -1, 2, 9]);
  sortFloat64(buf64.subarray(1, 4));
  assert.equal(Array.from(buf64), [9, -1, 2, 3, 9]);
});

test.run();
