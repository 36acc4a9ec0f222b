// resnet18-in at 32 px on a random-weight resnet18: the score equals the pipeline written
// out (Normalize(0.5, 0.5) → avgpool → L2 normalisation → Ledoit–Wolf mean and precision →
// Mahalanobis distance), the quirk switches to the ImageNet normalisation, no pixel maps,
// save → load gives identical scores, same seed → same model, grey = replicated colour,
// bad input refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad, Tensor } from '../../../src/engine/index.js';
import { backbones, toBackboneInput } from '../../../src/models/backbones/index.js';
import { createMethod, loadMethod } from '../../../src/methods/index.js';
import { l2NormaliseRows, Resnet18In } from '../../../src/methods/feature-reference/resnet18-in.js';
import { ledoitWolf, mahalanobis } from '../../../src/stats/index.js';
import { arraySplit, fastestBackend, rejects, toyHeads } from '../helpers.js';

fastestBackend();
const quiet = { onMessage: () => {} };
const SMALL = { weights: 'random', size: 32, channels: 1, batchSize: 5 } as const;
const data = toyHeads({ train: 12, normal: 3, abnormal: 3, size: 32, seed: 9 });

test('l2NormaliseRows: unit rows; a zero row stays zero (max(‖e‖, 1e-12))', () => {
  const out = l2NormaliseRows(Float32Array.from([3, 4, 0, 0]), 2, 2);
  assert.equal(Array.from(out), [Math.fround(0.6), Math.fround(0.8), 0, 0]);
});

test('scores = the reference pipeline written out; no maps; the quirk picks the normalisation', async () => {
  const m = createMethod('resnet18-in', { ...SMALL, seed: 2 }) as Resnet18In;
  await m.fit(data.train, quiet);
  const r = await m.score(data.test);
  assert.is(r.maps, undefined);
  assert.is(r.scores.length, 6);
  const net = backbones.create('resnet18', { weights: 'random', seed: 2 });
  const embed = async (split: typeof data.train, normalisation: 'half' | 'imagenet') => {
    const x = Tensor.fromData(await split.images(), [split.length, 1, 32, 32]);
    const f = noGrad(() => net.features(toBackboneInput(x, { normalisation, channelPolicy: 'replicate' }), ['avgpool']).avgpool);
    return l2NormaliseRows(f.data, split.length, 512);
  };
  const lw = ledoitWolf(await embed(data.train, 'half'), 12, 512);
  assert.ok(lw.shrinkage > 0 && lw.shrinkage <= 1);
  const expected = mahalanobis(await embed(data.test, 'half'), 6, Float32Array.from(lw.location), Float32Array.from(lw.precision));
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(r.scores[i] - expected[i]) <= 1e-4 * Math.abs(expected[i]), `score ${i}: ${r.scores[i]} vs ${expected[i]}`);
  assert.is(m.gaussian.shrinkage, lw.shrinkage);
  // The ImageNet normalisation: another embedding, other scores.
  const im = createMethod('resnet18-in', { ...SMALL, seed: 2, resnetInHalfNorm: false }) as Resnet18In;
  await im.fit(data.train, quiet);
  const lwIm = ledoitWolf(await embed(data.train, 'imagenet'), 12, 512);
  assert.ok(Math.abs(im.gaussian.shrinkage! - lwIm.shrinkage) < 1e-12);
});

test('save → load gives identical scores; the config records the weights SHA-256 (null: random) and the fit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'resnet18-in-'));
  try {
    const m = createMethod('resnet18-in', SMALL);
    await m.fit(data.train, quiet);
    const before = await m.score(data.test);
    await m.save(dir);
    const back = await loadMethod(dir);
    const after = await back.score(data.test);
    assert.equal(Array.from(after.scores), Array.from(before.scores));
    assert.is((back as Resnet18In).gaussian.shrinkage, (m as Resnet18In).gaussian.shrinkage);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.is(cfg.featureReference.weightsSha256, null);
    assert.equal(cfg.featureReference.layers, ['avgpool']);
    assert.is(cfg.featureReference.fitted.dim, 512);
    assert.is(cfg.featureReference.fitted.normalisation, 'half');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('same seed → same model; grey input equals the same image replicated to three channels', async () => {
  const fit = async (split: typeof data.train, channels: number) => {
    const m = createMethod('resnet18-in', { ...SMALL, channels, seed: 4 }) as Resnet18In;
    await m.fit(split, quiet);
    return m.gaussian;
  };
  const a = await fit(data.train, 1);
  const b = await fit(data.train, 1);
  assert.equal(Array.from(b.precision), Array.from(a.precision));
  const grey = await data.train.images();
  const n = data.train.length;
  const per = 32 * 32;
  const rgb = new Float32Array(n * 3 * per);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) rgb.set(grey.subarray(i * per, (i + 1) * per), (i * 3 + c) * per);
  const c = await fit(arraySplit('train', rgb, new Uint8Array(n), 3, 32), 3);
  assert.equal(Array.from(c.precision), Array.from(a.precision));
});

test('bad input refused: one training image, a VGG backbone, the family normalisation option (the quirk replaces it)', async () => {
  const one = toyHeads({ train: 1, normal: 1, abnormal: 1, size: 32, seed: 1 });
  await rejects(() => createMethod('resnet18-in', SMALL).fit(one.train, quiet), /at least 2 training images, got 1/);
  assert.throws(() => createMethod('resnet18-in', { ...SMALL, backbone: 'vgg19' }).validate!(), /no layer "avgpool"|must be a ResNet/);
  assert.throws(() => createMethod('resnet18-in', { ...SMALL, normalisation: 'half' } as never), /normalisation/);
});

test.run();
