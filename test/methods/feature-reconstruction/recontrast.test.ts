// ReContrast against PyTorch (scripts/make-recontrast-fixtures.py): one training step of the
// resnet18 variant at 128 px — loss, the hard mining's kept positions, every parameter's
// gradient (encoder included), both AdamW steps — and the eval-mode maps before and after
// it. Random weights (the hash fill of the backbone fixtures), not ImageNet ones. Also the
// hard-mining pieces on their own and the parameter count of the wide_resnet50_2 heads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Generator, noGrad, randn, Tensor } from '../../../src/engine/index.js';
import { NO_INIT, ResNetFeatures } from '../../../src/models/backbones/index.js';
import type { Module } from '../../../src/nn/module.js';
import { AdamW } from '../../../src/nn/optim/adamw.js';
import { readSafetensors, toFloat32 } from '../../../src/nn/safetensors-format.js';
import { RD_LAYERS } from '../../../src/models/reverse-distillation.js';
import { globalCosineHardMining, hardMiningAlpha, hardMiningMask, maskGradient } from '../../../src/methods/feature-reconstruction/hard-mining.js';
import { ReContrastDecoder, ReContrastNet, type Maps3 } from '../../../src/methods/feature-reconstruction/recontrast-net.js';
import { recontrastLoss, recontrastMaps } from '../../../src/methods/feature-reconstruction/recontrast.js';
import { fillModule, fillTensor, fixtureInput } from '../../models/backbones/fill.js';

const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'recontrast');
const fx = JSON.parse(readFileSync(join(DIR, 'recontrast.json'), 'utf8'));
const mapFile = readSafetensors(join(DIR, 'maps.safetensors')).tensors;
const fxMap = (k: string) => Float32Array.from(toFloat32(mapFile.get(k)!));

interface Summary {
  sum: number;
  sumsq: number;
  at: number[];
  values: number[];
  /** The same measure for PyTorch's own float32 step against this float64 reference. */
  float32Error: number;
}

function fillWithOffset(m: Module, offset: number): void {
  m.stateEntries().forEach((e, i) => fillTensor(offset + i, e.name, e.tensor.shape, e.tensor.data));
}

/** The fixture's networks: the filled frozen backbone and ReContrast's with its encoder copied from it. */
function fixtureNets(): { frozen: ResNetFeatures; net: ReContrastNet; x: Tensor } {
  const frozen = new ResNetFeatures('resnet18', NO_INIT);
  fillModule(frozen);
  frozen.eval();
  frozen.requiresGrad_(false);
  const net = new ReContrastNet('resnet18', new Generator(0));
  fillWithOffset(net.bottleneck, fx.step.fill.bottleneck);
  fillWithOffset(net.decoder, fx.step.fill.decoder);
  net.encoder.copyFrom(frozen);
  const shape = fx.step.input.shape as number[];
  const x = Tensor.fromData(fixtureInput(1000, 2, shape.reduce((a, b) => a * b, 1)), shape);
  return { frozen, net, x };
}

function frozenMaps(frozen: ResNetFeatures, x: Tensor): Maps3 {
  const f = frozen.features(x, RD_LAYERS);
  return [f.layer1, f.layer2, f.layer3];
}

/** The eval-mode maps, full, and at even rows and columns (what the fixture stores). */
function evalMaps(net: ReContrastNet, frozen: ResNetFeatures, x: Tensor): { full: Float32Array[]; even: Float32Array } {
  net.eval();
  const s = x.shape[2];
  const full = noGrad(() => recontrastMaps(net.forward(x, frozenMaps(frozen, x)), s, 4));
  const h = s / 2;
  const even = new Float32Array(full.length * h * h);
  full.forEach((m, i) => {
    for (let y = 0; y < h; y++) for (let xx = 0; xx < h; xx++) even[(i * h + y) * h + xx] = m[2 * y * s + 2 * xx];
  });
  return { full, even };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('hard mining: α schedule from −3 to 1 over the first 10 % of the iterations', () => {
  assert.is(hardMiningAlpha(0, 2000), -3);
  assert.is(hardMiningAlpha(100, 2000), -1);
  assert.is(hardMiningAlpha(170, 2000), fx.step.alpha);
  assert.is(hardMiningAlpha(200, 2000), 1);
  assert.is(hardMiningAlpha(1999, 2000), 1);
  assert.is(hardMiningAlpha(400, 2000, 0.2), 1);
  assert.throws(() => hardMiningAlpha(0, 0), /total/);
});

test('hard mining: the mask keeps p ≥ μ + α·σ (unbiased σ); maskGradient is the identity whose gradient is zero where masked', () => {
  const p = Tensor.fromData(Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]), [2, 1, 2, 2]);
  // μ = 0.45, σ = √(0.42/7) = 0.2449…; α = 0 keeps the four values ≥ 0.45
  const hm = hardMiningMask(p, 0);
  assert.equal(Array.from(hm.mask.data), [0, 0, 0, 0, 1, 1, 1, 1]);
  assert.is(hm.kept, 4);
  assert.is(hardMiningMask(p, 1).kept, 2); // ≥ 0.6949
  assert.is(hardMiningMask(p, -3).kept, 8);
  const x = Tensor.fromData(Float32Array.from({ length: 16 }, (_, i) => i - 7.5), [2, 2, 2, 2]).requiresGrad_(true);
  const y = maskGradient(x, Tensor.fromData(Float32Array.from([1, 0, 0, 1, 0, 1, 1, 0]), [2, 1, 2, 2]));
  assert.equal(Array.from(y.data), Array.from(x.data));
  y.mul(3).sum().backward();
  assert.equal(Array.from(x.grad!.data), [3, 0, 0, 3, 3, 0, 0, 3, 0, 3, 3, 0, 0, 3, 3, 0]);
});

