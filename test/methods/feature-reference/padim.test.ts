// PaDiM end to end at 32 px on a random-weight resnet18 (8×8 layer1 grid, d = 100 of 448):
// the channel subset and the embedding gather by hand, fit → score on grey and colour input,
// the map and image-score rules, save → load gives identical scores, same seed → same model,
// bad options refused. The statistics themselves are checked in test/stats/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../../src/engine/index.js';
import { createMethod, loadMethod } from '../../../src/methods/index.js';
import { Padim, padimChannels, padimEmbedding } from '../../../src/methods/feature-reference/padim.js';
import { arraySplit, fastestBackend, rejects, toyHeads } from '../helpers.js';

fastestBackend();
const quiet = { onMessage: () => {} };
const SMALL = { weights: 'random', size: 32, channels: 1, batchSize: 4 } as const;
const data = toyHeads({ train: 8, normal: 3, abnormal: 3, size: 32, seed: 5 });

test('padimChannels: d distinct ascending indices below the total, fixed by the seed', () => {
  const a = padimChannels(448, 100, 7);
  assert.is(a.length, 100);
  for (let i = 1; i < a.length; i++) assert.ok(a[i] > a[i - 1]);
  assert.ok(a[0] >= 0 && a[99] < 448);
  assert.equal(Array.from(padimChannels(448, 100, 7)), Array.from(a));
  assert.not.equal(Array.from(padimChannels(448, 100, 8)), Array.from(a));
  assert.equal(Array.from(padimChannels(5, 5, 1)), [0, 1, 2, 3, 4]);
});

test('padimEmbedding: chosen channels of each layer, deeper layers nearest-upsampled to the layer1 grid, [B, P, d]', () => {
  // layer1: 2 channels 2×2; layer2: 2 channels 1×1. Channels 1 (layer1) and 2, 3 (layer2).
  const l1 = Tensor.fromData(Float32Array.from([1, 2, 3, 4, 10, 20, 30, 40]), [1, 2, 2, 2]);
  const l2 = Tensor.fromData(Float32Array.from([7, 9]), [1, 2, 1, 1]);
  const { x, h, w } = padimEmbedding([l1, l2], Int32Array.from([1, 2, 3]));
  assert.equal([h, w, ...x.shape], [2, 2, 1, 4, 3]);
  assert.equal(Array.from(x.data), [10, 7, 9, 20, 7, 9, 30, 7, 9, 40, 7, 9]);
});

test('fit → score on grey images: one Gaussian per position, maps at the input size, image score = max of the map', async () => {
  const m = createMethod('padim', SMALL) as Padim;
  const lines: string[] = [];
  await m.fit(data.train, { onMessage: (t) => lines.push(t) });
  assert.match(lines[0], /64 positions \(8×8\) × d 100: float64 sums 5\.2 MB/);
  const g = m.gaussians;
  assert.equal(g.grid, [8, 8]);
  assert.is(g.channels.length, 100);
  assert.is(g.mean.length, 64 * 100);
  assert.is(g.invCovariance.length, 64 * 100 * 100);
  const r = await m.score(data.test);
  assert.is(r.scores.length, 6);
  assert.is(r.maps!.length, 6);
  for (let i = 0; i < 6; i++) {
    assert.is(r.maps![i].length, 32 * 32);
    assert.ok(r.maps![i].every((v) => Number.isFinite(v) && v >= 0));
    assert.is(r.scores[i], r.maps![i].reduce((a, v) => Math.max(a, v), -Infinity));
  }
  const meanN = (r.scores[0] + r.scores[1] + r.scores[2]) / 3;
  const meanA = (r.scores[3] + r.scores[4] + r.scores[5]) / 3;
  assert.ok(meanA > meanN, `abnormal mean ${meanA} ≤ normal mean ${meanN}`);
});

test('save → load gives identical scores and maps; the config records the grid, d and the weights SHA-256 (null: random)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'padim-'));
  try {
    const m = createMethod('padim', { ...SMALL, dim: 40, blur: 'scipy' });
    await m.fit(data.train, quiet);
    const before = await m.score(data.test);
    await m.save(dir);
    const back = await loadMethod(dir);
    assert.is(back.options.dim, 40);
    const after = await back.score(data.test);
    assert.equal(Array.from(after.scores), Array.from(before.scores));
    for (let i = 0; i < before.maps!.length; i++) assert.equal(Array.from(after.maps![i]), Array.from(before.maps![i]));
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.is(cfg.featureReference.weightsSha256, null);
    assert.equal(cfg.featureReference.layers, ['layer1', 'layer2', 'layer3']);
    assert.equal(cfg.featureReference.fitted, { grid: [8, 8], positions: 64, dim: 40, regularisation: 0.01 });
    assert.equal(Array.from((back as Padim).gaussians.channels), Array.from((m as Padim).gaussians.channels));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('same seed → same model; another seed → another channel subset', async () => {
  const fit = async (seed: number) => {
    const m = createMethod('padim', { ...SMALL, dim: 20, seed }) as Padim;
    await m.fit(data.train, quiet);
    return m.gaussians;
  };
  const a = await fit(3);
  const b = await fit(3);
  assert.equal(Array.from(b.channels), Array.from(a.channels));
  assert.equal(Array.from(b.mean), Array.from(a.mean));
  assert.equal(Array.from(b.invCovariance), Array.from(a.invCovariance));
  assert.not.equal(Array.from((await fit(4)).channels), Array.from(a.channels));
});

test('colour input works; grey input equals the same image replicated to three channels', async () => {
  const grey = await data.train.images();
  const n = data.train.length;
  const per = 32 * 32;
  const rgb = new Float32Array(n * 3 * per);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) rgb.set(grey.subarray(i * per, (i + 1) * per), (i * 3 + c) * per);
  const g = createMethod('padim', { ...SMALL, dim: 30 }) as Padim;
  const c = createMethod('padim', { ...SMALL, dim: 30, channels: 3 }) as Padim;
  await g.fit(data.train, quiet);
  await c.fit(arraySplit('train', rgb, new Uint8Array(n), 3, 32), quiet);
  assert.equal(Array.from(c.gaussians.invCovariance), Array.from(g.gaussians.invCovariance));
});

test('bad options are refused naming the option; one training image is refused', async () => {
  assert.throws(() => createMethod('padim', { ...SMALL, dim: 449 }).validate!(), /"dim" \(449\) exceeds the 448 channels of resnet18/);
  assert.throws(() => createMethod('padim', { ...SMALL, backbone: 'vgg19' }).validate!(), /vgg19 has no layer "layer1"|must be resnet18 or wide_resnet50_2/);
  assert.throws(() => createMethod('padim', { ...SMALL, regularisation: -1 }), /regularisation/);
  const one = toyHeads({ train: 1, normal: 1, abnormal: 1, size: 32, seed: 1 });
  await rejects(() => createMethod('padim', { ...SMALL, dim: 10 }).fit(one.train, quiet), /at least 2 training images, got 1/);
});

test.run();
