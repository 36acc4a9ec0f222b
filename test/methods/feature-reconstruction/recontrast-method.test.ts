// The recontrast method end to end at test size: resnet18 with random weights (not ImageNet
// ones), 32 px toy heads, a few epochs. Training lowers the loss; save → load scores the
// same maps; an interrupted run resumes to the numbers of an uninterrupted one (the α
// schedule and the encoder's running statistics included); the ts and cpu backends agree;
// bad options fail with the option's name; the CLI trains it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends, currentBackend, setBackend } from '../../../src/engine/index.js';
import { createMethod, loadMethod } from '../../../src/methods/index.js';
import { recontrastEpochs, RECONTRAST_INFO } from '../../../src/methods/feature-reconstruction/recontrast.js';
import { cli, tempDir } from '../../cli/helpers.js';
import { toyHeads } from '../helpers.js';

const data = toyHeads({ train: 8, normal: 2, abnormal: 2, size: 32, seed: 4 });
const base = { backbone: 'resnet18', weights: 'random', size: 32, channels: 1, batchSize: 4, seed: 7 } as const;
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-recontrast-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('defaults: wide_resnet50_2, 256 px, batch 16, AdamW lr 2e-3 / 1e-5, weight decay 1e-5, encoder BN train, max score', () => {
  const m = createMethod('recontrast');
  const o = m.options;
  assert.equal(
    [o.backbone, o.size, o.batchSize, o.lr, o.encoderLr, o.weightDecay, o.encoderBn, o.imageScore, o.sigma, o.alphaWarmup, o.normalisation],
    ['wide_resnet50_2', 256, 16, 2e-3, 1e-5, 1e-5, 'train', 'max', 4, 0.1, 'imagenet'],
  );
  assert.is(RECONTRAST_INFO.family, 'feature-reconstruction');
  // The official 2000 iterations at batch 16 as epochs.
  assert.is(recontrastEpochs(3851), 9);
  assert.is(recontrastEpochs(1000), 32);
  assert.is(recontrastEpochs(240), 134);
  assert.is(recontrastEpochs(26000, 32, 1000), 2);
});

test('bad options fail naming the option', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ size: 48 }, /"size" must be a multiple of 32/],
    [{ encoderBn: 'frozen' }, /"encoderBn" must be one of train, eval/],
    [{ imageScore: 'top1' }, /"imageScore" must be one of max, mean/],
    [{ backbone: 'vgg19' }, /"backbone" must be one of wide_resnet50_2, resnet18/],
    [{ alphaWarmup: 0 }, /"alphaWarmup" must be in/],
    [{ encoderLr: -1 }, /"encoderLr" must be/],
    [{ channels: 2 }, /"channels" must be 1 or 3/],
    [{ iterations: 2000 }, /unknown option "iterations"/],
  ];
  for (const [opts, re] of bad) {
    assert.throws(() => createMethod('recontrast', { ...base, ...opts } as never).validate?.(), re, JSON.stringify(opts));
  }
});

