// RD4AD against PyTorch (test/fixtures/rd, from scripts/make-rd-fixtures.py; every weight is
// the hash fill of scripts/make-backbone-fixtures.py, random-valued, no ImageNet weights):
// one training step of the resnet18 variant at 64 px, batch 2 — the state-dict names, the loss
// and its three terms, every student gradient (sum, sum of squares, sampled entries), the
// parameters after Adam(lr 0.005, betas (0.5, 0.999)), BN running statistics — then the
// stepped student's anomaly maps in eval mode (official: sum + SciPy blur; anomalib: product
// + torch blur); and the wide_resnet50_2 OCBE + decoder forward (shapes, sums, samples).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Generator, noGrad, Tensor } from '../../../src/engine/index.js';
import { backbones, toBackboneInput } from '../../../src/models/backbones/index.js';
import { RD_LAYERS } from '../../../src/models/reverse-distillation.js';
import { RDNetwork, rdLoss } from '../../../src/methods/feature-reconstruction/rd4ad.js';
import { rdAnomalyMaps } from '../../../src/methods/feature-reconstruction/rd-maps.js';
import { Adam } from '../../../src/nn/optim/adam.js';
import { readSafetensors, toFloat32 } from '../../../src/nn/safetensors-format.js';
import type { Module } from '../../../src/nn/module.js';
import { fillModule, fillTensor, fixtureInput } from '../../models/backbones/fill.js';
import { fastestBackend } from '../helpers.js';

fastestBackend();
const DIR = new URL('../../fixtures/rd/', import.meta.url).pathname;
const fx = JSON.parse(readFileSync(DIR + 'rd.json', 'utf8'));
const mapsFile = readSafetensors(DIR + 'rd-maps.safetensors').tensors;
const step = fx.step;

interface Summary { sum: number; sumsq: number; sumabs: number; idx: number[]; values: number[] }

function fillStudent(net: Module, t0: number): void {
  net.stateEntries().forEach((e, t) => fillTensor(t0 + t, e.name, e.tensor.shape, e.tensor.data));
}

function teacherMaps(x: Tensor): [Tensor, Tensor, Tensor] {
  const f = teacher.features(toBackboneInput(x, { normalisation: 'imagenet' }), RD_LAYERS);
  return [f.layer1, f.layer2, f.layer3];
}

const within = (a: number, b: number, tol: number, what: string): void => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);

const teacher = backbones.create('resnet18', { weights: 'random', seed: 0 });
fillModule(teacher);
const [B, , S] = step.input.shape as number[];
const images = (t: number): Tensor => Tensor.fromData(fixtureInput(t, 2, B * S * S), [B, 1, S, S]);
const student = new RDNetwork('resnet18', 'official', new Generator(0), false);
fillStudent(student, step.studentT0);
const params = new Map(student.namedParameters());

test('state-dict names and shapes are the official ones (bn.*, decoder.*), in the same order', () => {
  assert.equal(student.stateEntries().map((e) => [e.name, [...e.tensor.shape]]), step.state);
});

test('one training step: loss, terms, every gradient, Adam-updated parameters, BN running statistics', () => {
  const e = teacherMaps(images(1000));
  student.train();
  const opt = new Adam(student.parameters(), { lr: step.adam.lr, betas: step.adam.betas, eps: step.adam.eps });
  opt.zeroGrad();
  const { loss, levels } = rdLoss(e, student.forward(e));
  within(loss.item(), step.loss, 2e-5 * step.loss, 'loss');
  levels.forEach((l, k) => within(l.item(), step.terms[k], 2e-5, `term ${k}`));
  loss.backward();
  const grads = new Map<string, Float32Array>();
  for (const [name, want] of Object.entries(step.grads) as [string, Summary | null][]) {
    const p = params.get(name)!;
    if (want === null) {
      assert.ok(!p.grad || p.grad.data.every((v) => v === 0), `${name} takes no gradient`);
      continue;
    }
    const g = p.grad!.data;
    grads.set(name, Float32Array.from(g));
    let s = 0, s2 = 0;
    for (const v of g) {
      s += v;
      s2 += v * v;
    }
    const rms = Math.sqrt(want.sumsq / g.length);
    within(s, want.sum, 2e-4 * want.sumabs + 1e-12, `${name} grad sum`);
    within(s2, want.sumsq, 2e-4 * want.sumsq + 1e-20, `${name} grad sum of squares`);
    want.idx.forEach((i, j) => within(g[i], want.values[j], 2e-3 * rms + 1e-12, `${name} grad[${i}]`));
  }
  opt.step();
  let flipped = 0;
  for (const [name, want] of Object.entries(step.after) as [string, { idx: number[]; values: number[] }][]) {
    const p = params.get(name)!.data;
    const g = grads.get(name);
    const gs = step.grads[name] as Summary | null;
    want.idx.forEach((i, j) => {
      // Adam's first step moves by lr·g/(|g| + eps) ≈ ±lr: only a gradient at float32 noise level may differ in sign.
      const tiny = g && gs && Math.abs(g[i]) < 1e-3 * Math.sqrt(gs.sumsq / g.length);
      if (tiny && Math.abs(p[i] - want.values[j]) > 1e-5) flipped++;
      else within(p[i], want.values[j], 1e-6 + 1e-6 * Math.abs(want.values[j]), `${name}[${i}] after Adam`);
    });
  }
  assert.ok(flipped <= 2, `${flipped} near-zero gradients stepped the other way`);
  const modules = new Map(student.namedModules());
  for (const [name, want] of Object.entries(step.running) as [string, { running_mean: number[]; running_var: number[]; num_batches_tracked: number }][]) {
    const bn = modules.get(name) as unknown as { runningMean: Tensor; runningVar: Tensor; numBatchesTracked: Tensor };
    want.running_mean.forEach((v, i) => within(bn.runningMean.data[i], v, 1e-5, `${name}.running_mean[${i}]`));
    want.running_var.forEach((v, i) => within(bn.runningVar.data[i], v, 1e-5 * Math.abs(v), `${name}.running_var[${i}]`));
    assert.is(bn.numBatchesTracked.data[0], want.num_batches_tracked, `${name}.num_batches_tracked`);
  }
});

