// The data side of the one-stage SSL methods (src/methods/self-supervised/one-stage-data.ts
// and sample-pool.ts): the geometry rule, RandomRotation against Pillow (fixture from
// scripts/torch_ssl_step.py fixture), the crops, the source rule (quirk
// sslSourcePreviousSample), per-sample generators, and samples made by worker threads equal
// to samples made inline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { patchExPresets } from '../../../src/anomalies/index.js';
import { Generator } from '../../../src/engine/index.js';
import {
  cropPlane,
  makeSample,
  oneStageGeometry,
  rotateNearest,
  sampleGenerator,
  sampleJobs,
  testTransform,
  toBytes,
  trainTransform,
  type SampleSettings,
} from '../../../src/methods/self-supervised/one-stage-data.js';
import { makeBatch, SampleFeed, SamplePool } from '../../../src/methods/self-supervised/sample-pool.js';

const rotation = JSON.parse(readFileSync(new URL('../../fixtures/ssl/rotation.json', import.meta.url), 'utf8')) as {
  cases: { width: number; height: number; angle: number; src: number[]; out: number[] }[];
};

test('geometry: 256 → crop 224, centre crop 230, offset 16; the rule at other sizes; bad crops refused', () => {
  assert.equal(oneStageGeometry('t', 256, null), { size: 256, crop: 224, preCrop: 230, offset: 16 });
  assert.equal(oneStageGeometry('t', 128, null), { size: 128, crop: 96, preCrop: 99, offset: 16 });
  assert.equal(oneStageGeometry('t', 80, null), { size: 80, crop: 64, preCrop: 66, offset: 8 });
  assert.equal(oneStageGeometry('t', 64, null), { size: 64, crop: 32, preCrop: 34, offset: 16 });
  assert.equal(oneStageGeometry('t', 64, 64), { size: 64, crop: 64, preCrop: 64, offset: 0 });
  // torchvision's centre offset: int(round((S − C)/2)), half to even.
  assert.is(oneStageGeometry('t', 97, 64).offset, 16);
  assert.is(oneStageGeometry('t', 99, 64).offset, 18);
  assert.throws(() => oneStageGeometry('fpi', 256, 200), /fpi: crop must be a positive multiple of 32/);
  assert.throws(() => oneStageGeometry('fpi', 64, 96), /crop 96 is larger than the image size 64/);
  assert.throws(() => oneStageGeometry('fpi', 16, null), /size must be an integer ≥ 32/);
});

test("RandomRotation's rotate equals Pillow's Image.rotate(angle, NEAREST, fillcolor=0) pixel for pixel", () => {
  for (const c of rotation.cases) {
    const got = rotateNearest(Uint8Array.from(c.src), c.width, c.height, c.angle);
    assert.equal(Array.from(got), c.out, `${c.width}×${c.height} at ${c.angle}°`);
  }
  const img = Uint8Array.from({ length: 36 }, (_, i) => i);
  assert.equal(Array.from(rotateNearest(img, 6, 6, 0)), Array.from(img), 'angle 0 is a copy');
});

test('crops and bytes: test crop is the centre window; [-1, 1] planes back to their 8-bit levels', () => {
  const g = oneStageGeometry('t', 64, null);
  const img = Uint8Array.from({ length: 64 * 64 }, (_, i) => i % 251);
  const c = testTransform(img, g);
  assert.is(c.length, 32 * 32);
  assert.is(c[0], img[16 * 64 + 16]);
  assert.is(c[32 * 32 - 1], img[47 * 64 + 47]);
  assert.equal(Array.from(cropPlane(img, 64, 2, 3, 2)), [img[2 * 64 + 3], img[2 * 64 + 4], img[3 * 64 + 3], img[3 * 64 + 4]]);
  // ToTensor + Normalize(0.5, 0.5) on 8-bit data, then back.
  const levels = Uint8Array.from({ length: 256 }, (_, i) => i);
  const norm = Float32Array.from(levels, (u) => Math.fround((Math.fround(u / 255) - 0.5) / 0.5));
  assert.equal(Array.from(toBytes(norm, 0, 256)), Array.from(levels));
  // The train transform: the same generator state gives the same crop; values come from the image or the fill.
  const a = trainTransform(img, g, new Generator(4));
  const b = trainTransform(img, g, new Generator(4));
  assert.equal(Array.from(a), Array.from(b));
  assert.is(a.length, 32 * 32);
});