test('trains at test size: the loss falls; save → load scores identical maps; an interrupted run resumes to the same numbers', async () => {
  const opts = { ...base, epochs: 3, imageScore: 'mean' } as const;
  const m = createMethod('recontrast', opts);
  const terms: Record<string, number>[] = [];
  const fit = await m.fit(data.train, { onProgress: (p) => p.epochDone && p.terms && terms.push(p.terms) });
  const c = fit.lossCurve;
  if (process.env.SHOW) console.log(c, terms);
  assert.is(c.length, 3);
  assert.ok(c[2] < c[0], `loss did not fall: ${c.map((v) => v.toFixed(4)).join(' ')}`);
  // Hard mining: α = −3 at the start keeps nearly every position; from the second epoch α = 1 keeps a minority.
  assert.ok(terms[0].kept > 0.5 && terms[2].kept < 0.5, `kept fractions ${terms.map((t) => t.kept.toFixed(3)).join(' ')}`);
  const before = await m.score(data.test);
  assert.is(before.maps!.length, 4);
  assert.is(before.maps![0].length, 32 * 32);
  for (let i = 0; i < 4; i++) assert.is(before.scores[i], Math.fround(before.maps![i].reduce((s, v) => s + v, 0) / 1024));

  const dir = join(tmp, 'saved');
  await m.save(dir);
  const loaded = await loadMethod(dir);
  const after = await loaded.score(data.test);
  for (let i = 0; i < 4; i++) assert.equal(Array.from(after.maps![i]), Array.from(before.maps![i]), `map ${i}`);
  assert.equal(Array.from(after.scores), Array.from(before.scores));

  // Aborted after epoch 1 and resumed: the α schedule (counted over the whole run), the
  // encoder's running statistics and both AdamW states carry over.
  const ck = join(tmp, 'ck');
  const ac = new AbortController();
  const error = await createMethod('recontrast', opts)
    .fit(data.train, { checkpointDir: ck, signal: ac.signal, onProgress: (p) => p.epochDone && p.epoch === 1 && ac.abort() })
    .then(() => null, (e: Error) => e);
  assert.is(error?.name, 'AbortError', 'the first fit stops');
  const resumed = createMethod('recontrast', opts);
  const r = await resumed.fit(data.train, { checkpointDir: ck, resume: true });
  assert.equal(r.lossCurve, c);
  assert.equal(Array.from((await resumed.score(data.test)).scores), Array.from(before.scores));
});

const cpu = backends().find((b) => b.name === 'cpu');
const skipCpu = cpu?.available ? '' : ` (skipped: ${cpu?.reason ?? 'no cpu backend'})`;
(skipCpu ? test.skip : test)(`ts and cpu backends agree: same weights score alike, one seed trains alike${skipCpu}`, async () => {
  const before = currentBackend();
  // One step of 4 images: the ts backend is slow.
  const opts = { ...base, epochs: 1, encoderBn: 'eval', imageScore: 'max' } as const;
  const train = toyHeads({ train: 4, normal: 0, abnormal: 0, size: 32, seed: 5 }).train;
  try {
    setBackend('cpu');
    const m = createMethod('recontrast', opts);
    const fitCpu = await m.fit(train);
    const dir = join(tmp, 'backends');
    await m.save(dir);
    const onCpu = await m.score(data.test);
    for (let i = 0; i < 4; i++) assert.is(onCpu.scores[i], Math.max(...onCpu.maps![i]), 'imageScore max');
    setBackend('ts');
    const onTs = await (await loadMethod(dir)).score(data.test);
    const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let scale = 0;
      let worst = 0;
      for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      return worst / scale;
    };
    assert.ok(rel(onTs.scores, onCpu.scores) <= 1e-4, `scores differ by ${rel(onTs.scores, onCpu.scores)}`);
    assert.ok(rel(onTs.maps![3], onCpu.maps![3]) <= 1e-4, `maps differ by ${rel(onTs.maps![3], onCpu.maps![3])}`);
    const t = createMethod('recontrast', opts);
    const fitTs = await t.fit(train);
    assert.ok(rel(fitTs.lossCurve, fitCpu.lossCurve) <= 5e-3, `loss curves ${fitTs.lossCurve} vs ${fitCpu.lossCurve}`);
  } finally {
    setBackend(before);
  }
});

test('CLI: train --method recontrast --weights random --opt backbone=resnet18 trains and tests at 32 px', () => {
  const root = tempDir();
  const flags = ['--size', '32', '--train-count', '4', '--test-count', '4', '--batch-size', '4', '--epochs', '1'];
  const r = cli(['train', '--method', 'recontrast', '--dataset', 'synth-brain', '--weights', 'random', '--opt', 'backbone=resnet18', ...flags], root, { MEDIANOMALY_WEIGHTS: join(root, 'no-weights') });
  assert.is(r.code, 0, r.stderr);
  const run = join(root, 'runs', 'recontrast-synth-brain-s0');
  assert.ok(existsSync(join(run, 'metrics.json')), r.stdout + r.stderr);
  assert.match(r.stderr, /recontrast synth-brain epoch 1\/1 .*loss/);
  const cfg = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
  assert.equal([cfg.options.backbone, cfg.options.weights, cfg.options.size, cfg.options.encoderBn], ['resnet18', 'random', 32, 'train']);
});

test.run();
