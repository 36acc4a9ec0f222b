// The parts of RD++: the multi-projection layer (parameter counts, official names, instance
// norm), the Sinkhorn divergence against a restatement of geomloss 0.2.6 in PyTorch
// (scripts/make-rdpp-fixtures.py; values and gradients) and its zero on a set against its own
// permutation, the optimiser that checkpoints pending gradients, the simplex-noise pseudo-
// anomalies (draw ranges, the fixed-field crop, no clipping, grey input, a fresh field per
// image) and the contrast term where it is active.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Generator, randn, softmax, Tensor } from '../../../src/engine/index.js';
import { MultiProjectionLayer } from '../../../src/models/multi-projection.js';
import { rdChannels } from '../../../src/models/reverse-distillation.js';
import { GroupNorm } from '../../../src/nn/layers/norm.js';
import { Conv2d } from '../../../src/nn/layers/conv.js';
import { epsilonSchedule, RDPP_SINKHORN, sinkhornDivergence } from '../../../src/methods/feature-reconstruction/sinkhorn.js';
import { AccumulatingAdam, PENDING_GRAD } from '../../../src/methods/feature-reconstruction/grad-accumulation.js';
import { SimplexPseudoAnomalies, RDPP_PATCH_DEFAULTS, type PatchDraw } from '../../../src/methods/feature-reconstruction/rdpp-noise.js';
import { permuteRows, rdppLoss, RdppNetwork } from '../../../src/methods/feature-reconstruction/rdpp.js';
import { fractalNoise3, OpenSimplex } from '../../../src/anomalies/simplex-noise.js';
import { fixtureInput } from '../../models/backbones/fill.js';
import { fastestBackend } from '../helpers.js';

fastestBackend();
const close = (a: number, b: number, tol: number, what: string): void => assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${what}: ${a} vs ${b}`);
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/rdpp/${name}`, import.meta.url), 'utf8'));

test('multi-projection layer: 15,486,912 parameters for wide_resnet50_2, 968,688 for resnet18; official names; shape kept; instance norm per sample and channel', () => {
  const g = new Generator(0);
  const wide = new MultiProjectionLayer(rdChannels('wide_resnet50_2'), g);
  assert.is(wide.numParameters(), 15_486_912);
  const small = new MultiProjectionLayer(rdChannels('resnet18'), g);
  assert.is(small.numParameters(), fixture('rdpp.json').params.proj);
  assert.is(fixture('rdpp.json').params.projWide, 15_486_912);
  const names = [...small.stateDict().keys()];
  assert.equal(names, fixture('rdpp.json').state.proj.map((e: [string]) => e[0]));
  assert.equal(small.stateDict().get('proj_c.proj.3.weight')!.shape, [64, 128, 3, 3]);
  assert.equal(small.stateDict().get('proj_a.proj.9.bias')!.shape, [64]);
  const norms = small.modules().filter((m) => m instanceof GroupNorm) as GroupNorm[];
  assert.is(norms.length, 12);
  for (const n of norms) assert.ok(n.numGroups === n.numChannels && n.weight === null && n.eps === 1e-5);
  // PyTorch's default init on the convolutions: |w| ≤ 1/√fan_in.
  const conv = small.proj_b.proj.at(3) as Conv2d;
  const bound = 1 / Math.sqrt(64 * 9);
  let mx = 0;
  for (const v of conv.weight.data) mx = Math.max(mx, Math.abs(v));
  assert.ok(mx <= bound && mx > 0.95 * bound, `${mx} vs ${bound}`);
  const e = [randn([2, 64, 8, 8], { generator: g }), randn([2, 128, 4, 4], { generator: g }), randn([2, 256, 2, 2], { generator: g })] as [Tensor, Tensor, Tensor];
  const p = small.forward(e);
  assert.equal(p.map((t) => t.shape), e.map((t) => t.shape));
  // Before the last LeakyReLU each (sample, channel) is normalised: undo the slope and check the mean.
  const pre = small.proj_a.proj.at(10).forward(small.proj_a.proj.at(9).forward(small.proj_a.proj.at(8).forward(small.proj_a.proj.at(7).forward(small.proj_a.proj.at(6).forward(small.proj_a.proj.at(5).forward(small.proj_a.proj.at(4).forward(small.proj_a.proj.at(3).forward(small.proj_a.proj.at(2).forward(small.proj_a.proj.at(1).forward(small.proj_a.proj.at(0).forward(e[0])))))))))));
  for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let i = 0; i < 64; i++) s += pre.data[(1 * 64 + c) * 64 + i];
    assert.ok(Math.abs(s / 64) < 1e-5, `channel ${c} mean ${s / 64}`);
  }
  assert.throws(() => new MultiProjectionLayer([64, 128, 258] as [number, number, number], g), /multiple of 4/);
});

