// AutoDDPM's MONAI-style U-Net (diffusion spec §3.1, §6.5.1) against the PyTorch port of the
// reference in scripts/make-monai-unet-fixtures.py (test/fixtures/diffusion/monai-unet.*):
// the reference configuration's 18,500,993 parameters (460,544 of them the dead proj_attn)
// counted statically and, built, under the reference's state-dict names, shapes and order;
// exactly zero output untrained; one training step (forward, MSE loss, every gradient) of two
// small configurations with every weight, the zero-init convolutions included, set non-zero by
// the deterministic fill of scripts/make-backbone-fixtures.py.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator, mseLoss, noGrad, randn, sinusoidalTimestepEmbedding, Tensor, tensor } from '../../../src/engine/index.js';
import type { StateValue } from '../../../src/nn/index.js';
import { MonaiUNet, monaiUNetParameterCount, type MonaiUNetOptions } from '../../../src/models/diffusion/monai-unet.js';
import { AttentionBlock } from '../../../src/models/diffusion/monai-blocks.js';
import type { Denoiser } from '../../../src/models/diffusion/denoiser.js';
import { readSafetensors, toFloat32 } from '../../../src/nn/safetensors-format.js';
import { eachBackend } from '../../nn/helpers/backends.js';
import { assertClose, maxAbs } from '../../nn/helpers/compare.js';
import { fillTensor, fixtureInput } from '../backbones/fill.js';

const DIR = new URL('../../fixtures/diffusion/', import.meta.url).pathname;

interface NetConfig {
  numChannels: number[];
  attentionLevels: boolean[];
  numResBlocks: number;
  headChannels: number;
  channels: number;
  normGroups?: number;
}
interface Described {
  config: NetConfig;
  params: number;
  deadParams: number;
  state: Array<[string, number[]]>;
}
interface StepCase {
  config: NetConfig & { batch: number; size: number; t: number[] };
  loss: number;
  noGrad: string[];
  params: number;
  state?: Array<[string, number[]]>;
}
const meta: { torch: string; autoddpm: Described; miniNet: Described; step: StepCase; mini: StepCase } = JSON.parse(readFileSync(DIR + 'monai-unet.json', 'utf8'));
const raw = readSafetensors(DIR + 'monai-unet.safetensors').tensors;
const fx = (key: string): Float32Array => {
  const r = raw.get(key);
  if (!r) throw new Error(`monai-unet.safetensors has no tensor "${key}"`);
  return toFloat32(r);
};

const opts = (c: NetConfig, seed: number): MonaiUNetOptions => ({ ...c, generator: new Generator(seed) });

test('reference configuration: 18,500,993 parameters (460,544 dead proj_attn), counted without building, as PyTorch', () => {
  const count = monaiUNetParameterCount();
  assert.is(count.total, meta.autoddpm.params);
  assert.is(count.total, 18_500_993);
  assert.is(count.dead, meta.autoddpm.deadParams);
  assert.is(count.dead, 460_544); // 7 attention blocks × 65,792
  assert.equal(monaiUNetParameterCount({ numChannels: [32, 64, 64], attentionLevels: [false, false, true], headChannels: 64 }), {
    total: meta.miniNet.params,
    dead: meta.miniNet.deadParams,
  });
  assert.is(monaiUNetParameterCount(meta.step.config).total, meta.step.params);
});

function assertSameState(net: MonaiUNet, expected: Array<[string, number[]]>, what: string): void {
  const ours = net.stateEntries().map((e) => [e.name, [...e.tensor.shape]]);
  assert.is(ours.length, expected.length, `${what}: number of state-dict entries`);
  ours.forEach(([name, shape], i) => {
    assert.is(name, expected[i][0], `${what}: entry ${i} name (PyTorch order)`);
    assert.equal(shape, expected[i][1], `${what}: ${String(name)} shape`);
  });
}

test('reference configuration built: the reference state dict (names, shapes, order); the static count is what was built', () => {
  const net = new MonaiUNet({ generator: new Generator(1) });
  assertSameState(net, meta.autoddpm.state, 'reference config');
  assert.is(net.numParameters(), 18_500_993);
  const dead = net.namedParameters().filter(([n]) => n.includes('.proj_attn.')).reduce((s, [, p]) => s + p.size, 0);
  assert.is(dead, 460_544);
  // One head of 256 channels at every attention block (num_head_channels 256).
  const attn = net.modules().filter((m): m is AttentionBlock => m instanceof AttentionBlock);
  assert.is(attn.length, 7);
  assert.ok(attn.every((a) => a.heads === 1));
  // The net is a Denoiser.
  const d: Denoiser = net;
  assert.ok(d);
});

test('AutoDDPM-mini (spec §6.4) built: PyTorch names and shapes, numParameters = the static count = PyTorch', () => {
  const net = new MonaiUNet(opts(meta.miniNet.config, 2));
  assertSameState(net, meta.miniNet.state, 'mini');
  assert.is(net.numParameters(), meta.miniNet.params);
  assert.is(net.numParameters(), monaiUNetParameterCount(meta.miniNet.config).total);
});

test('untrained: the output is exactly 0 (zero-init output conv), reference and mini configurations', () => {
  const x = randn([2, 1, 8, 8], { seed: 3 });
  for (const net of [new MonaiUNet({ generator: new Generator(4) }), new MonaiUNet(opts(meta.miniNet.config, 5))]) {
    const y = noGrad(() => net.forward(x, new Float32Array([0, 999])));
    assert.equal(y.shape, [2, 1, 8, 8]);
    assert.ok(y.data.every((v) => v === 0), 'every output value is 0');
  }
});

