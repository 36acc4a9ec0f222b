// DRAEM's networks and losses against PyTorch (scripts/make-draem-fixtures.py): the joined
// state dict's names and shapes at full width (built, not run) and at the fixture's tiny
// width, eval-mode outputs and image scores, one training step's loss terms and gradients,
// the focal loss and its gradient (also against finite differences), the SSIM loss, on the
// ts and cpu backends.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { avgPool2d, backends, currentBackend, noGrad, setBackend, slice, softmax, Tensor } from '../../src/engine/index.js';
import { DraemModel } from '../../src/models/draem-nets.js';
import { draemSsimLoss, draemSsimRange, focalLoss } from '../../src/methods/self-supervised/draem-loss.js';
import { readSafetensors, toFloat32 } from '../../src/nn/safetensors-format.js';
import { fillModule, hashU } from './backbones/fill.js';
import { gradcheck, randt } from '../engine/gradcheck.js';
import { readFileSync } from 'node:fs';
import { closeToScale } from '../float32-tolerance.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'draem');
const index = JSON.parse(readFileSync(join(FIX, 'draem.json'), 'utf8'));
const fixture = readSafetensors(join(FIX, 'draem.safetensors'));
const BACKENDS = backends().filter((b) => b.available).map((b) => b.name).filter((n) => n === 'ts' || n === 'cpu');

function want(name: string): Float32Array {
  const t = fixture.tensors.get(name);
  if (!t) throw new Error(`fixture has no ${name}`);
  return toFloat32(t);
}

/** u(t, i)·scale + offset, computed in float64 and rounded once (the script's inputs). */
function uTensor(t: number, shape: number[], scale = 1, offset = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromData(Float32Array.from(hashU(t, n), (u) => u * scale + offset), shape);
}

function withBackend(name: string, fn: () => void): void {
  const prev = currentBackend();
  setBackend(name);
  try {
    fn();
  } finally {
    setBackend(prev);
  }
}

test('full width (128 / 64, RGB): the official parameter names and shapes (built without draws, not run)', () => {
  const net = new DraemModel({ channels: 3, init: false });
  const sd = net.stateDict();
  const shape = (k: string) => sd.get(k)!.shape;
  assert.equal(shape('reconstructive_subnetwork.encoder.block1.0.weight'), [128, 3, 3, 3]);
  assert.equal(shape('reconstructive_subnetwork.encoder.block5.3.weight'), [1024, 1024, 3, 3]);
  assert.equal(shape('reconstructive_subnetwork.decoder.up1.1.weight'), [1024, 1024, 3, 3]);
  assert.equal(shape('reconstructive_subnetwork.decoder.db3.3.weight'), [128, 256, 3, 3]);
  assert.equal(shape('reconstructive_subnetwork.decoder.fin_out.0.weight'), [3, 128, 3, 3]);
  assert.equal(shape('discriminative_subnetwork.encoder_segment.block1.0.weight'), [64, 6, 3, 3]);
  assert.equal(shape('discriminative_subnetwork.encoder_segment.block6.3.weight'), [512, 512, 3, 3]);
  assert.equal(shape('discriminative_subnetwork.decoder_segment.db_b.0.weight'), [512, 1024, 3, 3]);
  assert.equal(shape('discriminative_subnetwork.decoder_segment.db1.0.weight'), [256, 768, 3, 3]);
  assert.equal(shape('discriminative_subnetwork.decoder_segment.db4.0.weight'), [64, 128, 3, 3]);
  assert.equal(shape('discriminative_subnetwork.decoder_segment.fin_out.0.weight'), [2, 64, 3, 3]);
  // The official sub-networks have 69.0 M and 28.4 M parameters (97.4 M together, as anomalib reports).
  const count = (m: { parameters(): Tensor[] }) => m.parameters().reduce((a, p) => a + p.size, 0);
  assert.is(count(net.reconstructive), 69_048_579);
  assert.is(count(net.discriminative), 28_374_146);
});

