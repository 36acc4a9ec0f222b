// AE-Perceptual (methods.md §5.4): the relative perceptual L1 against PyTorch
// (test/fixtures/backbones/perceptual.safetensors, made by scripts/make-backbone-fixtures.py
// with the same deterministic VGG19 weights as the backbone fixtures): E, the loss, the map,
// the score and the gradient with respect to x̂, dividing by the variance (quirk default) and
// by the standard deviation; the relu4_2 statistics computed from training images; then the
// method: training-data statistics or a featureStats file (and the run says which), save →
// load gives the same scores, random weights only when asked, a missing cached file names
// the fetch command. Runs on the native backend when it is built (the VGG is the slow part;
// the backbone maps are checked on both backends in test/models/backbones/).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mean, Tensor } from '../../../src/engine/index.js';
import { VGG19Features } from '../../../src/models/backbones/index.js';
import { createMethod, loadMethod } from '../../../src/methods/index.js';
import {
  computeFeatureStats, perceptualDivisor, perceptualMap, relativePerceptualError, PERCEPTUAL_CHANNELS,
} from '../../../src/methods/reconstruction/ae-perceptual.js';
import { readSafetensors, toFloat32, writeSafetensors } from '../../../src/nn/safetensors-format.js';
import { assertReorderClose } from '../../float32-tolerance.js';
import { fillModule } from '../../models/backbones/fill.js';
import { fastestBackend, rejects, toyHeads } from '../helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-ae-perceptual-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
// An empty weights cache: nothing here may find real weights by accident.
process.env.MEDIANOMALY_WEIGHTS = join(tmp, 'empty-cache');

const fx = readSafetensors(new URL('../../fixtures/backbones/perceptual.safetensors', import.meta.url).pathname);
const get = (k: string) => {
  const t = fx.tensors.get(k);
  assert.ok(t, `fixture tensor ${k}`);
  return { data: toFloat32(t), shape: t.shape };
};
const E_STEP = 16; // the script's E_STEP
const T = (k: string) => Tensor.fromData(Float32Array.from(get(k).data), get(k).shape);

const vgg = new VGG19Features();
fillModule(vgg);
vgg.eval().requiresGrad_(false);

// VGG19 up to relu4_2: 10 convs (reductions up to 512·9), then the normalisation and E.
const FEATURES = { depth: 12, reduction: 4608 };
function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

for (const [label, byVar] of [['var', true], ['std', false]] as const) {
  test(`relative perceptual L1 (divide by ${label}): E, loss, map, score and ∂loss/∂x̂ equal PyTorch's`, () => {
    fastestBackend();
    const x = T('x');
    const xhat = T('xhat').requiresGrad_(true);
    const e = relativePerceptualError(vgg, x, xhat, T('mu'), perceptualDivisor(get('var').data, byVar));
    assert.equal(e.shape, [3, PERCEPTUAL_CHANNELS, 4, 4]);
    const loss = e.mean();
    loss.backward();
    const refE = get(`${label}/e`).data;
    const eSample = refE.map((_, i) => e.data[i * E_STEP]);
    const scaleE = maxAbs(refE);
    assertReorderClose(eSample, refE, { ...FEATURES, scale: scaleE }, 'E');
    assertReorderClose([loss.item()], get(`${label}/loss`).data, { ...FEATURES, scale: scaleE }, 'loss');
    const map = perceptualMap(e.detach());
    assert.equal(map.shape, [3, 32, 32]);
    assertReorderClose(map.data, get(`${label}/map`).data, { ...FEATURES, scale: scaleE }, 'map');
    assertReorderClose(mean(map, [1, 2]).data, get(`${label}/score`).data, { ...FEATURES, scale: scaleE }, 'score');
    // Backward runs the VGG again (transposed convs): twice the depth; scale of the gradients.
    const refG = get(`${label}/grad`).data;
    assertReorderClose(xhat.grad!.data, refG, { depth: 2 * FEATURES.depth, reduction: FEATURES.reduction, scale: maxAbs(refG) }, '∂loss/∂x̂');
    assert.ok(maxAbs(refG) > 0);
  });
}

test('relu4_2 statistics from training images: per-channel mean and population variance equal PyTorch', () => {
  fastestBackend();
  const x = get('x');
  const s = computeFeatureStats(vgg, x.data, { n: 3, channels: 1, size: 32 }, 2);
  const refMean = get('stats/mean').data;
  const refVar = get('stats/var').data;
  assertReorderClose(s.mean, refMean, { ...FEATURES, scale: maxAbs(refMean) }, 'mean');
  // var = E[f²] − mean²: the error of f scaled by 2·|f|.
  assertReorderClose(s.var, refVar, { ...FEATURES, scale: 4 * maxAbs(refMean) ** 2 + maxAbs(refVar) }, 'var');
});

