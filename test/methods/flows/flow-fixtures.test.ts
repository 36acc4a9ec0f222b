// CFlow-AD and FastFlow against PyTorch 1.13 (scripts/make-flow-method-fixtures.py, with its
// own direct AllInOneBlock): the same hash-filled resnet18 (random weights, not ImageNet's) and
// flows, fixed channel mixings and fiber orders on both sides.
// - CFlow: 21 fiber batches of one image batch, each one Adam step over all flows with
//   PyTorch 1.x's zero_grad (zeros, not None): every step's loss, the first step's gradients,
//   every parameter after the 21 steps; then the test images' per-level log p̄ and the maps and
//   scores normalised over the set and per batch of one image.
// - FastFlow: one Adam step with weight decay: loss, per-level terms, gradients, parameters
//   after the step; the map and scores of the test images.
// - CFLOW-official's positional encoding; Pillow's nearest rotation as RandomRotation calls it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Generator, noGrad, Tensor } from '../../../src/engine/index.js';
import { backbones, toBackboneInput } from '../../../src/models/backbones/index.js';
import { CFlowHeads, FastFlowHeads } from '../../../src/models/flow-heads.js';
import { readSafetensors, toFloat32 } from '../../../src/nn/safetensors-format.js';
import { Adam } from '../../../src/nn/optim/adam.js';
import { adam } from '../../../src/methods/training/trainer.js';
import { cflowFiberSteps, fiberLogProb, gatherFibers, gatherRows } from '../../../src/methods/flows/cflow-train.js';
import { cflowMaps, fastflowMap, type LevelLogProb } from '../../../src/methods/flows/flow-maps.js';
import { fastflowLoss } from '../../../src/methods/flows/fastflow.js';
import { fiberConditions, positionalEncoding2d } from '../../../src/methods/flows/positional.js';
import { rotatePlane } from '../../../src/methods/flows/augment.js';
import { fillModule } from '../../models/backbones/fill.js';
import { fastestBackend } from '../helpers.js';
import { fillHeads, fixtureImages, formulaPermutation, householder } from './fill.js';

fastestBackend();
const dir = new URL('../../fixtures/flow-methods/', import.meta.url).pathname;
const fx = JSON.parse(readFileSync(dir + 'flow-methods.json', 'utf8'));
const ref = readSafetensors(dir + 'flow-methods.safetensors').tensors;
const get = (k: string) => toFloat32(ref.get(k)!);

interface Summary {
  sum: number;
  sumSq: number;
  idx: number[];
  values: number[];
}

function summarise(d: Float32Array, idx: number[]): Summary {
  let s = 0;
  let q = 0;
  for (const v of d) {
    s += v;
    q += v * v;
  }
  return { sum: s, sumSq: q, idx, values: idx.map((i) => d[i]) };
}

/** Largest deviation of a summary, relative to the tensor's RMS·√n (sum) or its mean square (sumSq) and max sample. */
function checkSummary(what: string, got: Float32Array, want: Summary, rtol: number): number {
  const mine = summarise(got, want.idx);
  const n = got.length;
  const rms = Math.sqrt(want.sumSq / n) + 1e-12;
  const eSum = Math.abs(mine.sum - want.sum) / (rms * Math.sqrt(n) + 1e-30);
  const eSq = Math.abs(mine.sumSq - want.sumSq) / (want.sumSq + 1e-30);
  const eVal = Math.max(...want.values.map((v, i) => Math.abs(mine.values[i] - v) / (rms + Math.abs(v))));
  const worst = Math.max(eSum, eSq, eVal);
  assert.ok(worst <= rtol, `${what}: sum ${mine.sum} vs ${want.sum}, sumSq ${mine.sumSq} vs ${want.sumSq}, values ${mine.values} vs ${want.values} (deviation ${worst.toExponential(2)} > ${rtol})`);
  return worst;
}

function close(what: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol = 0): void {
  assert.is(got.length, want.length, `${what}: length`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]) - rtol * Math.abs(want[i]);
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  assert.ok(worst <= atol, `${what}: [${at}] ${got[at]} vs ${want[at]} (excess ${worst})`);
}

const backbone = backbones.create('resnet18', { weights: 'random' });
fillModule(backbone);

function featuresOf(seed: number, size: number, batch: number, layers: readonly string[]): Tensor[] {
  const shape = [batch, 3, size, size];
  const x = Tensor.fromData(fixtureImages(seed, shape), shape);
  const f = backbone.features(toBackboneInput(x, { normalisation: 'imagenet' }), layers);
  return layers.map((l) => f[l]);
}

