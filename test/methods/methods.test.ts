// Every unified-AE method of the reconstruction family end to end on a small in-memory
// dataset: the training loss falls, the scores separate lesion images from normal ones,
// maps and reconstructions have the documented shapes, and save → loadMethod gives the
// same scores.
//
// Calibration (cpu backend, toy heads at 32 px, 48 training images, 20 + 20 test images,
// width 8, hidden 64, latent 8, batch 16, 10 epochs, seed 0), AUROC measured → asserted
// floor: ae 0.998 → 0.9, ae-l1 0.90 → 0.8, ae-ssim 0.98 → 0.85, ae-spatial 0.93 → 0.8,
// ae-grad 0.73 → 0.62, constrained-ae 0.91 → 0.8, memae 1.0 → 0.9, ceae 0.985 → 0.9,
// aeu 0.90 → 0.8. The floors leave room for the ts backend's different rounding.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMethod, loadMethod } from '../../src/methods/index.js';
import { readSafetensors } from '../../src/nn/safetensors.js';
import { auroc } from '../../src/metrics/index.js';
import { fastestBackend, SMALL, toyHeads } from './helpers.js';

const backend = fastestBackend();
const data = toyHeads({ train: 48, normal: 20, abnormal: 20, size: 32, seed: 1 });
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-methods-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const FLOORS: Record<string, number> = {
  ae: 0.9,
  'ae-l1': 0.8,
  'ae-ssim': 0.85,
  'ae-spatial': 0.8,
  'ae-grad': 0.62,
  'constrained-ae': 0.8,
  memae: 0.9,
  ceae: 0.9,
  aeu: 0.8,
};

for (const [name, floor] of Object.entries(FLOORS)) {
  test(`${name}: loss falls, AUROC ≥ ${floor}, shapes, save → load gives identical scores`, async () => {
    const m = createMethod(name, { ...SMALL, epochs: 10, seed: 0 });
    const fit = await m.fit(data.train);
    assert.is(fit.lossCurve.length, 10);
    assert.is(fit.steps, 10 * 3);
    assert.ok(fit.lossCurve[9] < fit.lossCurve[0] - 0.1 * Math.abs(fit.lossCurve[0]), `${name}: loss ${fit.lossCurve[0]} → ${fit.lossCurve[9]}`);

    const s = await m.score(data.test, { reconstructions: true });
    const a = auroc(s.scores, data.test.labels);
    assert.ok(a >= floor, `${name} on ${backend}: AUROC ${a.toFixed(3)} < ${floor}`);
    assert.is(s.scores.length, 40);
    assert.is(s.maps!.length, 40);
    assert.is(s.reconstructions!.length, 40);
    for (let i = 0; i < 40; i++) {
      assert.is(s.maps![i].length, 32 * 32);
      assert.is(s.reconstructions![i].length, 32 * 32);
      // Reference image score: the mean of the pixel map.
      const mean = s.maps![i].reduce((acc, v) => acc + v, 0) / (32 * 32);
      assert.ok(Math.abs(mean - s.scores[i]) <= 1e-5 * Math.max(1, Math.abs(mean)), `${name}: score ${i} is not the map mean`);
    }

    const dir = join(tmp, name);
    await m.save(dir);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.is(cfg.method, name);
    assert.equal(cfg.options, { ...m.options });
    assert.is(cfg.size, 32);
    assert.is(cfg.channels, 1);
    assert.is(cfg.training.epochs, 10);
    assert.equal(cfg.training.lossCurve, fit.lossCurve);
    const names = [...readSafetensors(join(dir, 'model.safetensors')).tensors.keys()];
    assert.ok(names.includes('enc.0.weight') && names.includes('enc.1.num_batches_tracked'), `${name}: PyTorch names`);

    const loaded = await loadMethod(dir);
    assert.is(loaded.info.name, name);
    assert.equal({ ...loaded.options }, { ...m.options });
    const s2 = await loaded.score(data.test);
    assert.equal(Array.from(s2.scores), Array.from(s.scores));
    assert.equal(Array.from(s2.maps![7]), Array.from(s.maps![7]));
    assert.is(s2.reconstructions, undefined);
  });
}

