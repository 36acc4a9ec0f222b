// ProjectionNet against the reference module in PyTorch 1.13 / torchvision 0.14
// (test/fixtures/ssl-two-stage, made by scripts/make-projection-net-fixtures.py): the same
// state-dict names and shapes, the same deterministic weights (fill.ts reproduces the
// script's formula bit for bit), then the reference's training step on a 6-image batch of
// three views at 32 px — train-mode forward (embeddings, logits), cross-entropy, gradients,
// SGD(0.03, momentum 0.9, wd 3e-5), a second step — the eval-mode forward, and the
// CosineAnnealingWarmRestarts rates as run_training.py steps them (step(epoch) after each
// epoch). On ts and cpu.
//
// Tolerances: train-mode batch norm over 6 images (layer4 maps are 1 × 1, so 6 values per
// channel) divides by small standard deviations, which amplifies float32 reordering; values
// are compared relative to the largest magnitude of the tensor (REL below; 1e-3 for
// gradients and what follows a step), losses to 1e-5 (1e-4 after a step). The biases of the
// Linear layers before a train-mode BN have a zero gradient in exact arithmetic (BN removes
// the mean): there only an absolute 1e-6 is asked.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { crossEntropy, Generator, noGrad, Tensor } from '../../../src/engine/index.js';
import { ProjectionNet } from '../../../src/models/projection-net.js';
import { CosineAnnealingWarmRestarts, SGD } from '../../../src/nn/optim/index.js';
import { readSafetensors, toFloat32 } from '../../../src/nn/safetensors-format.js';
import { fillModule, fixtureInput } from '../../models/backbones/fill.js';
import { eachBackend } from '../../nn/helpers/backends.js';
import { setBackend } from '../../../src/backend/registry.js';

const dir = new URL('../../fixtures/ssl-two-stage/', import.meta.url).pathname;
interface Fixture {
  names: [string, number[]][];
  input: { shape: number[]; tensor: number; scale: number };
  labels: number[];
  sgd: { lr: number; momentum: number; weightDecay: number };
  loss1: number;
  loss2: number;
  gradStats: Record<string, [number, number]>;
  scheduler: { t100: number[]; t3: number[] };
}
const fx = JSON.parse(readFileSync(dir + 'projection-net.json', 'utf8')) as Fixture;
const ref = readSafetensors(dir + 'projection-net.safetensors').tensors;
const R = (name: string): Float32Array => {
  const t = ref.get(name);
  if (!t) throw new Error(`fixture has no ${name}`);
  return toFloat32(t);
};

const REL = 2e-4;
function close(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rel = REL): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(expected[i]));
  const tol = rel * max + 1e-7;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    worst = Math.max(worst, d);
    if (!(d <= tol)) assert.unreachable(`${what}[${i}]: ${actual[i]} vs ${expected[i]} (|d| ${d.toExponential(2)} > ${tol.toExponential(2)}; max |ref| ${max})`);
  }
}

test('state dict: the reference module names and shapes, in its order; parameter counts of §4.8', () => {
  const net = new ProjectionNet({ numClasses: 3, generator: new Generator(0) });
  const ours = net.stateEntries().map((e) => [e.name, e.tensor.shape]);
  assert.equal(ours, fx.names);
  assert.is(net.parameters().reduce((a, p) => a + p.size, 0), 11_506_499);
  assert.is(new ProjectionNet({ numClasses: 2, generator: new Generator(0) }).parameters().reduce((a, p) => a + p.size, 0), 11_506_370);
});

test('initialisation: torchvision for the body, PyTorch defaults for the head, all from the generator', () => {
  const a = new ProjectionNet({ numClasses: 2, generator: new Generator(5) });
  const b = new ProjectionNet({ numClasses: 2, generator: new Generator(5) });
  const c = new ProjectionNet({ numClasses: 2, generator: new Generator(6) });
  assert.equal(Array.from(a.out.weight.data), Array.from(b.out.weight.data));
  assert.not.equal(Array.from(a.out.weight.data.subarray(0, 8)), Array.from(c.out.weight.data.subarray(0, 8)));
  // conv1: Kaiming-normal fan_out (std √(2 / (64·49)) ≈ 0.0253); head Linear: U(±1/√512).
  const w = a.resnet18.conv1.weight.data;
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(std - Math.sqrt(2 / (64 * 49))) < 0.002, `conv1 std ${std}`);
  const h = (a.head.at(0) as unknown as { weight: Tensor }).weight.data;
  assert.ok(h.every((v) => Math.abs(v) <= 1 / Math.sqrt(512)));
  assert.ok(Math.max(...h.subarray(0, 4096)) > 0.9 / Math.sqrt(512));
  const bn = a.resnet18.bn1;
  assert.ok(bn.weight!.data.every((v) => v === 1) && bn.bias!.data.every((v) => v === 0));
  assert.throws(() => new ProjectionNet({ numClasses: 1, generator: new Generator(0) }), /numClasses must be an integer ≥ 2/);
});

