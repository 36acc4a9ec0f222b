// synth-brain and synth-cxr through the Dataset contract: determinism, counts and
// labels, masks, value range, channels, difficulty, errors, and the catalogue.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_COUNTS, renderItem, synthetic, syntheticDataset, SYNTHETIC_NAMES } from '../../src/data/synthetic/index.js';
import { load, list } from '../../src/data/catalogue.js';

const small = { count: { train: 6, testNormal: 4, testAbnormal: 4 }, size: 32 };
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const sum = (m: Uint8Array) => m.reduce((s, v) => s + v, 0);

for (const name of SYNTHETIC_NAMES) {
  test(`${name}: same seed → identical bytes; different seed → different images`, async () => {
    const a = syntheticDataset(name, { ...small, seed: 7 });
    const b = syntheticDataset(name, { ...small, seed: 7 });
    const c = syntheticDataset(name, { ...small, seed: 8 });
    assert.ok(bytes(await a.train.images()).equals(bytes(await b.train.images())));
    assert.ok(bytes(await a.test.images()).equals(bytes(await b.test.images())));
    assert.ok(Buffer.from((await a.test.masks())!).equals(Buffer.from((await b.test.masks())!)));
    assert.not.ok(bytes(await a.train.images()).equals(bytes(await c.train.images())));
    assert.not.ok(bytes(await a.test.images()).equals(bytes(await c.test.images())));
    // Every image in a split differs from every other (no repeated subject).
    const imgs = await a.test.images();
    const n = 32 * 32;
    const seen = new Set<string>();
    for (let i = 0; i < a.test.length; i++) seen.add(bytes(imgs.subarray(i * n, (i + 1) * n)).toString('base64'));
    assert.is(seen.size, a.test.length);
  });

  test(`${name}: any item is reproducible on its own, in any order`, async () => {
    const whole = syntheticDataset(name, { ...small, seed: 3 });
    const all = await whole.test.images();
    const n = 32 * 32;
    // A fresh dataset asked for item 6 first (no other item generated) gives the same pixels.
    const alone = await syntheticDataset(name, { ...small, seed: 3 }).test.item(6);
    assert.ok(bytes(alone.image).equals(bytes(all.subarray(6 * n, 7 * n))));
    // A larger dataset shares its first items with a smaller one of the same seed.
    const bigger = syntheticDataset(name, { count: { train: 50, testNormal: 9, testAbnormal: 9 }, size: 32, seed: 3 });
    assert.ok(bytes((await bigger.train.item(5)).image).equals(bytes((await whole.train.item(5)).image)));
    const r = renderItem(name, 3, 'test-abnormal', 1, 32, 0.5);
    assert.ok(bytes(r.image).equals(bytes((await whole.test.item(5)).image)), 'test item 5 is abnormal #1');
  });

  test(`${name}: counts, labels, ids and info`, async () => {
    const d = syntheticDataset(name, small);
    assert.is(d.train.length, 6);
    assert.is(d.test.length, 8);
    assert.equal(Array.from(d.train.labels), [0, 0, 0, 0, 0, 0]);
    assert.equal(Array.from(d.test.labels), [0, 0, 0, 0, 1, 1, 1, 1]);
    assert.equal(d.train.counts, { normal: 6, abnormal: 0 });
    assert.equal(d.test.counts, { normal: 4, abnormal: 4 });
    assert.is(new Set(d.test.ids).size, 8);
    assert.is(d.test.ids[4], 'test-abnormal-0000');
    assert.ok(d.test.paths[4]!.startsWith(`synth://${name}/test-abnormal/0?`));
    assert.is(d.info.name, name);
    assert.is(d.info.modality, name === 'synth-brain' ? 'brain-mri' : 'chest-xray');
    assert.match(d.info.title, /synthetic/i);
    assert.is(d.info.source, '(generated)');
    assert.is(d.info.hasMasks, true);
    assert.equal(d.info.counts, { train: { normal: 6, abnormal: 0 }, test: { normal: 4, abnormal: 4 } });
    const batch = await d.test.batch([0, 5]);
    assert.is(batch.n, 2);
    assert.equal(Array.from(batch.labels), [0, 1]);
    assert.is(batch.images.length, 2 * 32 * 32);
    assert.is(batch.masks!.length, 2 * 32 * 32);
    // Defaults: 400 train, 100 + 100 test, 64 × 64 (lengths only: nothing is generated).
    const def = syntheticDataset(name);
    assert.equal([def.train.length, def.test.counts.normal, def.test.counts.abnormal, def.train.size], [DEFAULT_COUNTS.train, DEFAULT_COUNTS.testNormal, DEFAULT_COUNTS.testAbnormal, 64]);
    // `limit` caps each split and keeps the test split's balance.
    const lim = syntheticDataset(name, { limit: 10 });
    assert.equal([lim.train.length, lim.test.counts.normal, lim.test.counts.abnormal], [10, 5, 5]);
    let error: unknown;
    await d.test.item(8).catch((e: unknown) => (error = e));
    assert.instance(error, RangeError);
    assert.match(String(error), /out of range/);
  });

  test(`${name}: masks only on abnormal test items, non-empty, inside the organ`, async () => {
    const d = syntheticDataset(name, { count: { train: 2, testNormal: 12, testAbnormal: 24 }, size: 48, seed: 11 });
    assert.is(d.train.hasMasks, false);
    assert.is((await d.train.item(0)).mask, undefined);
    assert.is(await d.train.masks(), undefined);
    for (let i = 0; i < d.test.length; i++) {
      const it = await d.test.item(i);
      assert.ok(it.mask, `test item ${i} has a mask`);
      if (it.label === 0) assert.is(sum(it.mask!), 0, `normal item ${i} has an empty mask`);
      else assert.ok(sum(it.mask!) > 0, `abnormal item ${i} has a lesion`);
      assert.ok(it.mask!.every((v) => v === 0 || v === 1));
    }
    // Inside the brain / the visible lung fields, also for tiny images and tiny lesions.
    for (const [size, diff] of [[48, 0], [24, 1], [16, 0.5]] as const) {
      for (let k = 0; k < 20; k++) {
        const r = renderItem(name, 11, 'test-abnormal', k, size, diff);
        assert.ok(sum(r.mask!) > 0, `size ${size} difficulty ${diff} item ${k}: non-empty`);
        for (let p = 0; p < r.mask!.length; p++) if (r.mask![p]) assert.is(r.region[p], 1, `size ${size} item ${k}: mask pixel ${p} outside the organ`);
        // The organ is a sizeable part of the image (the check above is not vacuous).
        assert.ok(sum(r.region) > 0.1 * size * size);
      }
    }
  });

  test(`${name}: values are finite, within [-1, 1], and use the range`, async () => {
    const d = syntheticDataset(name, { ...small, seed: 5 });
    for (const imgs of [await d.train.images(), await d.test.images()]) {
      let lo = Infinity, hi = -Infinity;
      for (const v of imgs) {
        assert.ok(Number.isFinite(v) && v >= -1 && v <= 1, `value ${v}`);
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      assert.ok(lo < -0.7 && hi > 0.3, `range [${lo}, ${hi}]`);
    }
  });

  test(`${name}: channels: 3 replicates the grey channel`, async () => {
    const one = await syntheticDataset(name, { ...small, seed: 2 }).test.item(5);
    const three = await syntheticDataset(name, { ...small, seed: 2, channels: 3 }).test.item(5);
    const n = 32 * 32;
    assert.is(three.image.length, 3 * n);
    for (let c = 0; c < 3; c++) assert.ok(bytes(three.image.subarray(c * n, (c + 1) * n)).equals(bytes(one.image)));
    assert.equal(Array.from(three.mask!), Array.from(one.mask!));
  });

  test(`${name}: difficulty lowers lesion contrast and size; normals do not change`, () => {
    const stats = (difficulty: number) => {
      let contrast = 0, area = 0;
      const N = 40;
      for (let k = 0; k < N; k++) {
        const r = renderItem(name, 4, 'test-abnormal', k, 64, difficulty);
        let si = 0, ni = 0, so = 0, no = 0;
        for (let p = 0; p < r.image.length; p++) {
          if (r.mask![p]) (si += r.image[p]!), ni++;
          else if (r.region[p]) (so += r.image[p]!), no++;
        }
        contrast += (si / ni - so / no) / N;
        area += ni / N;
      }
      return { contrast, area };
    };
    const easy = stats(0.15), medium = stats(0.5), hard = stats(0.85);
    assert.ok(easy.contrast > medium.contrast && medium.contrast > hard.contrast, `contrast ${easy.contrast} ${medium.contrast} ${hard.contrast}`);
    assert.ok(hard.contrast > 0, 'even hard lesions are brighter than their surroundings');
    assert.ok(easy.area > medium.area && medium.area > hard.area, `area ${easy.area} ${medium.area} ${hard.area}`);
    // Difficulty is a lesion setting: normal images are identical whatever it is.
    const a = syntheticDataset(name, { ...small, difficulty: 'easy' });
    const b = syntheticDataset(name, { ...small, difficulty: 'hard' });
    return Promise.all([a.train.item(0), b.train.item(0), a.test.item(1), b.test.item(1), a.test.item(4), b.test.item(4)]).then(([ta, tb, na, nb, aa, ab]) => {
      assert.ok(bytes(ta.image).equals(bytes(tb.image)));
      assert.ok(bytes(na.image).equals(bytes(nb.image)));
      assert.not.ok(bytes(aa.image).equals(bytes(ab.image)));
    });
  });
}

test('bad options throw RangeErrors that name the option', () => {
  assert.throws(() => syntheticDataset('synth-lung'), /unknown dataset 'synth-lung'.*synth-brain/);
  assert.throws(() => syntheticDataset('synth-brain', { size: 8 }), /size must be an integer in \[16, 1024\]/);
  assert.throws(() => syntheticDataset('synth-brain', { size: 64.5 }), /size/);
  assert.throws(() => syntheticDataset('synth-brain', { seed: -1 }), /seed/);
  assert.throws(() => syntheticDataset('synth-brain', { difficulty: 'extreme' as never }), /difficulty must be 'easy', 'medium', 'hard' or a number/);
  assert.throws(() => syntheticDataset('synth-brain', { difficulty: 1.5 }), /difficulty/);
  assert.throws(() => syntheticDataset('synth-brain', { count: -3 }), /count must be a non-negative integer/);
  assert.throws(() => syntheticDataset('synth-brain', { count: { train: 2.5 } }), /count.train/);
  assert.throws(() => syntheticDataset('synth-brain', { count: { trian: 2 } as never }), /unknown count field 'trian'/);
  assert.throws(() => syntheticDataset('synth-brain', { channels: 2 as never }), /channels must be 1 or 3/);
});

test('catalogue: listed as present synthetic datasets and loadable by name with their options', async () => {
  assert.equal(synthetic.map((e) => e.name), [...SYNTHETIC_NAMES]);
  const listed = (await list()).filter((d) => d.kind === 'synthetic');
  assert.equal(listed.map((d) => d.name).sort(), [...SYNTHETIC_NAMES].sort());
  assert.ok(listed.every((d) => d.present && d.hasMasks && d.requires.length === 0));
  const d = await load('synth-cxr', { size: 32, seed: 9, channels: 3, count: { train: 3, testNormal: 2, testAbnormal: 2 }, difficulty: 'easy' } as never);
  assert.equal([d.train.length, d.test.length, d.train.channels, d.train.size], [3, 4, 3, 32]);
  assert.is(d.info.options.difficulty, 0.15);
  const direct = syntheticDataset('synth-cxr', { size: 32, seed: 9, channels: 3, count: { train: 3, testNormal: 2, testAbnormal: 2 }, difficulty: 'easy' });
  assert.ok(bytes((await d.test.item(3)).image).equals(bytes((await direct.test.item(3)).image)));
});

test.run();
