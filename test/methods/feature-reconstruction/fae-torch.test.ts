// FAE against its official code, through the fixture made by scripts/make-fae-fixtures.py
// (random backbone: resnet18 hash-filled, as the autoencoder; 128 px, batch 2, no dropout):
// one training forward/backward — the features, the SSIM and MSE losses and every
// autoencoder gradient — with the backbone's batch norm in training mode (the official quirk:
// its running statistics after the step, under the official names the method saves them by)
// and in eval mode, with ImageNet input scaling; then the eval-mode anomaly maps and both image
// scores. On the ts and cpu backends.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backends, currentBackend, Generator, setBackend, Tensor } from '../../../src/engine/index.js';
import { ResNetFeatures, NO_INIT } from '../../../src/models/backbones/index.js';
import { backboneStatsMirror, FaeNetwork, type FaeLayer } from '../../../src/models/fae-net.js';
import { faeFeatures, faeScoreBatch, faeTrainingLoss, type FaeSettings } from '../../../src/methods/feature-reconstruction/fae.js';
import { meanScores } from '../../../src/methods/feature-reconstruction/fae-score.js';
import { readSafetensors, toFloat32 } from '../../../src/nn/safetensors-format.js';
import { fillModule, fillTensor, hashU } from '../../models/backbones/fill.js';
import { closeToScale } from '../../float32-tolerance.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'fae');
const index = JSON.parse(readFileSync(join(FIX, 'fae.json'), 'utf8'));
const fixture = readSafetensors(join(FIX, 'fae.safetensors'));
const BACKENDS = backends().filter((b) => b.available).map((b) => b.name).filter((n) => n === 'ts' || n === 'cpu');
const LAYERS: FaeLayer[] = ['layer0', 'layer1', 'layer2'];

function want(name: string): Float32Array {
  const t = fixture.tensors.get(name);
  if (!t) throw new Error(`fixture has no ${name}`);
  return toFloat32(t);
}

function scalar(got: number, exp: number, what: string, tol: number): void {
  assert.ok(Math.abs(got - exp) <= tol, `${what}: ${got} vs ${exp} (tolerance ${tol.toExponential(1)})`);
}

function settings(over: Partial<FaeSettings> = {}): FaeSettings {
  return { layers: LAYERS, hidden: index.hidden, dropout: 0, loss: 'ssim', imageScore: 'top10', backboneBatchNorm: 'train', normalisation: 'half', ...over };
}

/** The filled backbone and network (AE entries: t = aeT0 + index in the AE's state dict). */
function build(): { backbone: ResNetFeatures; net: FaeNetwork } {
  const backbone = new ResNetFeatures('resnet18', NO_INIT);
  fillModule(backbone);
  backbone.requiresGrad_(false);
  const net = new FaeNetwork({ channels: 256, hidden: index.hidden, dropout: 0, generator: new Generator(0) }, backboneStatsMirror(backbone, LAYERS));
  net.ae.stateEntries().forEach((e, t) => fillTensor(index.aeT0 + t, e.name, e.tensor.shape, e.tensor.data));
  return { backbone, net };
}

/** The script's make_x() in [-1, 1]: a disc of u-based values on a 2^-12 grid, exact −1 (background) around it. */
function makeX(): Tensor {
  const { batch: b, size: s } = index as { batch: number; size: number };
  const u = hashU(1000, b * s * s);
  const out = new Float32Array(b * s * s);
  for (let i = 0; i < b; i++) {
    const r = s * (0.34 + 0.06 * i);
    for (let y = 0; y < s; y++) {
      for (let xx = 0; xx < s; xx++) {
        const k = (i * s + y) * s + xx;
        const v = Math.min(1, Math.max(0, Math.floor((u[k] * 1.6 + 0.6) * 4096) / 4096));
        const disc = (y - s / 2 + 0.5) ** 2 + (xx - s / 2 + 1.5 - 2 * i) ** 2 < r * r;
        out[k] = (disc ? v : 0) * 2 - 1;
      }
    }
  }
  return Tensor.fromData(out, [b, 1, s, s]);
}

const x = makeX();

test('the input is the script\'s (its sum, and the foreground of each image)', () => {
  assert.is(x.data.reduce((a, v) => a + v, 0), index.xSum);
  const plane = index.size * index.size;
  for (let i = 0; i < index.batch; i++) assert.is(x.data.subarray(i * plane, (i + 1) * plane).filter((v) => v > -1).length, index.foreground[i]);
});

function sampleIndices(n: number): number[] {
  const k = index.samples as number;
  return Array.from({ length: k }, (_, i) => Math.round((i * (n - 1)) / (k - 1)));
}

/**
 * Every autoencoder gradient against the case's sums, sums of squares and sampled entries.
 * Errors are measured against each gradient's own scale: Σg against √(n·Σg²) (a bound on
 * Σ|g|), Σg² relative, samples against max |g|. The tolerances are wider than float32
 * rounding because the official SSIM amplifies it: in flat feature regions (the image
 * background) σ² = blur(f²) − blur(f)² cancels to ~1e-7·f² ≈ 1e-6, against C2 = 9e-4, so the
 * order in which a backend sums the window changes the gradient by up to ~3e-3 of its largest
 * entry (ImageNet input scaling, whose background features are largest); a wrong gradient is
 * off by its own size.
 */
