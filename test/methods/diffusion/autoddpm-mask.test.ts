// AutoDDPM's mask and stitch (diffusion spec §3.4 steps 2–4, §7.8): numpy's linear
// percentile, the per-image residual normalisation and its P95 = 0 guard, the strict
// threshold (scalar or per-image P95), the 3×3 dilation with out-of-image pixels ignored,
// the stitch — against hand-computed values, then against the reference's own lines
// (torch float32 + numpy + scipy) in test/fixtures/diffusion/autoddpm-mask.json
// (scripts/make-autoddpm-mask-fixtures.py).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  autoddpmMask, combinedMask, dilate3x3, maskThresholds, normalisedResidual, percentileLinear, stitch,
} from '../../../src/methods/diffusion/autoddpm-mask.js';

const f32 = (a: number[]) => Float32Array.from(a);
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

test('percentileLinear = numpy.percentile (linear), both halves of its lerp', () => {
  // Values printed by numpy 1.24: the fraction ≥ 0.5 interpolates from the upper neighbour.
  assert.is(percentileLinear([1, 2, 3, 4], 95), 3.8499999999999996);
  assert.is(percentileLinear([4, 1, 3, 2], 95), 3.8499999999999996, 'unsorted input');
  assert.is(percentileLinear([0, 0, 0, 5], 95), 4.249999999999998);
  assert.is(percentileLinear(Float32Array.from({ length: 20 }, (_, i) => i), 95), 18.05);
  assert.is(percentileLinear(Float32Array.from({ length: 100 }, (_, i) => i), 95), 94.05, 'fraction 0.05 < 0.5: from the lower neighbour');
  assert.is(percentileLinear(f32([0.1, 0.2, 0.3, 0.4]), 95), 0.3850000068545341, 'float32 values, float64 arithmetic');
  assert.is(percentileLinear([7], 95), 7);
  assert.is(percentileLinear([3, 1, 2], 0), 1);
  assert.is(percentileLinear([3, 1, 2], 100), 3);
  assert.ok(Number.isNaN(percentileLinear([1, NaN, 2], 95)));
  assert.throws(() => percentileLinear([], 95), /must not be empty/);
  assert.throws(() => percentileLinear([1], 101), /q must be in \[0, 100\]/);
});

test('residual: |x − x̂| / P95 per image, clipped to [0, 1]; P95 = 0 → 1 where r > 0, else 0', () => {
  const g = { batch: 3, channels: 1, height: 5, width: 5 };
  const x = new Float32Array(75);
  const xHat = new Float32Array(75);
  // Image 0: r = 0.1, 0.2, 0.3, 0.4 on four pixels, 0 elsewhere (21 zeros of 25).
  [0.1, 0.2, 0.3, 0.4].forEach((v, k) => (xHat[k] = v));
  // Image 1: x̂ = x: every r is 0. Image 2: one pixel differs (1 of 25 < 5 %): P95 = 0.
  xHat[50 + 7] = 0.25;
  const r = normalisedResidual(x, xHat, g);
  // Image 0: sorted r has 21 zeros then 0.1 … 0.4; position 0.95·24 = 22.8 → 0.2 + 0.8·0.1 = 0.28 (from the upper: 0.3 − 0.1·0.2).
  const p = Math.fround(percentileLinear([...new Array(21).fill(0), ...f32([0.1, 0.2, 0.3, 0.4])], 95));
  assert.ok(Math.abs(p - 0.28) < 1e-7, `P95 ${p}`);
  close(r.subarray(0, 4), [0.1 / 0.28, 0.2 / 0.28, 1, 1], 1e-6, 'image 0');
  assert.ok(r.subarray(4, 25).every((v) => v === 0));
  assert.ok(r.subarray(25, 50).every((v) => v === 0), 'image 1: all zero, no NaN');
  assert.is(r[57], 1, 'image 2: the only differing pixel → 1');
  assert.is(r.subarray(50, 75).reduce((a, v) => a + v, 0), 1, 'image 2: every other pixel 0');
  assert.throws(() => normalisedResidual(x, xHat.subarray(1), g), /xHat must be a Float32Array of 75 values/);
});

test('combined mask broadcasts the [B, 1, H, W] LPIPS map over channels', () => {
  const g = { batch: 1, channels: 2, height: 1, width: 2 };
  const m = combinedMask(f32([0.5, 2]), f32([0.2, 0.4, 1, 0.25]), g);
  close(m, [0.1, 0.8, 0.5, 0.5], 1e-7, 'm_c');
});

