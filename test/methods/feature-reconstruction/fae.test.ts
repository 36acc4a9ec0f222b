// FAE end to end at 64 px on a random-weight resnet18 (the official step is checked against
// PyTorch in fae-torch.test.ts): the autoencoder's official layout and parameter count, the
// defaults and their refusals, fit → score on toy heads with a narrow autoencoder (loss falls,
// maps at the input size), the backbone batch-norm quirk (running statistics follow the
// training images, are saved under the official names and restored by load; eval mode keeps
// them), save → load identical, a resumed run ends as an uninterrupted one, ts and cpu agree.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends, currentBackend, Generator, setBackend } from '../../../src/engine/index.js';
import { createMethod, loadMethod } from '../../../src/methods/index.js';
import { methods } from '../../../src/methods/registry.js';
import { resolveOptions } from '../../../src/methods/training/options.js';
import { faeEpochs, faeSettings, FaeMethod } from '../../../src/methods/feature-reconstruction/fae.js';
import { FeatureAutoencoder, featureChannels } from '../../../src/models/fae-net.js';
import { RESNET_ARCHS, resnetLayers } from '../../../src/models/backbones/resnet.js';
import { readSafetensors, toFloat32 } from '../../../src/nn/safetensors.js';
import { fastestBackend, rejects, toyHeads } from '../helpers.js';

fastestBackend();
const quiet = { onMessage: () => {} };
// Random backbone weights (tests only); a narrow autoencoder keeps a step fast.
const SMALL = { weights: 'random', size: 64, channels: 1, batchSize: 8, hidden: '24,24,32,32', epochs: 4, seed: 5 } as const;
const data = toyHeads({ train: 16, normal: 3, abnormal: 3, size: 64, seed: 4 });
const tmp = mkdtempSync(join(tmpdir(), 'fae-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('the autoencoder: official names and shapes, 10,285,048 parameters on 256 channels; 832 channels from wide_resnet50_2', () => {
  const ae = new FeatureAutoencoder({ channels: 256, hidden: [100, 150, 200, 300], dropout: 0.1, generator: new Generator(0) });
  assert.is(ae.numParameters(), 10_285_048);
  const sd = ae.stateDict();
  const shape = (k: string) => sd.get(k)!.shape;
  assert.equal(shape('enc.encoder_layer_0.encoder_conv_0.weight'), [100, 256, 5, 5]);
  assert.equal(shape('enc.encoder_layer_3.encoder_norm_3.running_var'), [300]);
  assert.equal(shape('enc.encoder_conv_final.weight'), [300, 300, 5, 5]);
  assert.equal(shape('dec.decoder_layer_4.decoder_tconv_4.weight'), [300, 200, 6, 6]);
  assert.equal(shape('dec.decoder_layer_1.decoder_tconv_1.weight'), [100, 256, 6, 6]);
  assert.equal(shape('dec.decoder_conv_final.weight'), [256, 256, 1, 1]);
  assert.ok(!sd.has('enc.encoder_layer_0.encoder_conv_0.bias'), 'bias-free convolutions');
  const enc = ae.enc.numParameters();
  assert.equal([enc, ae.dec.numParameters()], [5_516_500, 4_768_548]);
  assert.match(String(ae), /Dropout2d\(p=0\.1\)/);
  const layers = ['layer0', 'layer1', 'layer2'] as const;
  assert.is(featureChannels({ layers: resnetLayers(RESNET_ARCHS.resnet18) }, [...layers]), 256);
  assert.is(featureChannels({ layers: resnetLayers(RESNET_ARCHS.wide_resnet50_2) }, [...layers]), 64 + 256 + 512);
});

