// AutoDDPM as a method (diffusion spec §3): the reference defaults, option refusals, then a
// reduced configuration (§6.4 AutoDDPM-mini, narrower: MONAI U-Net (32, 32, 32), attention at
// the deepest level, T = 100 with β scaled ×10, L_rec 20, L_inp 5, R 5; τ = −1 so that every
// image is masked by its own P95; random LPIPS weights) trained on synth-brain at 32 px:
// the loss falls, lesions show in the map (pixel AP far above the lesion fraction) and in
// the image scores, the same seed gives the same numbers, save → load gives identical maps.
//
// Calibration (cpu backend, seed 0; synth-brain 'easy', 32 training images, batch 8, lr 2e-3,
// 4 epochs; 4 + 4 test images): loss 0.77 → 0.08, image AUROC 1.0, pixel AP 0.91 against a
// lesion fraction of 0.025 → asserted floors AUROC ≥ 0.75, AP ≥ 0.3.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMethod, loadMethod, methods } from '../../../src/methods/index.js';
import { syntheticDataset } from '../../../src/data/synthetic/index.js';
import { readSafetensors } from '../../../src/nn/safetensors.js';
import { auroc, averagePrecision } from '../../../src/metrics/index.js';
import type { ImageBatch } from '../../../src/methods/types.js';
import type { AutoDDPMMethod } from '../../../src/methods/diffusion/autoddpm.js';
import { fastestBackend } from '../helpers.js';

const backend = fastestBackend();
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-autoddpm-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const MINI = {
  size: 32,
  unetChannels: '32,32,32',
  unetAttention: 'false,false,true',
  headChannels: 32,
  timesteps: 100,
  noiseLevelRecon: 20,
  noiseLevelInpaint: 5,
  resampleSteps: 5,
  maskingThreshold: -1,
  weights: 'random',
  batchSize: 8,
  lr: 2e-3,
  seed: 0,
} as const;

test('reference defaults: 128 px, batch 16, Adam 1e-4, 3000 epochs; levels 200 / 50, R 5, τ 0.13; LPIPS [−1, 1], mean score', () => {
  const info = methods.info('autoddpm');
  const d = Object.fromEntries(info.options.map((o) => [o.name, o.default]));
  assert.equal(
    [d.size, d.batchSize, d.lr, d.epochs, d.unetChannels, d.unetAttention, d.resBlocks, d.headChannels, d.timesteps],
    [128, 16, 1e-4, 3000, '128,256,256', 'false,true,true', 1, 256, 1000],
  );
  assert.equal([d.noiseLevelRecon, d.noiseLevelInpaint, d.resampleSteps, d.maskingThreshold, d.lpipsRange, d.imageScore, d.weights], [200, 50, 5, 0.13, '[-1,1]', 'mean', null]);
  assert.is(info.family, 'image-reconstruction');
  assert.ok(info.pixelMaps);
  assert.is(info.defaultSize, 128);
});

test('refusals name the option', () => {
  const check = (o: Record<string, unknown>, re: RegExp) => assert.throws(() => createMethod('autoddpm', { ...MINI, ...o } as never).validate!(), re);
  check({ noiseLevelRecon: 100 }, /"noiseLevelRecon" must be below timesteps \(100\)/);
  check({ noiseLevelInpaint: 120 }, /"noiseLevelInpaint" must be below timesteps/);
  check({ maskingThreshold: -0.5 }, /"maskingThreshold" must be ≥ 0 .* or −1/);
  check({ size: 16 }, /"size" must be at least 17/);
  check({ size: 34 }, /"size" must be a multiple of 4/);
  check({ unetAttention: 'false,true' }, /"unetAttention" has 2 entries but "unetChannels" has 3 levels/);
  check({ unetChannels: '32,x,32' }, /"unetChannels" must be a comma-separated list of positive integers/);
  check({ weights: join(tmp, 'absent.safetensors') }, /absent\.safetensors/);
});

test(`AutoDDPM-mini on synth-brain 32 px: loss falls, lesions show, same seed same numbers, save → load identical [${backend}]`, async () => {
  const data = syntheticDataset('synth-brain', { count: { train: 32, testNormal: 4, testAbnormal: 4 }, size: 32, seed: 1, difficulty: 'easy' });
  const m = createMethod('autoddpm', { ...MINI, epochs: 4 });
  const fit = await m.fit(data.train);
  assert.ok(fit.lossCurve[3] < 0.4 * fit.lossCurve[0], `loss ${fit.lossCurve.join(' → ')}`);

  const s = await m.score(data.test, { reconstructions: true });
  const a = auroc(s.scores, data.test.labels);
  assert.ok(a >= 0.75, `image AUROC ${a.toFixed(3)}`);
  const masks = (await data.test.masks())!;
  const flat = new Float32Array(8 * 1024);
  s.maps!.forEach((map, i) => flat.set(map, i * 1024));
  const labels = Uint8Array.from(masks, (v) => (v > 0 ? 1 : 0));
  const lesion = labels.reduce((acc, v) => acc + v, 0) / labels.length;
  const ap = averagePrecision(flat, labels);
  assert.ok(ap >= 0.3 && ap > 5 * lesion, `pixel AP ${ap.toFixed(3)} vs lesion fraction ${lesion.toFixed(3)}`);
  // The image score is the mean of the map; reconstructions live in [−1, 1].
  const mean = s.maps![5].reduce((acc, v) => acc + v, 0) / 1024;
  assert.ok(Math.abs(mean - s.scores[5]) <= 1e-6 * Math.max(1e-3, mean));
  assert.ok(s.reconstructions!.every((r) => r.length === 1024 && r.every((v) => v >= -1 && v <= 1)));
  const sampling = (m as AutoDDPMMethod).lastSampling;
  assert.is(sampling.unetCalls, 21 + 25, 'one batch of 8: L_rec + 1 + L_inp·R calls');
  assert.ok(sampling.imagesPerSecond > 0);

  // Same seed, same numbers: a one-epoch run repeats the first epoch of this one.
  const again = createMethod('autoddpm', { ...MINI, epochs: 1 });
  const fit1 = await again.fit(data.train);
  assert.is(fit1.lossCurve[0], fit.lossCurve[0]);

  const dir = join(tmp, 'autoddpm');
  await m.save(dir);
  const names = [...readSafetensors(join(dir, 'model.safetensors')).tensors.keys()];
  assert.ok(names.includes('conv_in.conv.weight') && names.includes('out.2.conv.weight'), 'the reference state-dict names');
  const loaded = await loadMethod(dir);
  const pair: ImageBatch = { n: 2, channels: 1, size: 32, images: (await data.test.images()).slice(3 * 1024, 5 * 1024) };
  const before = await m.score(pair);
  const after = await loaded.score(pair);
  assert.equal(Array.from(after.scores), Array.from(before.scores));
  assert.equal(Array.from(after.maps![1]), Array.from(before.maps![1]));
  assert.ok(before.scores[1] > 0, 'the abnormal image of the pair has a non-zero score');
});

test.run();