function checkGrads(net: FaeNetwork, tag: string): void {
  const ref = index.grads[tag] as Record<string, { sum: number; sumsq: number; absmax: number }>;
  const params = net.ae.namedParameters();
  assert.equal(params.map(([n]) => n), Object.keys(ref), 'parameter order');
  const worst = { sum: [0, ''], sumsq: [0, ''], sample: [0, ''] } as Record<'sum' | 'sumsq' | 'sample', [number, string]>;
  const note = (k: keyof typeof worst, e: number, name: string) => {
    if (!(e <= worst[k][0])) worst[k] = [e, name];
  };
  for (const [name, p] of params) {
    const g = p.grad!.data;
    const r = ref[name];
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < g.length; i++) {
      s += g[i];
      s2 += g[i] * g[i];
    }
    note('sum', Math.abs(s - r.sum) / Math.sqrt(g.length * r.sumsq), name);
    note('sumsq', Math.abs(s2 - r.sumsq) / r.sumsq, name);
    const exp = want(`grad/${tag}/${name}`);
    sampleIndices(g.length).forEach((i, k) => note('sample', Math.abs(g[i] - exp[k]) / r.absmax, name));
  }
  if (process.env.SHOW) console.log(tag, worst);
  const tol = { sum: 1e-3, sumsq: 2e-3, sample: 1e-2 };
  for (const k of ['sum', 'sumsq', 'sample'] as const) assert.ok(worst[k][0] <= tol[k], `${tag}: gradient ${k} error ${worst[k][0].toExponential(2)} > ${tol[k]} (${worst[k][1]})`);
}

for (const backend of BACKENDS) {
  test(`${backend}: training step with the backbone batch norm in training mode: features, −SSIM loss, every gradient, running statistics`, () => {
    const prev = currentBackend();
    setBackend(backend);
    try {
      const { backbone, net } = build();
      // The mirror names the backbone's statistics as the official checkpoint does.
      const sd = net.stateDict();
      const mirrored = [...sd.keys()].filter((k) => k.startsWith('extractor.') && !k.endsWith('num_batches_tracked'));
      assert.equal(mirrored, index.backboneStats);
      net.train();
      const s = settings();
      const feats = faeFeatures(backbone, x, s, true);
      assert.equal(feats.shape, index.features.shape);
      let fs = 0;
      let fs2 = 0;
      for (const v of feats.data) {
        fs += v;
        fs2 += v * v;
      }
      scalar(fs2, index.features.sumsq, 'features Σf²', 1e-5 * index.features.sumsq);
      scalar(fs, index.features.sum, 'features Σf', 1e-5 * Math.sqrt(feats.size * index.features.sumsq));
      const step = index.featureStep as number;
      closeToScale(Array.from({ length: Math.ceil(feats.size / step) }, (_, i) => feats.data[i * step]), want('features/sample'), 'features (sampled)', 1e-5);
      // faeFeatures updated the statistics once already: the training loss starts from the filled state again.
      const fresh = build();
      fresh.net.train();
      const loss = faeTrainingLoss(fresh.backbone, fresh.net.ae, x, s);
      scalar(loss.item(), index.loss.ssim, 'ssim loss', 1e-6);
      loss.backward();
      checkGrads(fresh.net, 'ssim');
      const after = fresh.net.stateDict();
      for (const name of index.backboneStats as string[]) closeToScale(after.get(name)!.data, want(name), name, 1e-5);
      for (const [name, t] of after) {
        if (name.endsWith('num_batches_tracked')) assert.is(t.data[0], 1, name); // one training forward, backbone and AE alike
        if (name.startsWith('ae.') && (name.endsWith('running_mean') || name.endsWith('running_var'))) closeToScale(t.data, want(name), name, 1e-4);
      }
      // Eval mode now uses those statistics: the anomaly maps and both image scores.
      fresh.net.eval();
      for (const lossName of ['ssim', 'mse'] as const) {
        const top = faeScoreBatch(fresh.backbone, fresh.net.ae, x, settings({ loss: lossName }));
        const step = index.mapStep as number;
        closeToScale(top.maps.data.filter((_, i) => i % step === 0), want(`map/${lossName}`), `${lossName} map (sampled)`, 1e-4);
        const ref = index.scores[lossName];
        for (let i = 0; i < index.batch; i++) scalar(top.scores[i], ref.top10[i], `${lossName} top10 score ${i}`, 1e-4 * Math.abs(ref.mean[i]) + 1e-6);
        const mean = meanScores(top.small.data, index.batch); // imageScore=mean's rule, on the same pass
        for (let i = 0; i < index.batch; i++) scalar(mean[i], ref.mean[i], `${lossName} mean score ${i}`, 1e-4 * Math.abs(ref.mean[i]) + 1e-6);
      }
    } finally {
      setBackend(prev);
    }
  });

  // The other cases on the fastest backend only (the kernels are the same; ts is slow at 128 px).
  if (backend !== (BACKENDS.includes('cpu') ? 'cpu' : 'ts')) continue;
  test(`${backend}: MSE loss, backbone batch norm in eval mode, ImageNet input scaling: loss and every gradient`, () => {
    const prev = currentBackend();
    setBackend(backend);
    try {
      const cases: [string, Partial<FaeSettings>][] = [
        ['mse', { loss: 'mse' }],
        ['ssim-evalbn', { backboneBatchNorm: 'eval' }],
        ['imagenet', { normalisation: 'imagenet' }],
      ];
      for (const [tag, over] of cases) {
        const { backbone, net } = build();
        net.train();
        const loss = faeTrainingLoss(backbone, net.ae, x, settings(over));
        scalar(loss.item(), index.loss[tag], `${tag} loss`, 1e-5 * Math.abs(index.loss[tag]) + 1e-6);
        loss.backward();
        checkGrads(net, tag);
        const bnCount = net.stateDict().get('extractor.backbone.layer0.1.num_batches_tracked')!.data[0];
        assert.is(bnCount, tag === 'ssim-evalbn' ? 0 : 1, `${tag}: backbone batch norm updates`);
      }
    } finally {
      setBackend(prev);
    }
  });
}

test.run();
