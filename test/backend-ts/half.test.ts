// float32 → IEEE half rounding (ties to even, subnormals, overflow, NaN) and back, against
// values worked out by hand from the binary16 format.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { f16round, floatToHalfBits, halfBitsToFloat, halfFromFloat, halfToFloat } from '../../src/backend/ts/half.js';

const hex = (v: number) => `0x${v.toString(16).padStart(4, '0')}`;

test('floatToHalfBits: exact values, range ends, subnormals, zeros, infinities, NaN', () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [1.5, 0x3e00],
    [65504, 0x7bff], [-65504, 0xfbff], // largest finite half
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], [-(2 ** -24), 0x8001], // smallest subnormal
    [2 ** -15, 0x0200], [1023 * 2 ** -24, 0x03ff], // subnormals
    [Infinity, 0x7c00], [-Infinity, 0xfc00],
    [1e10, 0x7c00], [-1e10, 0xfc00], [1e-10, 0x0000], [-1e-10, 0x8000],
    [1 / 3, 0x3555], [0.1, 0x2e66], [Math.PI, 0x4248],
  ];
  for (const [x, want] of cases) assert.is(hex(floatToHalfBits(x)), hex(want), `half(${x})`);
  assert.is(floatToHalfBits(NaN) & 0x7e00, 0x7e00, 'NaN → a quiet NaN');
});

test('floatToHalfBits: ties go to the even neighbour; anything past a tie rounds away', () => {
  // 1 + 2^-11 lies halfway between 1 (0x3c00, even) and 1 + 2^-10 (0x3c01): → 0x3c00.
  assert.is(hex(floatToHalfBits(1 + 2 ** -11)), '0x3c00');
  // 1 + 3·2^-11 lies halfway between 0x3c01 (odd) and 0x3c02 (even): → 0x3c02.
  assert.is(hex(floatToHalfBits(1 + 3 * 2 ** -11)), '0x3c02');
  assert.is(hex(floatToHalfBits(Math.fround(1 + 2 ** -11 + 2 ** -20))), '0x3c01', 'just above the tie');
  assert.is(hex(floatToHalfBits(Math.fround(1 + 2 ** -11 - 2 ** -20))), '0x3c00', 'just below the tie');
  // Overflow edge: 65519.99 → 65504, 65520 (the tie with 65536) → Inf.
  assert.is(hex(floatToHalfBits(65519)), '0x7bff');
  assert.is(hex(floatToHalfBits(65520)), '0x7c00');
  // Subnormal ties: 2^-25 (between 0 and 2^-24) → 0; 3·2^-25 (between 1 and 2 ulps) → 2 ulps.
  assert.is(hex(floatToHalfBits(2 ** -25)), '0x0000');
  assert.is(hex(floatToHalfBits(3 * 2 ** -25)), '0x0002');
  assert.is(hex(floatToHalfBits(Math.fround(2 ** -25 * (1 + 2 ** -20)))), '0x0001', 'just above 2^-25');
  // The largest subnormal rounds up into the smallest normal.
  assert.is(hex(floatToHalfBits(Math.fround(2 ** -14 - 2 ** -26))), '0x0400');
  // Every tie between adjacent finite halves (normal and subnormal) goes to the even one.
  for (let h = 0; h < 0x7bff; h++) {
    const mid = (halfBitsToFloat(h) + halfBitsToFloat(h + 1)) / 2; // exact in float32
    const want = h % 2 === 0 ? h : h + 1;
    if (floatToHalfBits(mid) !== want) assert.unreachable(`tie above ${hex(h)}: got ${hex(floatToHalfBits(mid))}, want ${hex(want)}`);
  }
});

test('halfBitsToFloat decodes every half and round-trips through floatToHalfBits', () => {
  assert.is(halfBitsToFloat(0x3c00), 1);
  assert.is(halfBitsToFloat(0x0001), 2 ** -24);
  assert.is(halfBitsToFloat(0x7bff), 65504);
  assert.is(halfBitsToFloat(0xfc00), -Infinity);
  assert.ok(Number.isNaN(halfBitsToFloat(0x7e00)));
  assert.ok(Object.is(halfBitsToFloat(0x8000), -0));
  for (let h = 0; h < 0x10000; h++) {
    const v = halfBitsToFloat(h);
    if (Number.isNaN(v)) continue;
    if (floatToHalfBits(v) !== h) assert.unreachable(`round trip of ${hex(h)}`);
  }
  assert.is(f16round(0.1), 0.0999755859375);
  assert.is(f16round(70000), Infinity);
});

test('halfFromFloat / halfToFloat: the array kernels apply the scalar functions', () => {
  const x = Float32Array.from([0.1, -3.25, 65520, 1e-8, 2 ** -24]);
  const h = new Uint16Array(5);
  halfFromFloat({ n: 5 }, x, h);
  assert.equal(Array.from(h), Array.from(x, (v) => floatToHalfBits(v)));
  const y = new Float32Array(5);
  halfToFloat({ n: 5 }, h, y);
  assert.equal(Array.from(y), Array.from(x, (v) => Math.fround(f16round(v))));
});

test.run();
