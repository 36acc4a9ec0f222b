// DAE (methods.md §5.14): the training noise step by step (coarse field, align-corners
// upsampling, one roll per batch or per image, the foreground mask from the batch or the
// image minimum, the (n − 0.5)·2 offset), then training end to end at width 8 and 32 px:
// the loss falls, scores separate lesions, save → load gives identical scores.
//
// Calibration (cpu backend; synth-brain 'easy' at 32 px, 64 training images, 20 + 20 test
// images; width 8, batch 16, 10 epochs, noise grid 16, foregroundMask on, seed 0): AUROC
// 0.895 (seeds 1, 2: 0.858, 0.905) → asserted floor 0.8.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, interpolate, randn, Tensor } from '../../../src/engine/index.js';
import { createMethod, loadMethod, methods } from '../../../src/methods/index.js';
import { addDaeNoise, type NoiseSettings } from '../../../src/methods/reconstruction/dae.js';
import { syntheticDataset } from '../../../src/data/synthetic/index.js';
import { readSafetensors } from '../../../src/nn/safetensors.js';
import { auroc } from '../../../src/metrics/index.js';
import { fastestBackend } from '../helpers.js';

const backend = fastestBackend();
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-dae-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const PLAIN: NoiseSettings = { resolution: 4, std: 0.2, foregroundMask: false, offset: false, batchMinMask: true, sharedRoll: true };

/** The (rh, rw) for which `noise` is `field` rolled, or null when none fits. */
function findRoll(field: Float32Array, noise: Float32Array, s: number): [number, number] | null {
  for (let rh = 0; rh < s; rh++) {
    for (let rw = 0; rw < s; rw++) {
      let ok = true;
      for (let y = 0; y < s && ok; y++) for (let x = 0; x < s && ok; x++) ok = noise[((y + rh) % s) * s + ((x + rw) % s)] === field[y * s + x];
      if (ok) return [rh, rw];
    }
  }
  return null;
}

/** The unrolled, unmasked field the same generator state produces (steps 1–2). */
function smoothField(b: number, res: number, std: number, size: number, seed: number): Float32Array {
  const coarse = randn([b, 1, res, res], { generator: new Generator(seed) }).mul(std);
  return interpolate(coarse, { size: [size, size], mode: 'bilinear', alignCorners: true }).data;
}

test('reference defaults: size 128, batch 16, width 64, the three noise quirks on, foreground mask off', () => {
  const d = Object.fromEntries(methods.info('dae').options.map((o) => [o.name, o.default]));
  assert.equal(
    [d.size, d.batchSize, d.width, d.noiseResolution, d.noiseStd, d.daeNoiseOffset, d.daeBatchMinMask, d.daeSharedRoll, d.foregroundMask, d.epochs, d.lr],
    [128, 16, 64, 16, 0.2, true, true, true, false, 250, 1e-3],
  );
  assert.is(methods.info('dae').defaultSize, 128);
});

test('noise: an N(0, 0.2²) 16×16 field upsampled with align_corners, rolled once for the whole batch', () => {
  const x = Tensor.empty([3, 1, 12, 12]);
  const { noise, input } = addDaeNoise(x, PLAIN, new Generator(5));
  const field = smoothField(3, 4, 0.2, 12, 5);
  const rolls = [0, 1, 2].map((i) => findRoll(field.subarray(i * 144, (i + 1) * 144), noise.data.subarray(i * 144, (i + 1) * 144), 12));
  assert.ok(rolls[0] !== null, 'image 0 is a roll of its field');
  assert.equal(rolls[1], rolls[0]);
  assert.equal(rolls[2], rolls[0]);
  assert.equal(Array.from(input.data), Array.from(noise.data), 'x = 0: the input is the noise');
  // align_corners: the field's corners are the coarse grid's corners.
  const coarse = randn([3, 1, 4, 4], { generator: new Generator(5) }).mul(0.2).data;
  assert.ok(Math.abs(field[0] - coarse[0]) < 1e-6 && Math.abs(field[143] - coarse[15]) < 1e-6);
});

