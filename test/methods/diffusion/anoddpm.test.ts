// AnoDDPM (diffusion spec §2) end to end on synth-brain at 32 px, in a configuration smaller
// than the spec's AnoDDPM-mini (§6.4) so that the file stays within a test's budget: U-Net C 32,
// mults (1, 1), one ResBlock per level, attention at 16×16, 1 head (0.31 M parameters); linear
// schedule T = 100 (β scaled by 1000/T), λ = 10; batch 8, lr 2e-3, EMA 0.9.
//
// Calibration (cpu backend; synth-brain 'easy', 24 train, 5 + 5 test images, seed 0):
// Gaussian loss 0.87 → 0.14 in 4 epochs, pixel AUROC 0.61 (image AUROC 0.48); simplex (3
// octaves, wavelength 8) loss 0.15 → 0.067, pixel AUROC 0.76 (image AUROC 0.92); normal-image
// error at λ = 12 / 4 / 1: 0.075 / 0.016 / 0.0009 (Gaussian), 0.041 / 0.006 / 0.0002 (simplex).
// Asserted: loss × 0.5 (simplex × 0.65: its field is smaller and the first epoch already
// learns much of it), pixel AUROC > 0.55, errors strictly falling with λ. The whole file:
// ≈ 20 s at load 11 on the 2 shared vCPUs (28–40 s when busier).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, Tensor } from '../../../src/engine/index.js';
import { createMethod, loadMethod, methods } from '../../../src/methods/index.js';
import type { AnoDDPMMethod } from '../../../src/methods/diffusion/anoddpm.js';
import { syntheticDataset } from '../../../src/data/synthetic/index.js';
import { readSafetensors } from '../../../src/nn/safetensors.js';
import { auroc } from '../../../src/metrics/index.js';
import { fastestBackend } from '../helpers.js';

const backend = fastestBackend();
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-anoddpm-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const TINY = {
  size: 32,
  baseChannels: 32,
  channelMults: '1,1',
  numResBlocks: 1,
  attentionResolutions: '16',
  heads: 1,
  timesteps: 100,
  level: 10,
  sampleDistance: 80,
  batchSize: 8,
  lr: 2e-3,
  emaDecay: 0.9,
  simplexOctaves: 3,
  simplexFrequency: 8,
  scoreBatchSize: 16,
  seed: 0,
} as const;

const create = (o: Record<string, unknown>) => createMethod('anoddpm', { ...TINY, ...o } as never) as unknown as AnoDDPMMethod;

function meanSquaredError(a: Float32Array, b: Float32Array): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e += (a[i] - b[i]) ** 2;
  return e / a.length;
}

test('reference defaults (args26/28, λ 250)', () => {
  const d = Object.fromEntries(methods.info('anoddpm').options.map((o) => [o.name, o.default]));
  assert.equal(
    [d.size, d.baseChannels, d.heads, d.schedule, d.timesteps, d.sampleDistance, d.trainStart, d.batchSize, d.lr, d.loss, d.emaDecay, d.gradClip, d.level, d.noise, d.simplexOctaves, d.simplexPersistence, d.simplexFrequency, d.imageScore],
    [256, 128, 2, 'linear', 1000, 800, true, 1, 1e-4, 'l2', 0.9999, 1, 250, 'simplex', 6, 0.8, 64, 'mean'],
  );
  assert.is(methods.info('anoddpm').family, 'image-reconstruction');
  assert.throws(() => create({ level: 101 }).validate?.(), /"level" \(λ = 101\) must be at most timesteps = 100/);
  assert.throws(() => create({ channelMults: '1,x' }).validate?.(), /comma-separated positive numbers/);
});

