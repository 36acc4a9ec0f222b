// rd4ad end to end at 32 px on a random-weight resnet18 teacher (random backbone weights:
// the numbers mean nothing beyond the checks; the step itself is compared with PyTorch in
// rd4ad-fixtures.test.ts): presets, bad options, training lowers the loss, maps and max
// scores, save → load gives identical maps, the ts and cpu backends agree, and the CLI trains
// and tests it with --weights random.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends, Generator, setBackend, Tensor } from '../../../src/engine/index.js';
import { NO_INIT, ResNetFeatures, toBackboneInput } from '../../../src/models/backbones/index.js';
import { RD_LAYERS } from '../../../src/models/reverse-distillation.js';
import { Adam } from '../../../src/nn/optim/adam.js';
import { createMethod, loadMethod } from '../../../src/methods/index.js';
import '../../../src/methods/feature-reconstruction/rd4ad.js';
import { rd4adSettings, RDNetwork, rdLoss } from '../../../src/methods/feature-reconstruction/rd4ad.js';
import { fillModule, fillTensor } from '../../models/backbones/fill.js';
import { resolveOptions } from '../../../src/methods/training/options.js';
import { methods } from '../../../src/methods/registry.js';
import { cli, tempDir } from '../../cli/helpers.js';
import { fastestBackend, toyHeads } from '../helpers.js';

const fastest = fastestBackend();
const quiet = { onMessage: () => {} };
const SMALL = { backbone: 'resnet18', weights: 'random', size: 32, batchSize: 4, epochs: 6, seed: 5 } as const;
const data = toyHeads({ train: 8, normal: 2, abnormal: 2, size: 32, seed: 3 });
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-rd4ad-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('defaults and presets: official (width 1024, betas (0.5, 0.999), add, scipy) and anomalib (512, (0.5, 0.99), torch); a row option overrides', () => {
  const info = methods.info('rd4ad');
  assert.is(info.family, 'feature-reconstruction');
  const o = resolveOptions(info, {});
  assert.equal([o.backbone, o.size, o.epochs, o.batchSize, o.lr, o.sigma], ['wide_resnet50_2', 256, 200, 16, 0.005, 4]);
  assert.equal(rd4adSettings(o), { backbone: 'wide_resnet50_2', ocbeWidth: 'official', betas: [0.5, 0.999], map: { combine: 'add', blur: 'scipy', sigma: 4 } });
  const a = rd4adSettings(resolveOptions(info, { preset: 'anomalib' }));
  assert.equal([a.ocbeWidth, a.betas, a.map.blur, a.map.combine], ['anomalib', [0.5, 0.99], 'torch', 'add']);
  const mixed = rd4adSettings(resolveOptions(info, { preset: 'anomalib', blur: 'scipy', beta2: 0.9, combine: 'multiply', sigma: 0 }));
  assert.equal([mixed.betas, mixed.map], [[0.5, 0.9], { combine: 'multiply', blur: 'none', sigma: 0 }]);
});

test('bad options are refused with the option named', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ size: 48 }, /"size" must be a multiple of 32/],
    [{ backbone: 'vgg19' }, /"backbone" must be one of wide_resnet50_2, resnet18/],
    [{ preset: 'paper' }, /"preset" must be one of official, anomalib/],
    [{ ocbeWidth: 256 }, /"ocbeWidth" must be a string/],
    [{ beta2: 1 }, /"beta2" must be in \[0, 0.999999\]/],
    [{ combine: 'max' }, /"combine" must be one of add, multiply/],
    [{ blur: 'kornia' }, /"blur" must be one of scipy, torch/],
    [{ channels: 2 }, /"channels" must be 1 or 3/],
    [{ weights: join(tmp, 'missing.safetensors') }, /missing\.safetensors/],
  ];
  for (const [opts, re] of bad) {
    assert.throws(() => {
      const m = createMethod('rd4ad', { ...SMALL, ...opts });
      (m as unknown as { validate(): void }).validate();
    }, re, JSON.stringify(opts));
  }
});

let trained: Awaited<ReturnType<ReturnType<typeof createMethod>['score']>>;
const dir = join(tmp, 'saved');

test('trains on toy heads: the loss falls; maps are S×S, scores are their maxima; save → load gives identical maps', async () => {
  const m = createMethod('rd4ad', SMALL);
  const fit = await m.fit(data.train, quiet);
  const c = fit.lossCurve;
  assert.is(c.length, 6);
  assert.ok(c[5] < 0.8 * c[0], `loss ${c.map((v) => v.toFixed(3)).join(' → ')}`);
  trained = await m.score(data.test);
  assert.is(trained.maps!.length, 4);
  trained.maps!.forEach((map, i) => {
    assert.is(map.length, 32 * 32);
    assert.is(trained.scores[i], Math.max(...map));
  });
  await m.save(dir);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(cfg.featureNetwork, { backbone: 'resnet18', weights: 'random', weightsSha256: null });
  const back = await loadMethod(dir);
  const again = await back.score(data.test);
  assert.equal(Array.from(again.scores), Array.from(trained.scores));
  again.maps!.forEach((map, i) => assert.equal(Array.from(map), Array.from(trained.maps![i])));
});