test('hard mining: the loss value is the plain global cosine; masked positions pass no gradient to the student', () => {
  const g = new Generator(3);
  const a = randn([2, 4, 3, 3], { generator: g });
  const b = randn([2, 4, 3, 3], { generator: g }).requiresGrad_(true);
  const hm = globalCosineHardMining([[a, b]], 0.5);
  const plain = globalCosineHardMining([[a, b]], -1e9);
  assert.is(hm.loss.item(), plain.loss.item());
  hm.loss.backward();
  // Every channel of a position passes no gradient exactly where the mask removed it.
  const kept = hm.kept[0];
  let zeroPositions = 0;
  for (let bi = 0; bi < 2; bi++) {
    for (let pos = 0; pos < 9; pos++) {
      let allZero = true;
      for (let c = 0; c < 4; c++) if (b.grad!.data[(bi * 4 + c) * 9 + pos] !== 0) allZero = false;
      if (allZero) zeroPositions++;
    }
  }
  assert.is(zeroPositions, 18 - kept);
  assert.ok(kept > 0 && kept < 18, `kept ${kept}`);
});

test('wide_resnet50_2: the two sets of output heads hold 2,756,096 parameters (out1..out3 with biases)', () => {
  const d = new ReContrastDecoder('wide_resnet50_2', { generator: new Generator(0) });
  let heads = 0;
  for (const [name, p] of d.namedParameters()) if (/^out[123]\./.test(name)) heads += p.size;
  assert.is(heads, 2_756_096);
  assert.equal(
    d.namedParameters().filter(([n]) => n.startsWith('out')).map(([n, p]) => `${n}:${p.shape.join('x')}`).slice(0, 4),
    ['out1.0.weight:256x256x1x1', 'out1.0.bias:256', 'out1.1.weight:256x256x1x1', 'out1.1.bias:256'],
  );
});

test('state names: encoder (torchvision stem + layer1..3, no layer4), bottleneck, decoder with heads', () => {
  const net = new ReContrastNet('resnet18', new Generator(0));
  const names = [...net.stateDict().keys()];
  assert.ok(names.includes('encoder.conv1.weight') && names.includes('encoder.layer3.1.bn2.running_var'));
  assert.not.ok(names.some((n) => n.startsWith('encoder.layer4') || n.startsWith('encoder.fc')));
  assert.ok(names.includes('bottleneck.bn_layer.0.downsample.0.weight') && names.includes('bottleneck.conv4.weight'));
  assert.ok(names.includes('decoder.out3.1.bias') && names.includes('decoder.layer1.0.upsample.0.weight'));
});