test('threshold: strict, a scalar τ compared as float32; τ = −1 → per-image clip(P95(m_c), 0, 1)', () => {
  const g = { batch: 1, channels: 1, height: 3, width: 3 };
  const x = new Float32Array(9);
  const xHat = new Float32Array(9).fill(0.5); // r = 1 everywhere after normalisation
  const s = new Float32Array(9).fill(Math.fround(0.13));
  s[4] = 0.1300001;
  const at = autoddpmMask(x, xHat, s, g, 0.13);
  assert.equal(Array.from(at.thresholds), [Math.fround(0.13)]);
  // Only the centre lies strictly above τ; m_c = τ elsewhere stays unmasked; the dilation fills the 3×3.
  assert.equal(Array.from(at.mask), new Array(9).fill(1));
  const none = autoddpmMask(x, xHat, new Float32Array(9).fill(Math.fround(0.13)), g, 0.13);
  assert.equal(Array.from(none.mask), new Array(9).fill(0), 'm_c = τ exactly: not masked (strict)');
  // Per image: image 0 has P95 inside (0, 1), image 1 a map above 1 (τ clipped to 1).
  const comb = f32([...Array.from({ length: 9 }, (_, k) => k / 10), ...new Array(9).fill(3)]);
  const taus = maskThresholds(comb, { batch: 2, channels: 1, height: 3, width: 3 }, -1);
  assert.ok(Math.abs(taus[0] - percentileLinear(comb.subarray(0, 9), 95)) === 0 && Math.abs(taus[0] - 0.76) < 1e-6, `τ_0 ${taus[0]}`);
  assert.is(taus[1], 1);
  assert.throws(() => maskThresholds(comb, { batch: 2, channels: 1, height: 3, width: 3 }, -0.5), /≥ 0 \(one τ for every image\) or −1/);
});

test('dilation: 3×3 all-ones, one iteration, out-of-image pixels ignored, planes independent', () => {
  const h = 5, w = 6;
  const m = new Float32Array(3 * h * w);
  m[2 * w + 3] = 1; // plane 0: interior pixel (2, 3)
  m[h * w + 0] = 1; // plane 1: corner (0, 0)
  m[h * w + (h - 1) * w + 2] = 1; // plane 1: bottom edge (4, 2)
  const d = dilate3x3(m, 3, h, w);
  const plane = (p: number) => Array.from({ length: h }, (_, y) => Array.from(d.subarray(p * h * w + y * w, p * h * w + (y + 1) * w)).join('')).join('/');
  assert.is(plane(0), '000000/001110/001110/001110/000000');
  assert.is(plane(1), '110000/110000/000000/011100/011100');
  assert.is(plane(2), '000000/000000/000000/000000/000000', 'an empty mask stays empty');
  assert.equal(Array.from(dilate3x3(new Float32Array(4).fill(1), 1, 2, 2)), [1, 1, 1, 1]);
});

test('stitch: x_known = (1 − m) ⊙ x, display x_known + m ⊙ x̂', () => {
  const { known, stitched } = stitch(f32([0.2, 0.4, 0.6]), f32([0.9, 0.8, 0.7]), f32([0, 1, 0]));
  close(known, f32([0.2, 0, 0.6]), 0, 'known');
  close(stitched, f32([0.2, 0.8, 0.6]), 0, 'stitched');
});

interface FixtureCase {
  threshold: number;
  thresholds: number[];
  residual: number[];
  combined: number[];
  binary: number[];
  mask: number[];
  known: number[];
  stitched: number[];
}

test('the reference lines (torch float32, numpy percentile, scipy binary_dilation): τ 0.13 and τ = −1', () => {
  const path = fileURLToPath(new URL('../../fixtures/diffusion/autoddpm-mask.json', import.meta.url));
  const fx = JSON.parse(readFileSync(path, 'utf8')) as { shape: number[]; x: number[]; xRec: number[]; lpips: number[]; cases: FixtureCase[] };
  const [batch, channels, height, width] = fx.shape;
  const g = { batch, channels, height, width };
  for (const c of fx.cases) {
    const out = autoddpmMask(f32(fx.x), f32(fx.xRec), f32(fx.lpips), g, c.threshold);
    const what = `τ ${c.threshold}`;
    // float32 division by a float32-cast percentile, as numpy does: bit for bit.
    close(out.residual, c.residual, 0, `${what} residual`);
    close(out.combined, c.combined, 0, `${what} combined`);
    // A scalar τ is compared as float32 (torch casts the Python float), a per-image τ_i as float64.
    close(out.thresholds, c.threshold >= 0 ? f32(c.thresholds) : c.thresholds, 0, `${what} thresholds`);
    assert.equal(Array.from(out.mask), c.mask, `${what} dilated mask`);
    assert.ok(c.mask.some((v) => v === 1) && c.mask.some((v) => v === 0), 'the case masks some pixels, not all');
    const st = stitch(f32(fx.x), f32(fx.xRec), out.mask);
    close(st.known, c.known, 0, `${what} known`);
    close(st.stitched, c.stitched, 0, `${what} stitched`);
  }
});

test.run();