test('CFlow: 21 fiber-batch Adam steps (zeros zero_grad), first gradients, parameters after, log p̄, set and batch maps match PyTorch', () => {
  const c = fx.cflow;
  const heads = new CFlowHeads({ channels: c.channels, condition: c.condition, blocks: c.blocks, clamp: c.clamp, permuteSoft: true, generator: new Generator(0) });
  const names = fillHeads(heads, c.base, (l, k, ch) => {
    const h = householder(4000 + 16 * l + k, ch);
    return { w: h, wInv: h };
  });
  assert.equal(names, c.state.map((s: [string, number[]]) => s[0]));
  const params = heads.namedParameters();
  const opt = adam(heads.parameters(), c.lr);
  const feats = featuresOf(c.trainInput, c.size, c.batch, c.layers);
  const perms = feats.map((f, l) => {
    const E = f.shape[0] * f.shape[2] * f.shape[3];
    return Int32Array.from({ length: E }, (_, e) => (e * (2 * l + 5) + 3 * l + 1) % E);
  });
  const losses: number[] = [];
  let worstGrad = 0;
  const r = cflowFiberSteps(heads.decoders.items, feats, opt, { condition: c.condition, fiberBatch: c.fiberBatch, remainder: 'drop', zeroGrad: 'zeros', lr: c.lr }, { perms }, (l, k, loss) => {
    losses.push(loss);
    if (losses.length > 1) return;
    const want = Object.keys(c.firstGrads);
    assert.equal(params.filter(([, p]) => p.grad).map(([n]) => n), want);
    for (const [n, p] of params) if (p.grad) worstGrad = Math.max(worstGrad, checkSummary(`grad ${n}`, p.grad.data, c.firstGrads[n], 2e-4));
  });
  assert.is(r.steps, 21);
  close('losses', losses, c.losses, 0, 1e-5);
  let worstAfter = 0;
  for (const [n, p] of params) worstAfter = Math.max(worstAfter, checkSummary(`after ${n}`, p.data, c.after[n], 2e-4));

  const ft = featuresOf(c.testInput, c.size, c.batch, c.layers);
  const levels: LevelLogProb[] = noGrad(() =>
    ft.map((f, l) => {
      const [B, , H, W] = f.shape;
      const idx = Int32Array.from({ length: B * H * W }, (_, i) => i);
      const lp = fiberLogProb(heads.decoders.items[l], gatherFibers(f, idx), gatherRows(fiberConditions(c.condition, B, H, W), c.condition, idx));
      close(`log p̄ level ${l}`, lp.data, get(`cflow/logp/${l}`), 2e-5, 2e-5);
      // the reference's values, so that the maps are checked on their own
      return { height: H, width: W, values: get(`cflow/logp/${l}`) };
    }),
  );
  for (const [label, group] of [['set', c.batch], ['batch1', 1]] as const) {
    const { maps, scores } = cflowMaps(levels, c.batch, c.size, label === 'set' ? 'set' : 'batch', group);
    const flat = new Float32Array(maps.length * maps[0].length);
    maps.forEach((m, i) => flat.set(m, i * m.length));
    close(`map ${label}`, flat, get(`cflow/map/${label}`), 1e-6, 1e-6);
    close(`score ${label}`, scores, get(`cflow/score/${label}`), 1e-6, 1e-6);
  }
  console.log(`  cflow: worst gradient deviation ${worstGrad.toExponential(2)}, parameters after 21 steps ${worstAfter.toExponential(2)}`);
});

test('FastFlow: one Adam step with weight decay (loss, terms, gradients, parameters after) and the map of the test images match PyTorch', () => {
  const c = fx.fastflow;
  const feats = featuresOf(c.trainInput, c.size, c.batch, c.layers);
  const heads = new FastFlowHeads({
    levels: feats.map((f) => ({ channels: f.shape[1], height: f.shape[2], width: f.shape[3] })),
    flowSteps: c.flowSteps,
    clamp: c.clamp,
    conv3x3Only: false,
    hiddenRatio: 1,
    generator: new Generator(0),
  });
  const names = fillHeads(heads, c.base, (_l, k, ch) => formulaPermutation(ch, k));
  assert.equal(names, c.state.map((s: [string, number[]]) => s[0]));
  const params = heads.namedParameters();
  const opt = new Adam(heads.parameters(), { lr: c.lr, weightDecay: c.weightDecay });
  const { z, logdet } = heads.forward(feats);
  const { loss, terms } = fastflowLoss(z, logdet);
  close('loss', [loss.item()], [c.loss], 0, 2e-5);
  close('terms', Object.values(terms!).map((t) => (t as Tensor).item()), c.terms, 1e-3, 2e-5);
  opt.zeroGrad();
  loss.backward();
  let worstGrad = 0;
  for (const [n, p] of params) worstGrad = Math.max(worstGrad, checkSummary(`grad ${n}`, p.grad!.data, c.grads[n], 5e-4));
  opt.step();
  let worstAfter = 0;
  for (const [n, p] of params) worstAfter = Math.max(worstAfter, checkSummary(`after ${n}`, p.data, c.after[n], 1e-4));
  const maps = noGrad(() => fastflowMap(heads.forward(featuresOf(c.testInput, c.size, c.batch, c.layers)).z, c.size));
  close('map', maps.data, get('fastflow/map'), 2e-5, 2e-5);
  console.log(`  fastflow: worst gradient deviation ${worstGrad.toExponential(2)}, parameters after the step ${worstAfter.toExponential(2)}`);
});

test("positional encoding equals CFLOW-official's positionalencoding2d(128, 8, 8)", () => {
  close('P', positionalEncoding2d(128, 8, 8), get('positional'), 2e-7);
});

test("rotation: Pillow's nearest rotate with fill 0, value for value", () => {
  const input = get('rotation/input');
  fx.rotation.angles.forEach((a: number, i: number) => {
    const out = new Float32Array(32 * 32);
    rotatePlane(input, out, 32, a, 0);
    const want = get(`rotation/${i}`);
    const diff = out.reduce((n, v, j) => n + (v !== want[j] ? 1 : 0), 0);
    assert.is(diff, 0, `angle ${a}: ${diff} pixels differ`);
  });
});

test.run();
