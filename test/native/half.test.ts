// halfFromFloat / halfToFloat against the ts twin: bit-identical on random bit patterns
// (all exponents: subnormals, overflow, NaN), every tie between halves, and every half.
import * as assert from 'uvu/assert';
import { native, nativeSuite, ref, withThreads } from './helpers.js';

const { it, run } = nativeSuite('native half');

function bitsToHex(v: number): string {
  return `0x${v.toString(16)}`;
}

it('halfFromFloat: the same bits as ts for random float32 patterns and every tie, 1 and 2 threads', () => {
  const n = 200_003; // above the threading grain, odd tail for the vector loop
  const bits = new Uint32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    bits[i] = (s ^ (s << 7) ^ Math.imul(i, 2654435761)) >>> 0;
  }
  // Every midpoint between adjacent finite halves (round-to-even cases), both signs.
  for (let h = 0; h < 0x7bff; h++) {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const lo = new Float32Array(1);
    ref.halfToFloat({ n: 1 }, Uint16Array.of(h), lo);
    const hi = new Float32Array(1);
    ref.halfToFloat({ n: 1 }, Uint16Array.of(h + 1), hi);
    f[0] = (lo[0] + hi[0]) / 2;
    bits[2 * h] = u[0];
    bits[2 * h + 1] = u[0] | 0x80000000;
  }
  const x = new Float32Array(bits.buffer);
  for (const threads of [1, 2])
    withThreads(threads, () => {
      const want = new Uint16Array(n);
      const got = new Uint16Array(n).fill(0xdead);
      ref.halfFromFloat({ n }, x, want);
      native.halfFromFloat({ n }, x, got);
      for (let i = 0; i < n; i++)
        if (got[i] !== want[i]) assert.unreachable(`${threads}t: half(${x[i]} = ${bitsToHex(bits[i])}) native ${bitsToHex(got[i])}, ts ${bitsToHex(want[i])}`);
    });
});

it('halfToFloat: every half decodes to the same float32 as ts (NaN to a NaN)', () => {
  const h = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const want = new Float32Array(65536);
  const got = new Float32Array(65536).fill(7);
  ref.halfToFloat({ n: 65536 }, h, want);
  native.halfToFloat({ n: 65536 }, h, got);
  for (let i = 0; i < 65536; i++) {
    if (Number.isNaN(want[i])) assert.ok(Number.isNaN(got[i]), `${bitsToHex(i)} is NaN`);
    else if (!Object.is(got[i], want[i])) assert.unreachable(`${bitsToHex(i)}: native ${got[i]}, ts ${want[i]}`);
  }
});

it('halfFromFloat / halfToFloat refuse arrays of the wrong type or length', () => {
  assert.throws(() => native.halfFromFloat({ n: 4 }, new Float32Array(4), new Int16Array(4) as unknown as Uint16Array), /Uint16Array/);
  assert.throws(() => native.halfToFloat({ n: 4 }, new Uint16Array(3), new Float32Array(4)), /needs at least 4/);
});

run();
