// zoom2d against scipy.ndimage.zoom 1.10 (fixture from scripts/make-zoom-fixtures.py):
// order 3 (score maps) and order 0 (masks), down- and upsampling, unequal factors, identity.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { zoom2d } from '../../src/metrics/zoom.js';
import { Lcg } from './lcg.js';

interface Case { seed: number; height: number; width: number; outHeight: number; outWidth: number; order3: number[]; order0Mask: string }
const fixture = JSON.parse(readFileSync(new URL('../fixtures/zoom/zoom.json', import.meta.url), 'utf8')) as { cases: Case[] };

/** The fixture's input: (x >>> 8) / 2²⁴ from the LCG, exact in float32. */
export function lcgMap(seed: number, h: number, w: number): Float32Array {
  const g = new Lcg(seed);
  return Float32Array.from({ length: h * w }, () => (g.next() >>> 8) / 16777216);
}

for (const c of fixture.cases) {
  test(`order 3 ${c.height}×${c.width} → ${c.outHeight}×${c.outWidth} equals SciPy (float32)`, () => {
    const x = lcgMap(c.seed, c.height, c.width);
    const z = zoom2d(x, c.height, c.width, c.outHeight, c.outWidth, 3);
    assert.ok(z instanceof Float32Array);
    // The same float64 operations in the same order, rounded once to float32: the same bits.
    let differ = 0;
    for (let i = 0; i < z.length; i++) if (z[i] !== Math.fround(c.order3[i])) differ++;
    assert.is(differ, 0, `${differ} of ${z.length} values differ from SciPy`);
  });

  test(`order 0 mask ${c.height}×${c.width} → ${c.outHeight}×${c.outWidth} equals SciPy`, () => {
    const x = lcgMap(c.seed, c.height, c.width);
    const m = Uint8Array.from(x, (v) => (v > 0.5 ? 1 : 0));
    const z = zoom2d(m, c.height, c.width, c.outHeight, c.outWidth, 0);
    assert.is(Array.from(z).join(''), c.order0Mask);
  });
}

test('bad arguments are named', () => {
  assert.throws(() => zoom2d(new Float32Array(6), 2, 2, 4, 4, 3), /6 values, not 2 × 2/);
  assert.throws(() => zoom2d(new Float32Array(4), 2, 2, 0, 4, 3), /outHeight must be a positive integer/);
  assert.throws(() => zoom2d(new Float32Array(4), 2, 2, 4, 4, 1 as 3), /order must be 0 or 3/);
  assert.throws(() => zoom2d(new Uint8Array(4), 2, 2, 4, 4, 3), /order 3 needs a float map/);
});

test.run();