test('load() into a method built with other options takes the saved options', async () => {
  const src = createMethod('ae', { ...SMALL, epochs: 1, seed: 5 });
  await src.fit(data.train);
  const dir = join(tmp, 'options');
  await src.save(dir);
  const other = createMethod('ae', { latent: 4, hidden: 32, width: 4, size: 32 });
  await other.load(dir);
  assert.is(other.options.latent, 8);
  assert.is(other.options.hidden, 64);
  const [a, b] = await Promise.all([src.score(data.test), other.score(data.test)]);
  assert.equal(Array.from(a.scores), Array.from(b.scores));
  const wrong = createMethod('ae-l1', { size: 32 });
  let message = '';
  await wrong.load(dir).catch((e: Error) => (message = e.message));
  assert.match(message, /holds a saved "ae", not "ae-l1"/);
});

test('scoring a packed ImageBatch, in batches or one image at a time, gives the split scores', async () => {
  const m = createMethod('ae-grad', { ...SMALL, epochs: 1, seed: 2 });
  await m.fit(data.train);
  const whole = await m.score(data.test);
  const images = await data.test.images();
  const packed = await m.score({ n: 40, channels: 1, size: 32, images });
  assert.equal(Array.from(packed.scores), Array.from(whole.scores));
  for (const i of [0, 25]) {
    const one = await m.score({ n: 1, channels: 1, size: 32, images: images.slice(i * 1024, (i + 1) * 1024) });
    const rel = Math.abs(one.scores[0] - whole.scores[i]) / Math.abs(whole.scores[i]);
    assert.ok(rel < 1e-4, `image ${i}: batch-1 score ${one.scores[0]} vs ${whole.scores[i]}`);
  }
  const empty = await m.score({ n: 0, channels: 1, size: 32, images: new Float32Array(0) });
  assert.is(empty.scores.length, 0);
  let message = '';
  await m.score({ n: 2, channels: 1, size: 32, images: new Float32Array(10) }).catch((e: Error) => (message = e.message));
  assert.match(message, /holds 10 values, n·C·S·S = 2048/);
});

test('imageScore max: the image score is the largest map value', async () => {
  const m = createMethod('ae', { ...SMALL, epochs: 1, seed: 2, imageScore: 'max' });
  await m.fit(data.train);
  const s = await m.score(data.test);
  for (let i = 0; i < 40; i++) assert.is(s.scores[i], Math.max(...s.maps![i]));
});

test('quirk fixes: aeLinearOutput false bounds reconstructions by tanh; ssimValidWindow false scores same-size windows', async () => {
  const tanhAe = createMethod('ae', { ...SMALL, epochs: 1, seed: 2, aeLinearOutput: false });
  await tanhAe.fit(data.train);
  const r = await tanhAe.score(data.test, { reconstructions: true });
  for (const rec of r.reconstructions!) for (const v of rec) assert.ok(v > -1 && v < 1);
  const scores = async (valid: boolean) => {
    const m = createMethod('ae-ssim', { ...SMALL, epochs: 1, seed: 2, ssimValidWindow: valid });
    await m.fit(data.train);
    return m.score(data.test);
  };
  const [valid, same] = await Promise.all([scores(true), scores(false)]);
  assert.is(same.maps![0].length, 32 * 32);
  // Training is identical (the quirk shapes the score map only), the maps differ at the borders.
  assert.not.equal(Array.from(same.scores), Array.from(valid.scores));
  assert.ok(Math.abs(same.maps![0][16 * 32 + 16] - valid.maps![0][16 * 32 + 16]) < 0.05 * valid.maps![0][16 * 32 + 16] + 1e-3);
});

test('score and save before fit say that the method is not trained', async () => {
  const m = createMethod('ae', { size: 32 });
  let message = '';
  await m.score(data.test).catch((e: Error) => (message = e.message));
  assert.match(message, /not trained; call fit\(\) or load\(\) first/);
  message = '';
  await m.save(join(tmp, 'untrained')).catch((e: Error) => (message = e.message));
  assert.match(message, /not trained/);
});

test.run();