eachBackend(test, 'training step, second step and eval forward equal the reference', () => {
  const net = new ProjectionNet({ numClasses: 3, generator: new Generator(0) });
  fillModule(net);
  const x = Tensor.fromData(fixtureInput(fx.input.tensor, fx.input.scale, fx.input.shape.reduce((a, b) => a * b, 1)), fx.input.shape);
  const y = Int32Array.from(fx.labels);
  const opt = new SGD(net.parameters(), { lr: fx.sgd.lr, momentum: fx.sgd.momentum, weightDecay: fx.sgd.weightDecay });
  net.train();
  opt.zeroGrad();
  const { embeds, logits } = net.forward(x);
  const loss = crossEntropy(logits, y);
  loss.backward();
  close(embeds.data, R('step1/embeds'), 'train embeds');
  close(logits.data, R('step1/logits'), 'train logits');
  assert.ok(Math.abs(loss.item() - fx.loss1) < 1e-5, `loss ${loss.item()} vs ${fx.loss1}`);
  const params = new Map(net.namedParameters());
  for (const [name, [sum, abs]] of Object.entries(fx.gradStats)) {
    const g = params.get(name)?.grad?.data;
    assert.ok(g, `${name} has a gradient`);
    let s = 0;
    let a = 0;
    for (const v of g!) {
      s += v;
      a += Math.abs(v);
    }
    assert.ok(Math.abs(a - abs) <= 1e-3 * abs + 1e-6, `${name}: Σ|grad| ${a} vs ${abs}`);
    assert.ok(Math.abs(s - sum) <= 1e-3 * abs + 1e-6, `${name}: Σgrad ${s} vs ${sum}`);
  }
  for (const [k] of ref) {
    if (k.startsWith('grad/')) close(params.get(k.slice(5))!.grad!.data, R(k), k, 1e-3);
  }
  opt.step();
  const state = net.stateDict();
  for (const [k] of ref) if (k.startsWith('running/')) close(state.get(k.slice(8))!.data, R(k), k);

  opt.zeroGrad();
  const second = net.forward(x);
  const loss2 = crossEntropy(second.logits, y);
  loss2.backward();
  opt.step();
  close(second.logits.data, R('step2/logits'), 'step 2 logits', 1e-3);
  assert.ok(Math.abs(loss2.item() - fx.loss2) < 1e-4, `loss 2 ${loss2.item()} vs ${fx.loss2}`);
  close(net.out.weight.data, R('step3/out.weight'), 'out.weight after two steps', 1e-4);

});

eachBackend(test, 'eval-mode forward (running statistics; the one-class stage) equals the reference', () => {
  const net = new ProjectionNet({ numClasses: 3, generator: new Generator(0) });
  fillModule(net);
  net.eval();
  const x = Tensor.fromData(fixtureInput(fx.input.tensor, fx.input.scale, fx.input.shape.reduce((a, b) => a * b, 1)), fx.input.shape);
  const ev = noGrad(() => net.forward(x));
  close(ev.embeds.data, R('eval/embeds'), 'eval embeds');
  close(ev.logits.data, R('eval/logits'), 'eval logits');
});

test("CosineAnnealingWarmRestarts(T_0, η_min 0) stepped with the 0-based epoch after each epoch: torch's rates", () => {
  for (const [t0, expected] of [
    [100, fx.scheduler.t100],
    [3, fx.scheduler.t3],
  ] as const) {
    const opt = new SGD([Tensor.fromData(new Float32Array(1), [1])], { lr: 0.03, momentum: 0.9, weightDecay: 3e-5 });
    const sched = new CosineAnnealingWarmRestarts(opt, t0);
    const got: number[] = [];
    for (let epoch = 0; epoch < expected.length; epoch++) {
      got.push(opt.paramGroups[0].lr);
      sched.stepTo(epoch);
    }
    for (let e = 0; e < expected.length; e++) assert.ok(Math.abs(got[e] - expected[e]) <= 1e-15, `T_0 ${t0} epoch ${e}: ${got[e]} vs ${expected[e]}`);
  }
  // The derived formula of methods.md §3.3: 0.03 in epochs 0 and 1, then 0.015·(1 + cos(π(k − 1)/100)).
  for (let k = 1; k < 100; k++) assert.ok(Math.abs(fx.scheduler.t100[k] - 0.015 * (1 + Math.cos((Math.PI * (k - 1)) / 100))) < 1e-15);
});

test.after(() => setBackend('ts'));
test.run();
