// The two-stage SSL batches (src/methods/self-supervised/two-stage-views.ts): the
// reference's DataLoader order over Repeat(train, 3000) (shuffled passes, drop_last, item
// i = image i mod N, quirk twoStageRepeat3000), the uint8 round trip of the library's
// [-1, 1] images, ToTensor + Normalize(0.5, 0.5), and the batch layout (views concatenated,
// labels 0/1/2), made the same alone, in any order and in worker threads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { batchesPerPass, makeBatch, normaliseInto, repeatLength, stepIndices, toRgbUint8, type ViewSettings } from '../../../src/methods/self-supervised/two-stage-views.js';
import { TwoStageBatchFeed } from '../../../src/methods/self-supervised/two-stage-pool.js';
import { syntheticDataset } from '../../../src/data/synthetic/index.js';

const base = { seed: 3, batchSize: 64, repeat3000: true };

test('Repeat(train, 3000): passes of ⌊3000/64⌋ = 46 batches, each a permutation of the repeated set (drop_last), items i mod N', () => {
  assert.is(repeatLength(10, true), 3000);
  assert.is(repeatLength(5000, true), 3000);
  assert.is(repeatLength(5000, false), 5000);
  assert.is(repeatLength(10, false), 3000);
  assert.is(batchesPerPass(10, base), 46);
  // Pass 0 of N = 3000: 46 disjoint batches, 2944 distinct images, the 56 dropped ones differ by pass.
  const seen = new Set<number>();
  for (let s = 0; s < 46; s++) for (const i of stepIndices(3000, base, s)) seen.add(i);
  assert.is(seen.size, 46 * 64);
  const next = new Set<number>();
  for (let s = 46; s < 92; s++) for (const i of stepIndices(3000, base, s)) next.add(i);
  assert.is(next.size, 46 * 64);
  assert.not.equal([...seen].sort(), [...next].sort());
  // N = 7: every image ≈ 3000/7 times per pass.
  const counts = new Array(7).fill(0);
  for (let s = 0; s < 46; s++) for (const i of stepIndices(7, base, s)) counts[i]++;
  assert.ok(counts.every((c) => c >= 400 && c <= 429), counts.join(','));
  // Quirk: N = 5000 uses images 0..2999 only; without it, every image can appear.
  let max = 0;
  for (let s = 0; s < 46; s++) for (const i of stepIndices(5000, base, s)) max = Math.max(max, i);
  assert.ok(max < 3000);
  let maxAll = 0;
  const all = { ...base, repeat3000: false };
  for (let s = 0; s < batchesPerPass(5000, all); s++) for (const i of stepIndices(5000, all, s)) maxAll = Math.max(maxAll, i);
  assert.ok(maxAll >= 3000);
  // A step alone equals the step in sequence (cache or not); seeds differ.
  const cache = { pass: -1, perm: null };
  for (let s = 0; s < 50; s++) stepIndices(40, base, s, cache);
  assert.equal(Array.from(stepIndices(40, base, 49, cache)), Array.from(stepIndices(40, base, 49)));
  assert.not.equal(Array.from(stepIndices(40, base, 0)), Array.from(stepIndices(40, { ...base, seed: 4 }, 0)));
  assert.throws(() => stepIndices(5, { ...base, batchSize: 3001 }, 0), /exceeds the 3000 items/);
});

test('[-1, 1] → uint8 RGB → ToTensor + Normalize(0.5, 0.5) is exact for 8-bit images; grey replicated', () => {
  const s = 4;
  const levels = Uint8Array.from({ length: s * s }, (_, i) => (i * 17) % 256);
  const x = Float32Array.from(levels, (u) => Math.fround((Math.fround(u / 255) - 0.5) / 0.5));
  const rgb = toRgbUint8(x, 0, 1, s);
  assert.is(rgb.channels, 3);
  for (let i = 0; i < s * s; i++) for (let c = 0; c < 3; c++) assert.is(rgb.data[i * 3 + c], levels[i]);
  const back = new Float32Array(3 * s * s);
  normaliseInto(rgb, back, 0);
  for (let c = 0; c < 3; c++) assert.equal(Array.from(back.subarray(c * s * s, (c + 1) * s * s)), Array.from(x));
  // Out-of-range values clamp.
  const clamp = toRgbUint8(Float32Array.of(-3, 2, 0, 1), 0, 1, 2);
  assert.equal(Array.from(clamp.data.filter((_, i) => i % 3 === 0)), [0, 255, 128, 255]);
});