test('official init: conv weights N(0, 0.02), BN weights N(1, 0.02) and biases 0', () => {
  const net = new DraemModel({ channels: 1, reconstructiveWidth: 16, discriminativeWidth: 16, seed: 3 });
  const w = net.stateDict().get('reconstructive_subnetwork.encoder.block4.3.weight')!.data;
  const m = w.reduce((a, b) => a + b, 0) / w.length;
  const sd = Math.sqrt(w.reduce((a, b) => a + (b - m) ** 2, 0) / w.length);
  assert.ok(Math.abs(m) < 0.002 && Math.abs(sd - 0.02) < 0.002, `conv weight mean ${m}, sd ${sd}`);
  const bw = net.stateDict().get('discriminative_subnetwork.encoder_segment.block4.1.weight')!.data;
  assert.ok(bw.every((v) => Math.abs(v - 1) < 0.1));
  assert.ok(net.stateDict().get('discriminative_subnetwork.encoder_segment.block4.1.bias')!.data.every((v) => v === 0));
  const a = new DraemModel({ channels: 1, reconstructiveWidth: 2, discriminativeWidth: 2, seed: 3 });
  const b = new DraemModel({ channels: 1, reconstructiveWidth: 2, discriminativeWidth: 2, seed: 3 });
  assert.equal(Array.from(a.stateDict().get('discriminative_subnetwork.decoder_segment.fin_out.0.bias')!.data), Array.from(b.stateDict().get('discriminative_subnetwork.decoder_segment.fin_out.0.bias')!.data));
});

function fixtureModel(): DraemModel {
  const c = index.nets;
  const net = new DraemModel({ channels: c.channels, reconstructiveWidth: c.reconstructiveWidth, discriminativeWidth: c.discriminativeWidth, seed: 0 });
  const names = net.stateEntries().map((e) => [e.name, e.tensor.shape]);
  assert.equal(names, c.stateDict, 'state dict names, order and shapes equal PyTorch');
  fillModule(net);
  return net;
}

for (const backend of BACKENDS) {
  test(`tiny width vs PyTorch: eval outputs and image scores, the training loss's terms and gradients [${backend}]`, () => {
    withBackend(backend, () => {
      const { channels: C, size: S, batch: B } = index.nets;
      const x = uTensor(1000, [B, C, S, S], 1, 0.5);
      const xAug = uTensor(1001, [B, C, S, S], 1, 0.5);
      const mask = Float32Array.from(hashU(1002, B * S * S), (u) => (Math.fround(u) > 0.2 ? 1 : 0));

      const net = fixtureModel();
      net.eval();
      noGrad(() => {
        const { reconstruction, logits } = net.forward(x);
        closeToScale(reconstruction.data, want('eval/rec'), 'eval reconstruction');
        closeToScale(logits.data, want('eval/logits'), 'eval logits');
        const p = slice(softmax(logits, 1), 1, 1, 2);
        const smooth = avgPool2d(p, { kernelSize: 21, stride: 1, padding: 10 });
        const score = [0, 1].map((i) => Math.max(...smooth.data.subarray(i * S * S, (i + 1) * S * S)));
        closeToScale(score, want('eval/score'), 'image scores');
      });

      // The training loss and its gradients, in eval mode (every gradient) and in training
      // mode (forward, loss terms, running statistics, last layers: see the fixture script).
      const step = (tag: string, training: boolean, rtol: number) => {
        const m = fixtureModel();
        m.train(training);
        const xa = xAug.clone().requiresGrad_(true);
        const { reconstruction, logits } = m.forward(xa);
        const l2 = reconstruction.sub(x).square().mean();
        const ss = draemSsimLoss(reconstruction, x);
        const fl = focalLoss(softmax(logits, 1), mask);
        const loss = l2.add(ss).add(fl);
        loss.backward();
        const t = index[tag];
        closeToScale([l2.item(), ss.item(), fl.item(), loss.item()], [t.l2, t.ssim, t.focal, t.loss], `${tag}: loss terms`);
        closeToScale(reconstruction.data, want(`${tag}/rec`), `${tag}: reconstruction`);
        // Training mode normalises 1 × 1 and 2 × 2 maps over batch 2: float32 reordering moves
        // the logits by ~2e-4 of their scale (eval mode: ~1e-6).
        closeToScale(logits.data, want(`${tag}/logits`), `${tag}: logits`, training ? 2e-3 : 1e-4);
        const sd = new Map(m.stateEntries().map((e) => [e.name, e.tensor]));
        const g = (k: string) => sd.get(k)!.grad!.data;
        closeToScale(g('discriminative_subnetwork.decoder_segment.fin_out.0.weight'), want(`${tag}/grad_seg_fin`), `${tag}: d loss / d last discriminative conv`, 1e-3);
        if (!training) {
          // (In training mode the reconstructive net's gradients arrive through the whole
          // discriminative backward, as ill-conditioned as the input's.)
          closeToScale(g('reconstructive_subnetwork.decoder.fin_out.0.weight'), want(`${tag}/grad_rec_fin`), `${tag}: d loss / d last reconstructive conv`, rtol);
          closeToScale(xa.grad!.data, want(`${tag}/grad_x`), `${tag}: d loss / d input`, rtol);
          closeToScale(g('reconstructive_subnetwork.encoder.block1.0.weight'), want(`${tag}/grad_rec_conv0`), `${tag}: d loss / d first reconstructive conv`, rtol);
          closeToScale(g('discriminative_subnetwork.encoder_segment.block1.0.weight'), want(`${tag}/grad_seg_conv0`), `${tag}: d loss / d first discriminative conv`, rtol);
        } else {
          closeToScale(sd.get('reconstructive_subnetwork.encoder.block1.1.running_mean')!.data, want('train/running_mean_rec_bn0'), 'running mean after one training forward');
        }
      };
      step('evalstep', false, 1e-4);
      step('train', true, 1e-4);
    });
  });
}

