// The one-stage SSL methods (cutpaste, fpi, pii, nsa) end to end at a test-sized budget:
// synth-brain (easy) at 64 px (network input 32 px), 64 training images, batch 16.
//
// AUROC floor (calibrated on the cpu backend, seed 1): FPI after 6 epochs scores 0.735 on the
// 20 + 20 test images (seeds 1, 2, 3 gave 0.735, 0.757, 0.415 — at this budget the run
// depends on its seed, so the test fixes seed 1); the floor is 0.65. The other three methods
// get a smoke fit (one epoch; finite, falling loss within the epoch is not asked).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticDataset } from '../../../src/data/synthetic/index.js';
import { backends, currentBackend, setBackend } from '../../../src/engine/index.js';
import { createMethod, loadMethod, methods } from '../../../src/methods/index.js';
import { auroc } from '../../../src/metrics/index.js';
import { oneStageEpochs } from '../../../src/methods/self-supervised/one-stage.js';
import { train } from '../../../src/harness/index.js';
import { defaultEpochs } from '../../../src/harness/options.js';
import { readFileSync } from 'node:fs';

const data = syntheticDataset('synth-brain', { count: { train: 64, testNormal: 20, testAbnormal: 20 }, size: 64, seed: 1, difficulty: 'easy' });
const dir = mkdtempSync(join(tmpdir(), 'medianomaly-one-stage-'));
const hasCpu = backends().some((b) => b.name === 'cpu' && b.available);

test('registered: family self-supervised, default size 256, pixel maps, reference defaults', () => {
  for (const name of ['cutpaste', 'fpi', 'pii', 'nsa']) {
    const info = methods.info(name);
    assert.is(info.family, 'self-supervised');
    assert.is(info.defaultSize, 256);
    assert.ok(info.pixelMaps);
    const d = Object.fromEntries(info.options.map((o) => [o.name, o.default]));
    assert.equal([d.epochs, d.batchSize, d.lr, d.lrMin, d.size, d.crop, d.sslSourcePreviousSample, d.sslZeroPad256, d.patchMaskAssign, d.imageScore], [250, 64, 1e-3, 1e-6, 256, null, true, true, true, 'mean']);
  }
  assert.is(oneStageEpochs('vin'), 400);
  assert.is(oneStageEpochs('brain'), 250);
  assert.throws(() => createMethod('nsa', { crop: 48 }).validate!(), /crop must be a positive multiple of 32/);
  assert.throws(() => createMethod('nsa', { size: 80, sslZeroPad256: false }).validate!(), /multiple of 32/);
});

test('fpi trains: the loss falls, AUROC ≥ 0.65; maps are zero-padded and the score is their mean; save → load gives the same scores; ts and cpu agree', async () => {
  const m = createMethod('fpi', { size: 64, epochs: 6, batchSize: 16, seed: 1, workers: 1 });
  const fit = await m.fit(data.train);
  assert.is(fit.lossCurve.length, 6);
  assert.ok(fit.lossCurve.every(Number.isFinite));
  assert.ok(fit.lossCurve[5]! < 0.6 * fit.lossCurve[0]!, `loss ${fit.lossCurve.map((v) => v.toFixed(3)).join(' → ')}`);
  const r = await m.score(data.test);
  const auc = auroc(r.scores, data.test.labels);
  assert.ok(auc >= 0.65, `AUROC ${auc.toFixed(3)} < 0.65`);
  // The 32 × 32 prediction sits at offset 16 of the 64 × 64 map; the border is zero.
  const map = r.maps![0]!;
  assert.is(map.length, 64 * 64);
  let sum = 0;
  for (let y = 0; y < 64; y++)
    for (let x = 0; x < 64; x++) {
      const v = map[y * 64 + x]!;
      sum += v;
      if (y < 16 || y >= 48 || x < 16 || x >= 48) assert.is(v, 0, `border (${y}, ${x})`);
      else assert.ok(v > 0 && v < 1);
    }
  assert.ok(Math.abs(r.scores[0]! - sum / 4096) < 1e-6, 'score = mean of the padded map');

  await m.save(join(dir, 'fpi'));
  const back = await loadMethod(join(dir, 'fpi'));
  const again = await back.score(data.test);
  assert.equal(Array.from(again.scores), Array.from(r.scores));

  // The same weights on the other backend, on a few images: maps within float32 reordering.
  const few = { n: 4, channels: 1, size: 64, images: (await data.test.images()).slice(0, 4 * 64 * 64) };
  const here = currentBackend();
  const other = here === 'cpu' ? 'ts' : hasCpu ? 'cpu' : null;
  if (other) {
    const a = await back.score(few);
    setBackend(other);
    try {
      const b = await back.score(few);
      for (let i = 0; i < 4; i++) {
        let worst = 0;
        for (let j = 0; j < 4096; j++) worst = Math.max(worst, Math.abs(a.maps![i]![j]! - b.maps![i]![j]!));
        assert.ok(worst < 1e-4, `image ${i}: ${here} vs ${other} maps differ by ${worst}`);
      }
    } finally {
      setBackend(here);
    }
  }
});

test('cutpaste, pii, nsa: one epoch fits (inline samples for pii), finite loss, maps and scores', async () => {
  const small = syntheticDataset('synth-brain', { count: { train: 16, testNormal: 2, testAbnormal: 2 }, size: 64, seed: 2, difficulty: 'easy' });
  for (const name of ['cutpaste', 'pii', 'nsa'] as const) {
    const m = createMethod(name, { size: 64, epochs: 1, batchSize: 8, seed: 3, workers: name === 'pii' ? 0 : 1, sslSourcePreviousSample: name !== 'nsa' });
    const fit = await m.fit(small.train);
    assert.ok(Number.isFinite(fit.lossCurve[0]) && fit.lossCurve[0]! > 0, `${name} loss ${fit.lossCurve[0]}`);
    const r = await m.score(small.test);
    assert.is(r.scores.length, 4);
    assert.ok(r.scores.every((s) => s > 0 && s < 1), name);
  }
});

test('the samples, hence the weights, do not depend on the worker count', async () => {
  const tiny = syntheticDataset('synth-brain', { count: { train: 8, testNormal: 1, testAbnormal: 1 }, size: 64, seed: 4, difficulty: 'easy' });
  const scores: number[][] = [];
  for (const workers of [0, 2]) {
    const m = createMethod('cutpaste', { size: 64, epochs: 1, batchSize: 4, seed: 9, workers });
    await m.fit(tiny.train);
    scores.push(Array.from((await m.score(tiny.test)).scores));
  }
  assert.equal(scores[0], scores[1]);
});

test('harness: 400 epochs on vincxr, 250 elsewhere; data loaded with Lanczos unless the caller says otherwise', async () => {
  assert.is(defaultEpochs(methods.info('nsa'), 'vincxr'), 400);
  assert.is(defaultEpochs(methods.info('nsa'), 'rsna'), 250);
  const run = join(dir, 'run');
  await train({
    method: 'cutpaste',
    dataset: { name: 'synth-brain', options: { size: 64, count: { train: 4, testNormal: 1, testAbnormal: 1 }, seed: 5 } },
    options: { epochs: 1, batchSize: 4, workers: 0 },
    dir: run,
  });
  const record = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')) as { dataset: { options: { resample?: string } } };
  assert.is(record.dataset.options.resample, 'pil-lanczos');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