for (const variant of ['normal', '3way', 'anatpaste'] as const) {
  // AnatPaste draws its shape inset by 10 px and needs anatomy regions ≥ 400 px: at 32 px it never pastes (see anatpaste.test.ts).
  const S = variant === 'anatpaste' ? 96 : 32;
  test(`batch layout (${variant}): views concatenated view by view, labels 0/1(/2), originals are the jittered images; deterministic per step`, async () => {
    const ds = syntheticDataset(variant === 'anatpaste' ? 'synth-cxr' : 'synth-brain', { size: S, count: { train: 6, testNormal: 0, testAbnormal: 0 }, seed: 1 });
    const images = await ds.train.images();
    const vs: ViewSettings = { variant, seed: 5, batchSize: 4, repeat3000: true, anatPasteDarkRegion: true, anatPasteEmptyRange255: true };
    const a = makeBatch(images, 6, 1, S, vs, 7);
    const V = variant === '3way' ? 3 : 2;
    assert.is(a.views, V);
    assert.is(a.x.length, V * 4 * 3 * S * S);
    assert.equal(Array.from(a.labels), Array.from({ length: V * 4 }, (_, i) => Math.floor(i / 4)));
    // Same step → same bits, whatever came before; another step → other samples.
    makeBatch(images, 6, 1, S, vs, 3);
    const b = makeBatch(images, 6, 1, S, vs, 7);
    assert.ok(a.x.every((v, i) => Object.is(v, b.x[i])));
    const c = makeBatch(images, 6, 1, S, vs, 8);
    assert.ok(c.x.some((v, i) => v !== a.x[i]));
    // Values are ToTensor + Normalize of 8-bit levels, in [-1, 1], grey stays grey (R = G = B).
    const plane = S * S;
    for (let k = 0; k < V * 4; k++) {
      const o = k * 3 * plane;
      for (let i = 0; i < plane; i += 37) {
        const v = a.x[o + i];
        assert.ok(v >= -1 && v <= 1);
        assert.is(a.x[o + plane + i], v);
        assert.is(a.x[o + 2 * plane + i], v);
      }
    }
    // The anomalous views differ from their original somewhere (in most samples).
    let differ = 0;
    for (let j = 0; j < 4; j++) {
      const o = j * 3 * plane;
      const p = (4 + j) * 3 * plane;
      if (a.x.subarray(p, p + plane).some((v, i) => v !== a.x[o + i])) differ++;
    }
    assert.ok(differ >= 2, `${differ} of 4 samples changed`);
  });
}

test('worker threads make the same batches as the main thread, ahead of the trainer', async () => {
  const ds = syntheticDataset('synth-brain', { size: 32, count: { train: 5, testNormal: 0, testAbnormal: 0 }, seed: 2 });
  const images = await ds.train.images();
  const vs: ViewSettings = { variant: '3way', seed: 1, batchSize: 6, repeat3000: true, anatPasteDarkRegion: true, anatPasteEmptyRange255: true };
  const feed = new TwoStageBatchFeed(images, 5, 1, 32, vs, { workers: 2, ahead: 2 });
  try {
    for (const step of [0, 1, 2, 5]) {
      const got = await feed.take(step);
      const want = makeBatch(images, 5, 1, 32, vs, step);
      assert.ok(got.x.every((v, i) => Object.is(v, want.x[i])), `step ${step}`);
      assert.equal(Array.from(got.labels), Array.from(want.labels));
    }
  } finally {
    await feed.close();
  }
});

test.run();