test('one training step and the maps agree with PyTorch (resnet18, 128 px, α = 0.4, random weights)', () => {
  const { frozen, net, x } = fixtureNets();

  const before = evalMaps(net, frozen, x).even;
  const refBefore = fxMap('before');
  const scale = maxAbs(refBefore);
  assert.ok(maxDiff(before, refBefore) <= 2e-5 * scale, `maps before the step differ by ${maxDiff(before, refBefore)} (scale ${scale})`);

  net.trainModes(true);
  const alpha = hardMiningAlpha(fx.step.it, fx.step.total);
  const out = recontrastLoss(net.forward(x, frozenMaps(frozen, x)), alpha);
  const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
  close(out.loss.item(), fx.step.loss, 2e-6, 'loss');
  close(out.frozen.loss.item(), fx.step.frozen, 2e-6, 'HM(f, q)');
  close(out.trained.loss.item(), fx.step.trained, 2e-6, "HM(e, q')");
  const kept = [...out.frozen.kept, ...out.trained.kept];
  assert.equal(kept, fx.step.kept.map((k: { kept: number }) => k.kept), 'positions kept by the hard mining');

  const decoderGroup = [...net.decoder.parameters(), ...net.bottleneck.parameters()];
  const optD = new AdamW(decoderGroup, { lr: 2e-3, betas: [0.9, 0.999], weightDecay: 1e-5 });
  const optE = new AdamW(net.encoder.parameters(), { lr: 1e-5, betas: [0.9, 0.999], weightDecay: 1e-5 });
  optD.zeroGrad();
  optE.zeroGrad();
  out.loss.backward();

  const grads = fx.step.grads as Record<string, Summary | null>;
  const params = new Map(net.namedParameters());
  assert.equal([...params.keys()].sort(), Object.keys(grads).sort(), 'parameter names');
  // Per parameter, the largest of: relative error of the sum of squares, error of the sum in
  // units of rms·√n, and of the sampled entries in units of rms — against PyTorch's float64
  // step. A ReLU whose input lies within float32 rounding of 0 may open in one run and not in
  // the other, which moves the gradient of that unit's weights by up to a few percent; such
  // flips propagate to every earlier layer, so the bounds are on the distribution, set from
  // PyTorch's own float32 step against the same reference (median 2.3e-4, 90th percentile
  // 1.5e-3, worst 6.6e-3); the output heads, after the last ReLU, must agree to rounding.
  const errors: [number, string][] = [];
  for (const [name, ref] of Object.entries(grads)) {
    const p = params.get(name)!;
    if (ref === null) {
      assert.is(p.grad, null, `${name} takes no gradient`);
      continue;
    }
    assert.ok(p.grad, `${name} has a gradient`);
    const g = p.grad!.data;
    let s = 0;
    let ss = 0;
    for (const v of g) {
      s += v;
      ss += v * v;
    }
    const rms = Math.sqrt(ref.sumsq / g.length);
    const errs = [Math.abs(ss - ref.sumsq) / ref.sumsq, Math.abs(s - ref.sum) / (rms * Math.sqrt(g.length)), ...ref.at.map((i, j) => Math.abs(g[i] - ref.values[j]) / rms)];
    errors.push([Math.max(...errs), name]);
  }
  errors.sort((a, b) => a[0] - b[0]);
  const quantile = (q: number) => errors[Math.min(errors.length - 1, Math.floor(q * errors.length))][0];
  const [worst, worstName] = errors[errors.length - 1];
  if (process.env.SHOW) console.log('gradient errors: median', quantile(0.5), '90 %', quantile(0.9), 'worst', worst, worstName);
  assert.ok(quantile(0.5) <= 1e-3, `gradients: median error ${quantile(0.5)}`);
  assert.ok(quantile(0.9) <= 6e-3, `gradients: 90th percentile error ${quantile(0.9)}`);
  assert.ok(worst <= 5e-2, `gradients: worst error ${worst} (${worstName})`);
  for (const [e, name] of errors) if (name.startsWith('decoder.out')) assert.ok(e <= 1e-4, `${name}: gradient error ${e}`);

  optD.step();
  optE.step();
  const after = fx.step.after as Record<string, { at: number[]; values: number[] }>;
  let worstStep = 0;
  for (const [name, ref] of Object.entries(after)) {
    const d = params.get(name)!.data;
    ref.at.forEach((i, j) => {
      const e = Math.abs(d[i] - ref.values[j]);
      worstStep = Math.max(worstStep, e);
    });
  }
  if (process.env.SHOW) console.log('worst parameter after the AdamW steps', worstStep);
  // Adam's first step moves a value by lr·g/(|g| + ε) (lr 2e-3 for OCBE and decoder): by lr
  // whatever the gradient's last bits, except where |g| is within a few ε = 1e-8 of 0 (one
  // sampled entry has g = −6.3e-8; a 1e-3 change of it moves the step by 2 % of lr).
  assert.ok(worstStep <= 1e-4, `parameters after the AdamW steps differ by up to ${worstStep}`);

  const { full: afterFull, even: afterMaps } = evalMaps(net, frozen, x);
  const refAfter = fxMap('after');
  const d = maxDiff(afterMaps, refAfter);
  if (process.env.SHOW) console.log('maps', maxDiff(before, refBefore), d, scale);
  assert.ok(d <= 1e-4 * maxAbs(refAfter), `maps after the step differ by ${d}`);
  for (let i = 0; i < 2; i++) {
    const m = afterFull[i];
    close(Math.max(...m), fx.step.maps.after.max[i], 1e-4, `max score ${i}`);
    close(m.reduce((a, b) => a + b, 0) / m.length, fx.step.maps.after.mean[i], 1e-4, `mean score ${i}`);
  }
});

test.run();