test('noise: daeSharedRoll false rolls each image on its own', () => {
  const x = Tensor.empty([4, 1, 12, 12]);
  const { noise } = addDaeNoise(x, { ...PLAIN, sharedRoll: false }, new Generator(6));
  const field = smoothField(4, 4, 0.2, 12, 6);
  const rolls = [0, 1, 2, 3].map((i) => findRoll(field.subarray(i * 144, (i + 1) * 144), noise.data.subarray(i * 144, (i + 1) * 144), 12));
  assert.ok(rolls.every((r) => r !== null));
  assert.ok(new Set(rolls.map((r) => r!.join(','))).size > 1, `rolls ${JSON.stringify(rolls)}`);
});

test('noise: the offset (n − 0.5)·2 and the foreground mask from the batch or the image minimum', () => {
  // Image 0: background −1; image 1: background −0.5 (its own minimum, above the batch's).
  const x = Tensor.empty([2, 1, 8, 8]);
  x.data.fill(0.3);
  for (let k = 0; k < 8; k++) {
    x.data[k] = -1;
    x.data[64 + k] = -0.5;
  }
  const still: NoiseSettings = { ...PLAIN, std: 0, resolution: 2 }; // n = 0 before the mask and offset
  const offsetOnly = addDaeNoise(x, { ...still, offset: true }, new Generator(1)).noise.data;
  assert.ok(offsetOnly.every((v) => v === -1), 'std 0: the field is −1 everywhere');
  const s: NoiseSettings = { ...PLAIN, foregroundMask: true };
  const byBatch = addDaeNoise(x, s, new Generator(2)).noise.data;
  const byImage = addDaeNoise(x, { ...s, batchMinMask: false }, new Generator(2)).noise.data;
  for (let k = 0; k < 8; k++) {
    assert.is(byBatch[k], 0, 'image 0 background (the batch minimum) gets no noise');
    assert.is(byImage[k], 0);
    assert.is.not(byBatch[64 + k], 0, 'image 1 background lies above the batch minimum: noise');
    assert.is(byImage[64 + k], 0, 'per-image minimum: image 1 background gets none');
  }
  assert.ok(byBatch.slice(8, 64).every((v) => v !== 0) && byImage.slice(72).every((v) => v !== 0), 'foreground keeps its noise');
  const both = addDaeNoise(x, { ...s, offset: true }, new Generator(2)).noise.data;
  both.forEach((v, k) => assert.ok(Math.abs(v - (byBatch[k] - 0.5) * 2) < 1e-6));
});

test(`training at width 8, 32 px: loss falls, AUROC ≥ 0.8, save → load identical [${backend}]`, async () => {
  const data = syntheticDataset('synth-brain', { count: { train: 64, testNormal: 20, testAbnormal: 20 }, size: 32, seed: 1, difficulty: 'easy' });
  const m = createMethod('dae', { size: 32, width: 8, batchSize: 16, epochs: 10, seed: 0, foregroundMask: true });
  const fit = await m.fit(data.train);
  assert.ok(fit.lossCurve[9] < 0.3 * fit.lossCurve[0], `loss ${fit.lossCurve[0]} → ${fit.lossCurve[9]}`);
  const s = await m.score(data.test, { reconstructions: true });
  const a = auroc(s.scores, data.test.labels);
  assert.ok(a >= 0.8, `dae on ${backend}: AUROC ${a.toFixed(3)} < 0.8`);
  assert.is(s.maps![0].length, 32 * 32);
  assert.is(s.reconstructions![0].length, 32 * 32);
  const mean = s.maps![3].reduce((acc, v) => acc + v, 0) / 1024;
  assert.ok(Math.abs(mean - s.scores[3]) < 1e-6 * Math.max(1, mean));
  const dir = join(tmp, 'dae');
  await m.save(dir);
  const names = [...readSafetensors(join(dir, 'model.safetensors')).tensors.keys()];
  assert.ok(names.includes('down_path.0.block.1.weight') && names.includes('last.bias'), 'reference U-Net names');
  const loaded = await loadMethod(dir);
  const s2 = await loaded.score(data.test);
  assert.equal(Array.from(s2.scores), Array.from(s.scores));
});

test('bad sizes are refused with the rule', async () => {
  const data = syntheticDataset('synth-brain', { count: { train: 4, testNormal: 1, testAbnormal: 1 }, size: 16, seed: 1 });
  let message = '';
  await createMethod('dae', { size: 16, width: 2, epochs: 1 })
    .fit(data.train)
    .catch((e: Error) => (message = e.message));
  assert.match(message, /multiple of 16 and at least 32/);
});

test.run();