test('source rule (sslSourcePreviousSample): the previous sample of the epoch order, prev0 first; or −1', () => {
  const order = Int32Array.from([5, 2, 7, 1, 0, 3]);
  assert.equal(sampleJobs(3, order, 0, 4, 9, true).map((j) => [j.index, j.source, j.position]), [[5, 9, 0], [2, 5, 1], [7, 2, 2], [1, 7, 3]]);
  assert.equal(sampleJobs(3, order, 1, 4, 9, true).map((j) => [j.index, j.source, j.position]), [[0, 1, 4], [3, 0, 5]]);
  assert.ok(sampleJobs(3, order, 0, 4, 9, false).every((j) => j.source === -1 && j.epoch === 3));
});

test('per-sample generators depend on (seed, epoch, position) only', () => {
  const draw = (s: number, e: number, p: number) => sampleGenerator(s, e, p).uniform();
  assert.is(draw(1, 2, 3), draw(1, 2, 3));
  const all = [draw(1, 2, 3), draw(2, 2, 3), draw(1, 3, 3), draw(1, 2, 4), draw(1, 2, 0), draw(0, 0, 0)];
  assert.is(new Set(all).size, all.length);
});

/** Eight 64 × 64 "organs": textured discs on a black background. */
function organs(n = 8): Uint8Array {
  const S = 64;
  const out = new Uint8Array(n * S * S);
  const g = new Generator(11);
  for (let k = 0; k < n; k++) {
    const r = 20 + 6 * g.uniform();
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) if (Math.hypot(x - 32, y - 32) < r) out[k * S * S + y * S + x] = 60 + Math.floor(120 * g.uniform());
  }
  return out;
}

test('a sample: input = patched image / 255, a label where pixels changed; reproducible; random source in range', () => {
  const images = organs();
  const settings: SampleSettings = { seed: 5, geometry: oneStageGeometry('t', 64, 64), patch: patchExPresets.cutpaste };
  const n = 64 * 64;
  const input = new Float32Array(2 * n);
  const label = new Float32Array(2 * n);
  makeSample(images, { index: 3, source: -1, epoch: 1, position: 0 }, settings, input, label, 1);
  assert.ok(input.subarray(0, n).every((v) => v === 0), 'slot 0 untouched');
  assert.ok(input.subarray(n).every((v) => v >= 0 && v <= 1 && Number.isInteger(Math.round(v * 255))));
  assert.ok(label.subarray(n).some((v) => v === 1), 'a CutPaste patch was placed');
  const again = makeBatch(images, [{ index: 3, source: -1, epoch: 1, position: 0 }], settings);
  assert.equal(Array.from(again.input), Array.from(input.subarray(n)));
  assert.equal(Array.from(again.label), Array.from(label.subarray(n)));
  assert.throws(() => makeBatch(images, [{ index: 8, source: 0, epoch: 1, position: 0 }], settings), /outside the 8 training images/);
});

test('worker threads make exactly the samples made inline, whatever the worker count; the feed reuses prefetched batches', async () => {
  const images = organs();
  const settings: SampleSettings = { seed: 7, geometry: oneStageGeometry('t', 64, 64), patch: patchExPresets.fpi };
  const order = Int32Array.from([4, 1, 6, 0, 7, 2, 5, 3]);
  const jobs = sampleJobs(2, order, 0, 8, 3, true);
  const inline = makeBatch(images, jobs, settings);
  const pool = new SamplePool(images, settings, 2);
  try {
    const viaWorkers = await pool.batch(jobs);
    assert.equal(Array.from(viaWorkers.input), Array.from(inline.input));
    assert.equal(Array.from(viaWorkers.label), Array.from(inline.label));
    assert.ok(inline.label.some((v) => v > 0), 'FPI labels are soft and present');
    const feed = new SampleFeed(pool);
    feed.prefetch('a', jobs.slice(0, 3));
    assert.is(feed.size, 1);
    const taken = await feed.take('a', jobs.slice(0, 3));
    assert.equal(Array.from(taken.input), Array.from(inline.input.subarray(0, 3 * 64 * 64)));
    assert.is(feed.size, 0);
  } finally {
    await pool.close();
  }
  await assert.not.throws(() => pool.close());
  let err: Error | null = null;
  await pool.batch(jobs).catch((e: Error) => (err = e));
  assert.match(String(err), /closed/);
});

test.run();