test('Sinkhorn divergence: value and gradients of the geomloss restatement in 5 settings (RD++ settings, auto diameter, no debias, 200 dims)', () => {
  const fx = fixture('sinkhorn.json');
  const clouds: Record<string, [Float32Array, number[], Float32Array, number[]]> = {
    small: [fixtureInput(1200, 4, 15), [5, 3], Float32Array.from(fixtureInput(1201, 3, 21), (v) => v + 0.5), [7, 3]],
    wide: [fixtureInput(1202, 1, 1200), [6, 200], fixtureInput(1203, 0.5, 800), [4, 200]],
  };
  for (const c of fx.cases) {
    const [xd, xs, yd, ys] = clouds[c.clouds];
    const x = Tensor.fromData(xd.slice(), xs).requiresGrad_(true);
    const y = Tensor.fromData(yd.slice(), ys).requiresGrad_(true);
    const s = sinkhornDivergence(x, y, c.options);
    s.backward();
    const what = `${c.clouds} ${JSON.stringify(c.options)}`;
    let scale = 0;
    for (const v of [...c.gradX64, ...c.gradY64]) scale = Math.max(scale, Math.abs(v));
    // Our loop runs in float64 on float32 costs: close to geomloss in float64; geomloss in float32
    // (RD++'s case) drifts by up to ~2e-4 of the gradients' scale over the 375 steps of blur 0.05.
    for (const [suffix, tol] of [['64', 2e-6], ['', 5e-4]] as const) {
      close(s.item(), c['value' + suffix], tol, `${what} value${suffix}`);
      const gx: number[] = c['gradX' + suffix];
      const gy: number[] = c['gradY' + suffix];
      gx.forEach((v, i) => assert.ok(Math.abs(x.grad!.data[i] - v) <= tol * scale, `${what} gradX${suffix}[${i}] ${x.grad!.data[i]} vs ${v}`));
      gy.forEach((v, i) => assert.ok(Math.abs(y.grad!.data[i] - v) <= tol * scale, `${what} gradY${suffix}[${i}] ${y.grad!.data[i]} vs ${v}`));
    }
  }
});

test('Sinkhorn: ε schedule (375 steps for RD++), a set against its own permutation gives ~0 and ~0 gradient (RD++ SSOT), bad options', () => {
  const eps = epsilonSchedule(1e7, 0.05, 0.95);
  assert.is(eps.length, 375);
  assert.is(eps[0], 1e14);
  assert.is(eps[eps.length - 1], 0.05 ** 2);
  close(eps[1], 1e14, 1e-12, 'exp(2 ln diameter)');
  close(eps[2] / eps[1], 0.95 ** 2, 1e-12, 'ratio');
  const g = new Generator(3);
  // Softmax rows of a batch of 6 maps of 512 values, as the SSOT term sees them.
  const logits = randn([6, 512], { generator: g });
  const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  // The scale: another batch of the same kind against this one (S ≈ 1.3e-3, |∇| ≈ 6e-3).
  const other = softmax(randn([6, 512], { generator: g }), 1).requiresGrad_(true);
  const ref = sinkhornDivergence(other, softmax(logits, 1), RDPP_SINKHORN);
  ref.backward();
  for (const perm of [[3, 0, 5, 1, 2, 4], [0, 1, 2, 3, 4, 5]]) {
    const x = softmax(logits, 1).detach().requiresGrad_(true);
    const s = sinkhornDivergence(x, permuteRows(x, perm), RDPP_SINKHORN);
    s.backward();
    assert.ok(Math.abs(s.item()) < 1e-6 * ref.item(), `S = ${s.item()} vs ${ref.item()} between different sets`);
    assert.ok(maxAbs(x.grad!.data) < 1e-6 * maxAbs(other.grad!.data), `|∇| = ${maxAbs(x.grad!.data)} vs ${maxAbs(other.grad!.data)}`);
  }
  // Different sets: positive.
  const a = randn([4, 8], { generator: g });
  const b = randn([5, 8], { generator: g }).add(1);
  assert.ok(sinkhornDivergence(a, b, { blur: 0.5 }).item() > 0.5);
  const t = randn([3, 4], { generator: g });
  assert.throws(() => sinkhornDivergence(t, randn([3, 5], { generator: g })), /dimensions differ/);
  assert.throws(() => sinkhornDivergence(t.reshape([12]), t), /point clouds/);
  assert.throws(() => sinkhornDivergence(t, t, { scaling: 1 }), /scaling must be in \(0, 1\)/);
  assert.throws(() => sinkhornDivergence(t, t, { blur: 0 }), /blur must be a positive number/);
  assert.throws(() => sinkhornDivergence(t, t, { diameter: -1 }), /diameter must be a positive number or null/);
});