// The engine's frequencies exp(−ln(10⁴)·i/h) are computed in float64 and rounded once; PyTorch
// steps through float32 and its own float32 exp, so f_i can differ by an ulp, and t·f_i
// (t up to 999) by ~10⁻⁵ after rounding: the embeddings agree to 1e-4, not bit for bit.
test('timestep embedding of the fixture: cos-sin order, width num_channels[0]', () => {
  for (const c of [meta.step, meta.mini]) {
    const name = c === meta.step ? 'step' : 'mini';
    const e = sinusoidalTimestepEmbedding(new Float32Array(c.config.t), c.config.numChannels[0], 'cos-sin');
    assertClose(e.data, fx(`${name}/temb`), `${name} embedding`, { rtol: 0, atol: 1e-4 });
  }
});

/** The fixture's weights: fill_value(t, name) for the t-th entry of the PyTorch state dict, by name. */
function filledState(net: MonaiUNet): Map<string, StateValue> {
  const out = new Map<string, StateValue>();
  net.stateEntries().forEach((e, t) => {
    const data = new Float32Array(e.tensor.size);
    fillTensor(t, e.name, e.tensor.shape, data);
    out.set(e.name, { shape: e.tensor.shape, data });
  });
  return out;
}

/** Relative to the tensor's scale: float32 sums over 10²–10³ terms, ~20 layers deep. */
const scaled = (ref: ArrayLike<number>, rel: number) => ({ rtol: rel, atol: rel * maxAbs(ref) });

function trainingStep(name: 'step' | 'mini'): void {
  const c = meta[name];
  const net = new MonaiUNet(opts(c.config, 6));
  if (c.state) assertSameState(net, c.state, name);
  net.loadStateDict(filledState(net)); // strict: the names are PyTorch's
  const shape = [c.config.batch, c.config.channels, c.config.size, c.config.size];
  const n = shape.reduce((a, b) => a * b, 1);
  const x = tensor(fixtureInput(1000, 2, n), shape);
  const noise = tensor(fixtureInput(1001, 3, n), shape);
  assertClose(x.data, fx(`${name}/x`), `${name} input`, { rtol: 0, atol: 0 });
  assertClose(noise.data, fx(`${name}/noise`), `${name} noise`, { rtol: 0, atol: 0 });
  const out = net.forward(x, new Float32Array(c.config.t));
  const refOut = fx(`${name}/out`);
  assertClose(out.data, refOut, `${name} output`, scaled(refOut, 2e-5));
  const loss = mseLoss(out, noise);
  assertClose([loss.item()], [c.loss], `${name} loss`, { rtol: 1e-5, atol: 0 });
  loss.backward();
  let compared = 0;
  for (const [pname, p] of net.namedParameters()) {
    if (c.noGrad.includes(pname)) {
      // proj_attn: never applied, so no gradient reaches it (PyTorch: grad None).
      assert.ok(pname.includes('.proj_attn.'), `${pname} is a proj_attn parameter`);
      assert.ok(!p.grad || maxAbs(p.grad.data) === 0, `${pname} has no gradient`);
      continue;
    }
    if (!raw.has(`${name}/grad/${pname}`)) continue;
    const ref = fx(`${name}/grad/${pname}`);
    assert.ok(p.grad, `${pname} has a gradient`);
    if (pname.endsWith('.to_k.bias')) {
      // A key bias adds the same q·b to every score of a query: softmax ignores it, so its
      // gradient is exactly 0 in exact arithmetic, and rounding noise on both sides.
      assert.ok(maxAbs(p.grad!.data) < 1e-7 && maxAbs(ref) < 1e-7, `gradient of ${pname} is rounding noise around 0`);
      compared++;
      continue;
    }
    assertClose(p.grad!.data, ref, `${name} gradient of ${pname}`, scaled(ref, 2e-4));
    compared++;
  }
  const expected = [...raw.keys()].filter((k) => k.startsWith(`${name}/grad/`)).length;
  assert.is(compared, expected, `${name}: every stored gradient was compared`);
}

eachBackend(test, 'one training step, 32-channel levels with 2 heads at 8×8 and 4×4: output, MSE loss and every gradient match PyTorch', () => trainingStep('step'));
eachBackend(test, 'one training step, AutoDDPM-mini (32, 64, 64): output, MSE loss and sampled gradients match PyTorch', () => trainingStep('mini'));

test('bad options and inputs are refused with the option or input named', () => {
  const g = new Generator(7);
  assert.throws(() => new MonaiUNet({} as MonaiUNetOptions), /generator/);
  assert.throws(() => new MonaiUNet({ generator: g, numChannels: [32, 48], attentionLevels: [false, true] }), /numChannels\[1\] = 48 must be a multiple of normGroups/);
  assert.throws(() => new MonaiUNet({ generator: g, numChannels: [32, 64] }), /attentionLevels must hold one boolean per level/);
  assert.throws(() => new MonaiUNet({ generator: g, numChannels: [32, 64], attentionLevels: [false, true], headChannels: 128 }), /headChannels 128 gives 0 heads at level 1/);
  assert.throws(() => new MonaiUNet({ generator: g, numResBlocks: 0 }), /numResBlocks must be a positive integer/);
  const net = new MonaiUNet({ generator: g, numChannels: [32, 32], attentionLevels: [false, true], headChannels: 32 });
  assert.throws(() => net.forward(Tensor.empty([1, 1, 7, 8]), new Float32Array([1])), /multiples of 2/);
  assert.throws(() => net.forward(Tensor.empty([1, 3, 8, 8]), new Float32Array([1])), /expected x of shape \[B, 1, H, W\]/);
  assert.throws(() => net.forward(Tensor.empty([2, 1, 8, 8]), new Float32Array([1])), /one timestep per image \(2\)/);
});

test.run();