test('perceptualDivisor: variance, or its square root; variances floored so a silent channel cannot divide by zero', () => {
  const v = Float32Array.from([4, 0.25, 0]);
  assert.equal([...perceptualDivisor(v, true).data], [4, 0.25, Math.fround(1e-6)]);
  assert.equal([...perceptualDivisor(v, false).data], [2, 0.5, Math.fround(Math.sqrt(1e-6))]);
});

// ---- the method ----

const data = toyHeads({ train: 6, normal: 3, abnormal: 3, size: 16, seed: 4 });
const TINY = { size: 16, width: 4, hidden: 16, latent: 4, batchSize: 4, epochs: 1, weights: 'random' } as const;

test('fit: statistics from the training data by default (said, and recorded); save → load gives the same scores', async () => {
  fastestBackend();
  const messages: string[] = [];
  const m = createMethod('ae-perceptual', TINY);
  const fit = await m.fit(data.train, { onMessage: (t) => messages.push(t) });
  assert.is(fit.lossCurve.length, 1);
  assert.ok(Number.isFinite(fit.lossCurve[0]) && fit.lossCurve[0] > 0);
  assert.ok(messages.some((t) => /relu4_2 feature statistics computed from the 6 training images/.test(t) && /featureStats=FILE/.test(t)), messages.join('\n'));
  const a = await m.score(data.test);
  assert.is(a.scores.length, 6);
  assert.is(a.maps!.length, 6);
  assert.is(a.maps![0].length, 16 * 16);
  // score = mean of the map
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(a.scores[i] - a.maps![i].reduce((s, v) => s + v, 0) / 256) < 1e-6 * Math.abs(a.scores[i]) + 1e-9);
  const dir = join(tmp, 'saved');
  await m.save(dir);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(cfg.perceptual, { layer: 'relu4_2', featureStats: 'training-data', weights: 'random', weightsSha256: null });
  const again = await loadMethod(dir);
  const b = await again.score(data.test);
  assert.ok(a.scores.every((v, i) => Object.is(v, b.scores[i])), 'same scores after load');
});

test('fit: a featureStats file is used instead (said, recorded, and saved with the network)', async () => {
  fastestBackend();
  const mu = new Float32Array(PERCEPTUAL_CHANNELS).map((_, i) => 0.01 * (i % 7));
  const va = new Float32Array(PERCEPTUAL_CHANNELS).map((_, i) => 1 + 0.1 * (i % 5));
  const file = join(tmp, 'stats.safetensors');
  writeSafetensors(file, [
    ['r42.mean', { dtype: 'F32', shape: [1, 512, 1, 1], data: mu }],
    ['r42.var', { dtype: 'F32', shape: [1, 512, 1, 1], data: va }],
  ]);
  const messages: string[] = [];
  const m = createMethod('ae-perceptual', { ...TINY, featureStats: file, perceptualDivideByVar: false });
  await m.fit(data.train, { onMessage: (t) => messages.push(t) });
  assert.ok(messages.some((t) => t.includes(`statistics from ${file}`)), messages.join('\n'));
  const dir = join(tmp, 'saved-file');
  await m.save(dir);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.is(cfg.perceptual.featureStats, file);
  const saved = readSafetensors(join(dir, 'model.safetensors')).tensors;
  assert.equal([...toFloat32(saved.get('r42_mean')!)], [...mu]);
  assert.equal([...toFloat32(saved.get('r42_var')!)], [...va]);

  const bad = join(tmp, 'stats-bad.safetensors');
  writeSafetensors(bad, [['r42.mean', { dtype: 'F32', shape: [512], data: mu }]]);
  await rejects(() => createMethod('ae-perceptual', { ...TINY, featureStats: bad }).fit(data.train), /has no tensor "r42\.var"/);
});

test('weights: the cached file by default (a missing one names the fetch command); random only when asked', async () => {
  const m = createMethod('ae-perceptual', { ...TINY, weights: null });
  assert.throws(() => m.validate!(), /medianomaly weights fetch vgg19/);
  await rejects(() => m.fit(data.train), /medianomaly weights fetch vgg19/);
  assert.is(createMethod('ae-perceptual').options.weights, null, 'default: no random weights');
  assert.throws(() => createMethod('ae-perceptual', { ...TINY, channels: 2 }).validate!(), /channels.*1 or 3/);
});

test.run();