const cpu = backends().find((b) => b.name === 'cpu');
const maxRel = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let scale = 0, worst = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  return worst;
};

test(`ts and cpu backends agree: the trained method scores alike; one training step (loss, gradients, Adam) alike${cpu?.available ? '' : ' (skipped: no cpu backend)'}`, async () => {
  if (!cpu?.available) return;
  const m = await loadMethod(dir);
  // The step at 64 px (at 32 px the OCE blocks' batch norm sees one pixel per image, and two
  // values per channel make its gradient float32 noise), on hash-filled weights (no random
  // draws): teacher and student start identical on both backends.
  const x = toyHeads({ train: 2, normal: 0, abnormal: 0, size: 64, seed: 4 }).train;
  const teacher = new ResNetFeatures('resnet18', NO_INIT);
  fillModule(teacher);
  const images = Tensor.fromData(await x.images(), [2, 1, 64, 64]);
  const runStep = () => {
    const net = new RDNetwork('resnet18', 'official', new Generator(0), false);
    net.stateEntries().forEach((e, t) => fillTensor(3000 + t, e.name, e.tensor.shape, e.tensor.data));
    net.train();
    const f = teacher.features(toBackboneInput(images, { normalisation: 'imagenet' }), RD_LAYERS);
    const e = [f.layer1, f.layer2, f.layer3];
    const opt = new Adam(net.parameters(), { lr: 0.005, betas: [0.5, 0.999] });
    const { loss } = rdLoss(e, net.forward(e as [Tensor, Tensor, Tensor]));
    loss.backward();
    const grad = Float32Array.from(net.bn.bn_layer.at(0).parameters()[0].grad!.data);
    opt.step();
    return { loss: loss.item(), grad, after: Float32Array.from(net.decoder.layer3.at(1).parameters()[0].data) };
  };
  setBackend('cpu');
  const onCpu = await m.score(data.test);
  const stepCpu = runStep();
  setBackend('ts');
  try {
    const onTs = await m.score(data.test);
    assert.ok(maxRel(onTs.scores, onCpu.scores) <= 1e-4, `scores ${maxRel(onTs.scores, onCpu.scores)}`);
    assert.ok(maxRel(onTs.maps![3], onCpu.maps![3]) <= 1e-4, `maps ${maxRel(onTs.maps![3], onCpu.maps![3])}`);
    const stepTs = runStep();
    assert.ok(Math.abs(stepTs.loss - stepCpu.loss) <= 1e-5 * stepCpu.loss, `loss ${stepTs.loss} vs ${stepCpu.loss}`);
    assert.ok(maxRel(stepTs.grad, stepCpu.grad) <= 1e-3, `gradient ${maxRel(stepTs.grad, stepCpu.grad)}`);
    // Adam's first step moves each value by ≈ ±lr: only gradients at float32 noise level may step the other way.
    let moved = 0;
    stepTs.after.forEach((v, i) => {
      const d = Math.abs(v - stepCpu.after[i]);
      assert.ok(d <= 2 * 0.005 + 1e-6, `after Adam [${i}]: ${v} vs ${stepCpu.after[i]}`);
      if (d > 1e-5) moved++;
    });
    assert.ok(moved <= stepTs.after.length / 200, `${moved} of ${stepTs.after.length} values stepped differently`);
  } finally {
    setBackend(fastest);
  }
});

test('CLI: train --method rd4ad --weights random --opt backbone=resnet18 trains and tests at 32 px', () => {
  const root = tempDir();
  const flags = ['--size', '32', '--train-count', '8', '--test-count', '6', '--batch-size', '4', '--epochs', '2'];
  const r = cli(['train', '--method', 'rd4ad', '--dataset', 'synth-brain', '--weights', 'random', '--opt', 'backbone=resnet18', ...flags], root, { MEDIANOMALY_WEIGHTS: join(root, 'no-weights') });
  assert.is(r.code, 0, r.stderr);
  const run = join(root, 'runs', 'rd4ad-synth-brain-s0');
  assert.ok(existsSync(join(run, 'metrics.json')), r.stdout + r.stderr);
  assert.match(r.stderr, /rd4ad synth-brain epoch 2\/2 .*loss/);
  const cfg = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
  assert.equal([cfg.options.backbone, cfg.options.weights, cfg.options.size], ['resnet18', 'random', 32]);
});

test.run();