test('the stepped student in eval mode: official (sum, SciPy blur) and anomalib (product, torch blur) maps and max scores', () => {
  student.eval();
  const e = teacherMaps(images(1001));
  const d = noGrad(() => student.forward(e));
  const pairs: [Tensor, Tensor][] = [[e[0], d[0]], [e[1], d[1]], [e[2], d[2]]];
  for (const variant of ['official', 'anomalib'] as const) {
    const spec = step.maps[variant];
    const maps = rdAnomalyMaps(pairs, S, { combine: spec.combine, blur: spec.blur, sigma: 4 });
    const want = toFloat32(mapsFile.get(spec.tensor)!);
    let worst = 0;
    maps.forEach((m, b) => {
      let mx = -Infinity;
      for (let i = 0; i < m.length; i++) {
        worst = Math.max(worst, Math.abs(m[i] - want[b * S * S + i]) / (1e-3 + Math.abs(want[b * S * S + i])));
        mx = Math.max(mx, m[i]);
      }
      within(mx, spec.scores[b], 1e-4 * Math.abs(spec.scores[b]), `${variant} score ${b}`);
    });
    assert.ok(worst < 2e-4, `${variant} map: worst relative difference ${worst}`);
  }
});

test('wide_resnet50_2: OCBE (width 1024) + decoder eval forward at 64 px matches, parameter counts as PyTorch', () => {
  const wide = new RDNetwork('wide_resnet50_2', 'official', new Generator(1), false);
  assert.is(wide.bn.numParameters(), fx.wide.params.bn);
  assert.is(wide.decoder.numParameters(), fx.wide.params.decoder);
  // the official OCBE with its unused conv4/bn4 (8,392,704), and de_wide_resnet50_2
  assert.equal([wide.bn.numParameters(), wide.bn.conv4.numParameters() + wide.bn.bn4.numParameters(), wide.decoder.numParameters()], [67_277_824, 8_392_704, 24_917_504]);
  const names = [...wide.stateDict().keys()];
  for (const n of ['bn.bn_layer.0.conv2.weight', 'decoder.layer1.0.upsample.0.weight', 'decoder.layer1.0.upsample.1.running_mean', 'decoder.layer3.5.conv3.weight']) assert.ok(names.includes(n), n);
  assert.equal(wide.bn.bn_layer.at(0).stateDict().get('conv2.weight')!.shape, [1024, 1024, 3, 3]);
  assert.equal(wide.decoder.layer1.at(0).stateDict().get('conv2.weight')!.shape, [512, 512, 2, 2]);
  fillStudent(wide, step.studentT0);
  wide.eval();
  const e = fx.wide.inputs.map((shape: number[], k: number) => Tensor.fromData(fixtureInput(1002 + k, 2, shape.reduce((a, b) => a * b, 1)), shape)) as [Tensor, Tensor, Tensor];
  const out = noGrad(() => {
    const z = wide.bn.forward(e);
    const [d1, d2, d3] = wide.decoder.forward(z);
    return { embedding: z, d1, d2, d3 };
  });
  for (const [name, want] of Object.entries(fx.wide.outputs) as [string, { shape: number[]; sum: number; sumabs: number; idx: number[]; values: number[] }][]) {
    const t = out[name as keyof typeof out];
    assert.equal(t.shape, want.shape, name);
    let s = 0;
    for (const v of t.data) s += v;
    within(s, want.sum, 1e-4 * want.sumabs, `${name} sum`);
    const scale = want.sumabs / t.size;
    want.idx.forEach((i, j) => within(t.data[i], want.values[j], 1e-4 * scale + 1e-4 * Math.abs(want.values[j]), `${name}[${i}]`));
  }
});

test.run();