test('AccumulatingAdam: pending gradients travel with the state dict; resuming then stepping equals stepping straight on', () => {
  const g = new Generator(4);
  const make = () => [randn([3, 2], { generator: new Generator(9) }).requiresGrad_(true), randn([4], { generator: new Generator(10) }).requiresGrad_(true)];
  const grads = Array.from({ length: 5 }, () => [randn([3, 2], { generator: g }), randn([4], { generator: g })]);
  const addGrads = (ps: Tensor[], gs: Tensor[]) => ps.forEach((p, i) => (p.grad = p.grad ? p.grad.add(gs[i]) : gs[i].clone()));
  // Straight: batches 0+1 step, 2+3 step, 4 pending, then 4+... (here: step after batch 4 alone).
  const straight = make();
  const o1 = new AccumulatingAdam(straight, { lr: 0.01, betas: [0.5, 0.999] });
  const run = (ps: Tensor[], o: AccumulatingAdam, from: number, to: number) => {
    for (let i = from; i < to; i++) {
      addGrads(ps, grads[i]);
      if (i % 2 === 1) {
        o.step();
        o.zeroGrad();
      }
    }
  };
  run(straight, o1, 0, 3); // one step, batch 2 pending
  const sd = o1.stateDict();
  assert.ok(sd.state[0][PENDING_GRAD] instanceof Float32Array && sd.state[1][PENDING_GRAD] instanceof Float32Array);
  const resumed = make();
  resumed.forEach((p, i) => p.data.set(straight[i].data));
  const o2 = new AccumulatingAdam(resumed, { lr: 0.01, betas: [0.5, 0.999] });
  o2.loadStateDict(sd);
  assert.equal(Array.from(resumed[0].grad!.data), Array.from(straight[0].grad!.data));
  assert.not.ok(PENDING_GRAD in o2.state.get(resumed[0])!);
  run(straight, o1, 3, 5);
  run(resumed, o2, 3, 5);
  resumed.forEach((p, i) => assert.equal(Array.from(p.data), Array.from(straight[i].data)));
  // A pending gradient before any step: a state entry with only the gradient, and none after loading.
  const fresh = make();
  const o3 = new AccumulatingAdam(fresh, { lr: 0.01 });
  addGrads(fresh, grads[0]);
  const sd3 = o3.stateDict();
  const o4 = new AccumulatingAdam(make(), { lr: 0.01 });
  o4.loadStateDict(sd3);
  assert.is(o4.state.size, 0);
  // No pending gradient: loading clears `.grad`.
  const p5 = make();
  p5[0].grad = grads[1][0].clone();
  const o5 = new AccumulatingAdam(p5, { lr: 0.01 });
  o5.loadStateDict(new AccumulatingAdam(make(), { lr: 0.01 }).stateDict());
  assert.is(p5[0].grad, null);
});