test('focal loss (γ 2, smooth 1e-5) and its gradient vs PyTorch', () => {
  for (const backend of BACKENDS) {
    withBackend(backend, () => {
      const shape = index.focal.logitsShape as number[];
      const lg = uTensor(1010, shape, 8).requiresGrad_(true);
      const n = shape[0] * shape[2] * shape[3];
      const tg = Float32Array.from(hashU(1011, n), (u) => (u > 0 ? 1 : 0));
      const f = focalLoss(softmax(lg, 1), tg);
      closeToScale([f.item()], [index.focal.loss], `focal loss [${backend}]`, 1e-5);
      f.backward();
      closeToScale(lg.grad!.data, want('focal/grad'), `focal gradient [${backend}]`, 1e-4);
    });
  }
});

test('focal loss: finite differences through softmax, and bad targets named', () => {
  withBackend('ts', () => {
    const target = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0);
    gradcheck((z) => focalLoss(softmax(z, 1), target), [randt([2, 2, 3, 4], 2).requiresGrad_(true)], { eps: 1e-2, atol: 2e-3, rtol: 2e-2 });
    const three = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i % 3);
    gradcheck((z) => focalLoss(softmax(z, 1), three), [randt([2, 3, 3, 4], 5).requiresGrad_(true)], { eps: 1e-2, atol: 2e-3, rtol: 2e-2 });
  });
  assert.throws(() => focalLoss(softmax(randt([1, 2, 2, 2], 1), 1), new Float32Array([0, 1, 2, 0])), /not a class in \[0, 2\)/);
  assert.throws(() => focalLoss(softmax(randt([1, 2, 2, 2], 1), 1), new Float32Array(3)), /N·H·W = 4/);
});

test('SSIM loss (11-tap Gaussian, zero padding, range from the reconstruction) vs PyTorch', () => {
  for (const backend of BACKENDS) {
    withBackend(backend, () => {
      Object.entries(index.ssim).forEach(([name, c]: [string, any], k) => {
        const a = uTensor(1020 + 2 * k, c.shape, c.scale, c.offset).requiresGrad_(true);
        const noise = uTensor(1021 + 2 * k, c.shape, c.noise);
        const b = Tensor.fromData(Float32Array.from(a.data, (v, i) => v + noise.data[i]!), c.shape);
        const v = draemSsimLoss(a, b);
        closeToScale([v.item()], [c.loss], `SSIM loss ${name} [${backend}]`, 1e-4);
        v.backward();
        closeToScale(a.grad!.data, want(`ssim/${name}/grad`), `SSIM gradient ${name} [${backend}]`, 1e-3);
      });
    });
  }
  assert.is(draemSsimRange(new Float32Array([0, 0.4, 1])), 1);
  assert.is(draemSsimRange(new Float32Array([-0.7, 0.4])), 2);
  assert.is(draemSsimRange(new Float32Array([0, 200])), 255);
});

test('sides that the five poolings do not divide are refused, naming the rule', () => {
  const net = new DraemModel({ channels: 1, reconstructiveWidth: 2, discriminativeWidth: 2, seed: 0 });
  assert.throws(() => noGrad(() => net.forward(Tensor.empty([1, 1, 48, 48]))), /multiples of 32/);
  assert.throws(() => noGrad(() => net.forward(Tensor.empty([1, 3, 32, 32]))), /expected input \[B, 1, H, W\]/);
});

test.run();