for (const noise of ['gaussian', 'simplex'] as const) {
  test(`${noise}: loss falls, lesions show in the map, error falls with λ${noise === 'gaussian' ? ', save → load identical' : ''} [${backend}]`, async () => {
    const data = syntheticDataset('synth-brain', { count: { train: 24, testNormal: 5, testAbnormal: 5 }, size: 32, seed: 1, difficulty: 'easy' });
    const m = create({ noise, epochs: 4 });
    const fit = await m.fit(data.train);
    const curve = fit.lossCurve;
    assert.ok(curve[curve.length - 1] < (noise === 'gaussian' ? 0.5 : 0.65) * curve[0], `loss ${curve.map((v) => v.toFixed(3)).join(' → ')}`);

    const s = await m.score(data.test);
    assert.is(m.lastSampling.unetCalls, 10, 'λ U-Net calls for the one batch of 10 images');
    assert.ok(m.lastSampling.imagesPerSecond > 0);
    const masks = (await data.test.masks())!;
    const all = new Float32Array(10 * 1024);
    s.maps!.forEach((mp, i) => all.set(mp, i * 1024));
    const pix = auroc(all, Uint8Array.from(masks, (v) => (v ? 1 : 0)));
    const img = auroc(s.scores, data.test.labels);
    assert.ok(pix > 0.55, `pixel AUROC ${pix.toFixed(3)} (image AUROC ${img.toFixed(3)})`);
    const mean = s.maps![7].reduce((a, v) => a + v, 0) / 1024;
    assert.ok(Math.abs(mean - s.scores[7]) < 1e-6 * Math.max(1, mean), 'image score = mean of the map');

    // Reconstructions of normal images approach the input as λ falls.
    const x = Tensor.fromData((await data.test.images()).slice(0, 2 * 1024), [2, 1, 32, 32]);
    const err = [12, 4, 1].map((lam) => meanSquaredError(m.reconstruct(x, lam, new Generator(3)).x.data, x.data));
    assert.ok(err[0] > err[1] && err[1] > err[2], `error at λ 12, 4, 1: ${err.map((e) => e.toFixed(4)).join(', ')}`);

    if (noise === 'gaussian') {
      const dir = join(tmp, noise);
      await m.save(dir);
      const saved = readSafetensors(join(dir, 'model.safetensors')).tensors;
      const key = 'model.out.2.weight';
      assert.ok(saved.has(key) && saved.has('ema.out.2.weight'), 'the trained weights and their EMA are saved');
      const loaded = await loadMethod(dir);
      assert.equal(Array.from((await loaded.score(data.test)).scores), Array.from(s.scores), 'save → load: identical scores');
    }
  });
}

test(`simplex: same seed → same numbers; a resumed run equals an uninterrupted one (EMA included) [${backend}]`, async () => {
  const data = syntheticDataset('synth-brain', { count: { train: 8, testNormal: 1, testAbnormal: 1 }, size: 32, seed: 2, difficulty: 'easy' });
  const o = { noise: 'simplex', batchSize: 4, level: 3, emaDecay: 0.5 };
  const a = create({ ...o, epochs: 2 });
  const fa = await a.fit(data.train, { checkpointDir: join(tmp, 'ck-a') });
  const sa = await a.score(data.test);
  const b = create({ ...o, epochs: 2 });
  const fb = await b.fit(data.train);
  assert.equal(fb.lossCurve, fa.lossCurve, 'same seed, same losses');
  assert.equal(Array.from((await b.score(data.test)).scores), Array.from(sa.scores), 'same seed, same scores (scoring repeats its draws)');
  const c1 = create({ ...o, epochs: 1 });
  await c1.fit(data.train, { checkpointDir: join(tmp, 'ck-c') });
  const c2 = create({ ...o, epochs: 2 });
  const fc = await c2.fit(data.train, { checkpointDir: join(tmp, 'ck-c'), resume: true });
  assert.equal(fc.lossCurve, fa.lossCurve, 'resumed losses');
  assert.equal(Array.from((await c2.score(data.test)).scores), Array.from(sa.scores), 'resumed scores (the EMA weights score)');
  const d = create({ ...o, epochs: 2, seed: 1 });
  const fd = await d.fit(data.train);
  assert.not.equal(fd.lossCurve, fa.lossCurve, 'another seed, other numbers');
});

test.run();