test("defaults are the official code's; faeEpochs maps its 10,000 steps to epochs", () => {
  const o = resolveOptions(methods.info('fae'), {});
  assert.equal([o.size, o.batchSize, o.lr, o.epochs, o.backbone, o.normalisation], [128, 32, 2e-4, 100, 'resnet18', 'half']);
  const s = faeSettings(o);
  assert.equal(s.layers, ['layer0', 'layer1', 'layer2']);
  assert.equal(s.hidden, [100, 150, 200, 300]);
  assert.equal([s.dropout, s.loss, s.imageScore, s.backboneBatchNorm], [0.1, 'ssim', 'top10', 'train']);
  assert.equal(methods.info('fae').family, 'feature-reconstruction');
  // Stages are concatenated in forward order whatever order they are listed in.
  assert.equal(faeSettings({ ...o, layers: 'layer2, layer0' }).layers, ['layer0', 'layer2']);
  assert.is(faeEpochs(3200), 100);
  assert.is(faeEpochs(3851), 83); // 121 steps per epoch: 10,043 steps
  assert.is(faeEpochs(100, 64), 5000);
});

test('bad options are refused, naming the option', () => {
  const v = (o: Record<string, unknown>) => () => createMethod('fae', { ...SMALL, ...o } as never).validate!();
  assert.throws(v({ layers: 'layer0,layer9' }), /option "layers" names unknown stage\(s\) layer9/);
  assert.throws(v({ layers: 'layer1,layer1' }), /option "layers" repeats a stage/);
  assert.throws(v({ layers: '' }), /option "layers" must be a comma-separated list/);
  assert.throws(v({ hidden: '32,x' }), /option "hidden" must list positive integers/);
  assert.throws(v({ size: 96 }), /option "size" must be a multiple of 64/);
  assert.ok((() => (v({ size: 96, hidden: '16,16,16' })(), true))(), 'three widths take multiples of 32');
  assert.throws(v({ channels: 2 }), /option "channels" must be 1 or 3/);
  assert.throws(() => createMethod('fae', { loss: 'l1' } as never), /option "loss" must be one of ssim, mse/);
  assert.throws(() => createMethod('fae', { imageScore: 'max' } as never), /option "imageScore" must be one of top10, mean/);
  assert.throws(() => createMethod('fae', { backboneBatchNorm: 'frozen' } as never), /option "backboneBatchNorm" must be one of train, eval/);
  assert.throws(() => createMethod('fae', { dropout: 1 }), /option "dropout" must be in \[0, 0\.99\]/);
  assert.throws(() => createMethod('fae', { backbone: 'vgg19' } as never), /option "backbone" must be one of resnet18, wide_resnet50_2/);
});

test('a last batch of one image at 64 px (1 × 1 bottleneck) is refused before training', async () => {
  const m = createMethod('fae', { ...SMALL, batchSize: 5 }); // 16 = 3·5 + 1
  await rejects(() => m.fit(data.train, quiet), /batch norm needs batches of at least 2 images; 16 training images at batchSize 5 leave a batch of 1/);
});

let trained: FaeMethod;
/** Values in the trained network's state (autoencoder parameters and buffers). */
const trainedParameters = (m: FaeMethod) => [...(m as unknown as { net: { stateDict(): Map<string, { size: number }> } }).net.stateDict().values()].reduce((n, t) => n + t.size, 0);
let before: Awaited<ReturnType<FaeMethod['score']>>;
const dir = join(tmp, 'fae');

test('fit → score: the loss falls, maps at the input size, finite scores; the backbone statistics follow the training images and are saved', async () => {
  trained = createMethod('fae', SMALL) as FaeMethod;
  const fit = await trained.fit(data.train, quiet);
  assert.is(fit.steps, 8);
  assert.ok(fit.lossCurve[3] < fit.lossCurve[0], `loss ${fit.lossCurve.join(' → ')}`);
  before = await trained.score(data.test);
  assert.is(before.scores.length, 6);
  assert.is(before.maps![0].length, 64 * 64);
  for (const s of before.scores) assert.ok(Number.isFinite(s));
  await trained.save(dir);
  const { tensors } = readSafetensors(join(dir, 'model.safetensors'));
  // torchvision's random init has running mean 0 and variance 1; 8 training-mode batches moved them.
  const stat = (k: string) => Array.from(toFloat32(tensors.get(k)!));
  assert.ok(stat('extractor.backbone.layer0.1.running_mean').some((v) => v !== 0));
  assert.equal(stat('extractor.backbone.layer2.1.bn2.num_batches_tracked'), [8]);
  assert.ok(!tensors.has('extractor.backbone.layer3.0.bn1.running_mean'), 'stages the extractor never runs are not saved');
  assert.ok(![...tensors.keys()].some((k) => k.endsWith('conv1.weight') && k.startsWith('extractor')), 'backbone weights stay in their own file');
  // resnet18's batch norms up to layer2 hold 960 channels: mean and variance, 7.7 KB.
  const mirrored = [...tensors].filter(([k]) => k.startsWith('extractor.')).reduce((n, [, t]) => n + t.data.byteLength, 0);
  assert.ok(mirrored < 8_000, `${mirrored} bytes of backbone statistics`);
  assert.ok(statSync(join(dir, 'model.safetensors')).size < 4 * trainedParameters(trained) + 64_000);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal([cfg.featureNetwork.backbone, cfg.featureNetwork.weightsSha256], ['resnet18', null]);
});