test('pseudo-anomalies: draws in [10, 31] and [1, S − side − 1] (both ends reached); fixed field = crop of one field; no clipping; grey → 3 channels; fresh fields differ', () => {
  const S = 64;
  const gen = new SimplexPseudoAnomalies(S, RDPP_PATCH_DEFAULTS, 111n);
  const g = new Generator(5);
  const seen = { hmin: 99, hmax: 0, tmin: 99, tmaxGap: 99 };
  for (let i = 0; i < 3000; i++) {
    const d = gen.draw(g);
    for (const [side, at] of [[d.height, d.top], [d.width, d.left]]) {
      assert.ok(side >= 10 && side <= 31 && at >= 1 && at <= S - side - 1, JSON.stringify(d));
      seen.hmin = Math.min(seen.hmin, side);
      seen.hmax = Math.max(seen.hmax, side);
      seen.tmin = Math.min(seen.tmin, at);
      seen.tmaxGap = Math.min(seen.tmaxGap, S - side - 1 - at);
    }
    assert.is(d.seed, null);
  }
  assert.equal(seen, { hmin: 10, hmax: 31, tmin: 1, tmaxGap: 0 });
  // The fixed field: every patch's noise is the top-left crop of fractalNoise3(seed) on [3, 31, 31].
  const field = fractalNoise3(new OpenSimplex(111n), [3, 31, 31]);
  const d: PatchDraw = { height: 12, width: 20, top: 5, left: 30, seed: null };
  const n = gen.noise(d);
  for (let c = 0; c < 3; c++) for (let i = 0; i < 12; i++) for (let j = 0; j < 20; j++) assert.is(n[(c * 12 + i) * 20 + j], field[(c * 31 + i) * 31 + j]);
  // Grey images at the top of the range: the patch exceeds 1 (no clipping), outside it nothing changes.
  const x = Tensor.fromData(new Float32Array(2 * S * S).fill(1), [2, 1, S, S]);
  const draws: PatchDraw[] = [d, { height: 31, width: 31, top: 32, left: 1, seed: null }];
  const y = gen.applyDraws(x, draws);
  assert.equal(y.shape, [2, 3, S, S]);
  let above = 0;
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) {
        const v = y.data[(0 * 3 + c) * S * S + i * S + j];
        const inside = i >= 5 && i < 17 && j >= 30 && j < 50;
        if (!inside) assert.is(v, 1);
        else assert.is(v, Math.fround(1 + 0.4 * field[(c * 31 + i - 5) * 31 + j - 30]));
        if (v > 1) above++;
      }
    }
  }
  assert.ok(above > 100, `${above} values above 1`);
  // Fresh fields: a seed per image, different textures for the same rectangle.
  const fresh = new SimplexPseudoAnomalies(S, { ...RDPP_PATCH_DEFAULTS, field: 'fresh' }, 111n);
  const a = fresh.draw(new Generator(6));
  const b = fresh.draw(new Generator(7));
  assert.ok(a.seed !== null && b.seed !== null && a.seed !== b.seed);
  const same = { height: 10, width: 10, top: 1, left: 1 };
  assert.not.equal(Array.from(fresh.noise({ ...same, seed: a.seed })), Array.from(fresh.noise({ ...same, seed: b.seed })));
  // Bad options name the option.
  assert.throws(() => new SimplexPseudoAnomalies(32, RDPP_PATCH_DEFAULTS, 1n), /noisePatchMax.*at most size − 2 = 30/);
  assert.throws(() => new SimplexPseudoAnomalies(64, { ...RDPP_PATCH_DEFAULTS, patchMin: 40 }, 1n), /noisePatchMax.*≥ noisePatchMin/);
  assert.throws(() => new SimplexPseudoAnomalies(64, { ...RDPP_PATCH_DEFAULTS, field: 'other' as 'fixed' }, 1n), /noiseField/);
  assert.throws(() => gen.applyDraws(x, [d]), /1 patches for 2 images/);
});

test('loss: the contrast term is mean_b max(0, cos − 0.5) per level — 1.5 when the noisy teacher maps are the projections themselves', () => {
  const g = new Generator(8);
  const net = new RdppNetwork('resnet18', g);
  net.train();
  const e = [randn([2, 64, 8, 8], { generator: g }).relu(), randn([2, 128, 4, 4], { generator: g }).relu(), randn([2, 256, 2, 2], { generator: g }).relu()] as [Tensor, Tensor, Tensor];
  const p = net.proj.forward(e).map((t) => t.detach()) as [Tensor, Tensor, Tensor];
  const t = rdppLoss(net, e, p, [1, 0], { projWeight: 0.2 });
  close(t.contrast.item(), 1.5, 1e-5, 'contrast');
  close(t.loss.item(), t.distill.item() + 0.2 * t.proj.item(), 1e-6, 'total');
  close(t.proj.item(), (t.ssot.item() + 0.01 * t.recon.item() + 0.1 * t.contrast.item()) / 1.11, 1e-6, 'proj');
  assert.throws(() => rdppLoss(net, e, p, [0], { projWeight: 0.2 }), /shuffle has 1 entries for a batch of 2/);
});

test.run();