test('save → load gives identical maps and scores (the saved backbone statistics are restored)', async () => {
  const back = await loadMethod(dir);
  const after = await back.score(data.test);
  assert.equal(Array.from(after.scores), Array.from(before.scores));
  for (let i = 0; i < before.maps!.length; i++) assert.equal(Array.from(after.maps![i]), Array.from(before.maps![i]));
});

test('backboneBatchNorm=eval keeps the backbone statistics as they were; imageScore=mean is the mean of the small map', async () => {
  const m = createMethod('fae', { ...SMALL, epochs: 1, backboneBatchNorm: 'eval', imageScore: 'mean' });
  await m.fit(data.train, quiet);
  const d = join(tmp, 'fae-eval');
  await m.save(d);
  const { tensors } = readSafetensors(join(d, 'model.safetensors'));
  assert.ok(toFloat32(tensors.get('extractor.backbone.layer1.0.bn1.running_mean')!).every((v) => v === 0));
  assert.ok(toFloat32(tensors.get('extractor.backbone.layer1.0.bn1.running_var')!).every((v) => v === 1));
  const r = await m.score(data.test);
  // Upsampling with align_corners keeps the corners: each score lies within its map's range.
  for (let i = 0; i < r.scores.length; i++) {
    const map = r.maps![i];
    assert.ok(r.scores[i] >= Math.min(...map) - 1e-6 && r.scores[i] <= Math.max(...map) + 1e-6);
  }
});

test('a run resumed from its checkpoint ends as an uninterrupted one (backbone statistics and dropout draws restored)', async () => {
  const opts = { ...SMALL, epochs: 2 };
  const ck = join(tmp, 'fae-ck');
  await createMethod('fae', { ...opts, epochs: 1 }).fit(data.train, { ...quiet, checkpointDir: ck });
  const resumed = createMethod('fae', opts);
  await resumed.fit(data.train, { ...quiet, checkpointDir: ck, resume: true });
  const whole = createMethod('fae', opts);
  await whole.fit(data.train, quiet);
  const [a, b] = [await resumed.score(data.test), await whole.score(data.test)];
  assert.equal(Array.from(a.scores), Array.from(b.scores));
});

const cpu = backends().find((b) => b.name === 'cpu');
if (cpu?.available) {
  test('ts and cpu: the same weights score alike (≤ 1e-4 of the largest value)', async () => {
    const prev = currentBackend();
    try {
      setBackend('cpu');
      const onCpu = await (await loadMethod(dir)).score(data.test);
      setBackend('ts');
      const onTs = await (await loadMethod(dir)).score(data.test);
      const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
        let scale = 0;
        let worst = 0;
        for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
        for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
        return worst / scale;
      };
      assert.ok(rel(onTs.scores, onCpu.scores) <= 1e-4, `scores differ by ${rel(onTs.scores, onCpu.scores)}`);
      for (let i = 0; i < onCpu.maps!.length; i++) assert.ok(rel(onTs.maps![i], onCpu.maps![i]) <= 1e-4, `map ${i}`);
    } finally {
      setBackend(prev);
    }
  });
} else test.skip('ts and cpu (the native addon is not built)', () => {});

test.run();
