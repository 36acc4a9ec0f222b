import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, type Tensor } from '../../src/engine/index.js';
import { Adam, CosineAnnealingLR, CosineAnnealingWarmRestarts, SGD, type AdamOptions, type SgdOptions } from '../../src/nn/optim/index.js';
import { loadOptimizerStateFile, saveOptimizerState } from '../../src/nn/safetensors.js';
import { eachBackend } from './helpers/backends.js';
import { assertClose } from './helpers/compare.js';
import { fixture, index } from './helpers/fixtures.js';
import { throwsMatching } from '../assert-throws.js';

const dir = mkdtempSync(join(tmpdir(), 'medianomaly-optim-'));

// ---- the algorithms written out by hand, in float64, from PyTorch's documentation ----

function handAdam(p0: number[], grads: number[][], o: AdamOptions): number[][] {
  const p = p0.slice();
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const vmax = p.map(() => 0);
  const out: number[][] = [];
  grads.forEach((gr, t0) => {
    const t = t0 + 1;
    for (let i = 0; i < p.length; i++) {
      const g = gr[i] + o.weightDecay * p[i];
      m[i] = o.betas[0] * m[i] + (1 - o.betas[0]) * g;
      v[i] = o.betas[1] * v[i] + (1 - o.betas[1]) * g * g;
      vmax[i] = Math.max(vmax[i], v[i]);
      const mHat = m[i] / (1 - o.betas[0] ** t);
      const vHat = (o.amsgrad ? vmax[i] : v[i]) / (1 - o.betas[1] ** t);
      p[i] -= (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
    }
    out.push(p.slice());
  });
  return out;
}

function handSgd(p0: number[], grads: number[][], o: SgdOptions): number[][] {
  const p = p0.slice();
  let buf: number[] | null = null;
  const out: number[][] = [];
  for (const gr of grads) {
    const d = gr.map((g, i) => g + o.weightDecay * p[i]);
    let step = d;
    if (o.momentum) {
      buf = buf ? buf.map((b, i) => o.momentum * b + (1 - o.dampening) * d[i]) : d.slice();
      step = o.nesterov ? d.map((x, i) => x + o.momentum * buf![i]) : buf;
    }
    for (let i = 0; i < p.length; i++) p[i] -= o.lr * step[i];
    out.push(p.slice());
  }
  return out;
}

const P0 = [1, -0.5, 0.25, 2, -3];
const GRADS = [
  [0.5, -1, 0.001, 2, 0],
  [-1, 0.5, 0.002, -2, 0.3],
  [0.25, 0.25, -0.004, 1, -0.1],
  [2, -0.1, 0.001, 0.5, 0.2],
];

function run(make: (p: Tensor) => { step(): void }, grads: number[][]): number[][] {
  const p = tensor(P0, [P0.length], { requiresGrad: true });
  const opt = make(p);
  return grads.map((g) => {
    p.grad = tensor(g);
    opt.step();
    return p.toArray();
  });
}

function closeRows(actual: number[][], expected: number[][], what: string, atol = 2e-6): void {
  actual.forEach((row, t) => assertClose(row, expected[t], `${what} step ${t + 1}`, { rtol: 1e-5, atol }));
}

eachBackend(test, 'Adam matches the hand computation (plain, weight decay, amsgrad)', () => {
  const configs: AdamOptions[] = [
    { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false },
    { lr: 0.05, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1, amsgrad: false },
    { lr: 0.05, betas: [0.5, 0.9], eps: 1e-8, weightDecay: 0.01, amsgrad: true },
  ];
  for (const c of configs) closeRows(run((p) => new Adam([p], c), GRADS), handAdam(P0, GRADS, c), `Adam ${JSON.stringify(c)}`);
  // First step by hand: m̂ = g, v̂ = g², so θ₁ = θ₀ − lr·g/(|g| + eps).
  const first = run((p) => new Adam([p], { lr: 0.1 }), [GRADS[0]])[0];
  assert.ok(Math.abs(first[0] - 0.9) < 1e-6 && Math.abs(first[1] - -0.4) < 1e-6 && first[4] === -3);
});

eachBackend(test, 'SGD matches the hand computation (plain, momentum/dampening, Nesterov)', () => {
  const configs: SgdOptions[] = [
    { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
    { lr: 0.1, momentum: 0.9, dampening: 0.2, weightDecay: 0.05, nesterov: false },
    { lr: 0.05, momentum: 0.8, dampening: 0, weightDecay: 0.01, nesterov: true },
  ];
  for (const c of configs) closeRows(run((p) => new SGD([p], c), GRADS), handSgd(P0, GRADS, c), `SGD ${JSON.stringify(c)}`);
  assert.equal(run((p) => new SGD([p], { lr: 0.5 }), [[2, 0, 0, 0, 0]])[0], [0, -0.5, 0.25, 2, -3]);
});

eachBackend(test, 'Adam and SGD follow PyTorch trajectories (fixtures)', () => {
  const o = index.optim;
  const p0 = fixture(o.file, o.p0);
  const grads = o.grads.map((k) => fixture(o.file, k).data);
  for (const c of o.cases) {
    const p = tensor(p0.data, p0.shape, { requiresGrad: true });
    const a = c.args;
    const opt =
      c.optimizer === 'Adam'
        ? new Adam([p], { lr: a.lr, betas: a.betas, eps: a.eps, weightDecay: a.weight_decay, amsgrad: a.amsgrad })
        : new SGD([p], { lr: a.lr, momentum: a.momentum, dampening: a.dampening, weightDecay: a.weight_decay, nesterov: a.nesterov });
    grads.forEach((g, t) => {
      p.grad = tensor(g, p0.shape);
      opt.step();
      assertClose(p.data, fixture(o.file, c.tensors[`p${t + 1}`]).data, `${c.name} step ${t + 1}`, { rtol: 1e-5, atol: 1e-6 });
    });
  }
});

test('parameters without a gradient are left alone; groups carry their own options', () => {
  const a = tensor([1, 2], [2], { requiresGrad: true });
  const b = tensor([3], [1], { requiresGrad: true });
  const opt = new SGD([{ params: [a] }, { params: [b], lr: 1 }], { lr: 0.1 });
  a.grad = tensor([1, 1]);
  b.grad = tensor([1]);
  opt.step();
  assertClose(a.data, [0.9, 1.9], 'group 0 (default lr)');
  assertClose(b.data, [2], 'group 1 (own lr)');
  opt.zeroGrad();
  assert.is(a.grad, null);
  opt.step();
  assertClose(a.data, [0.9, 1.9], 'no gradient, no update');
});

test('optimizer state round trip (in memory and through a file) resumes exactly', () => {
  const steps = (opt: Adam | SGD, p: Tensor, gs: number[][]) =>
    gs.forEach((g) => {
      p.grad = tensor(g);
      opt.step();
    });
  for (const make of [(p: Tensor) => new Adam([p], { lr: 0.01, amsgrad: true, weightDecay: 0.01 }), (p: Tensor) => new SGD([p], { lr: 0.1, momentum: 0.9 })]) {
    const p = tensor(P0, [5], { requiresGrad: true });
    const opt = make(p);
    steps(opt, p, GRADS.slice(0, 2));
    const snapshot = opt.stateDict();
    const path = join(dir, `${opt.constructor.name}.safetensors`);
    saveOptimizerState(opt, path);
    const mid = p.toArray();
    steps(opt, p, GRADS.slice(2));
    const end = p.toArray();

    for (const restore of [(o: Adam | SGD) => (o as { loadStateDict(sd: typeof snapshot): void }).loadStateDict(snapshot), (o: Adam | SGD) => loadOptimizerStateFile(o, path)]) {
      const q = tensor(mid, [5], { requiresGrad: true });
      const resumed = make(q);
      restore(resumed);
      steps(resumed, q, GRADS.slice(2));
      assert.equal(q.toArray(), end, `${opt.constructor.name} resumed`);
    }
  }
  // The snapshot is a copy: stepping on does not change it.
  const p = tensor([1], [1], { requiresGrad: true });
  const opt = new Adam([p]);
  p.grad = tensor([1]);
  opt.step();
  const sd = opt.stateDict();
  opt.step();
  assert.is(sd.state[0].step, 1);
});

test('loading a mismatched optimizer state fails clearly', () => {
  const p = tensor([1, 2], [2], { requiresGrad: true });
  const adam = new Adam([p]);
  p.grad = tensor([1, 1]);
  adam.step();
  const sd = adam.stateDict();
  throwsMatching(() => new Adam([tensor([1, 2, 3], [3], { requiresGrad: true })]).loadStateDict(sd), /exp_avg/, /3/);
  throwsMatching(() => new Adam([p, tensor([1])]).loadStateDict(sd), /group 0 has 1 parameters in the state, 2 here/);
  const path = join(dir, 'adam.safetensors');
  saveOptimizerState(adam, path);
  throwsMatching(() => loadOptimizerStateFile(new SGD([p], { lr: 1 }), path), /adam\.safetensors/, /written by Adam/);
});

test('option validation names the option', () => {
  const p = tensor([1], [1], { requiresGrad: true });
  throwsMatching(() => new Adam([p], { lr: -1 }), /lr must be/);
  throwsMatching(() => new Adam([p], { betas: [0.9, 1] }), /betas/);
  throwsMatching(() => new SGD([p], { lr: 0.1, nesterov: true }), /nesterov needs momentum/);
  throwsMatching(() => new SGD([], { lr: 0.1 }), /empty parameter list/);
  throwsMatching(() => new SGD([p, p], { lr: 0.1 }) && new SGD([{ params: [p] }, { params: [p] }], { lr: 0.1 }), /more than one group/);
});

test('LR schedules match PyTorch (fixtures), incl. past T_max and warm restarts', () => {
  for (const s of index.optim.schedules) {
    const p = tensor([0], [1], { requiresGrad: true });
    const opt = new SGD([p], { lr: s.baseLr });
    const sched =
      s.scheduler === 'CosineAnnealingLR'
        ? new CosineAnnealingLR(opt, s.args.T_max, s.args.eta_min ?? 0)
        : new CosineAnnealingWarmRestarts(opt, s.args.T_0, s.args.T_mult ?? 1, s.args.eta_min ?? 0);
    const lrs = [opt.paramGroups[0].lr];
    for (let e = 1; e < s.lrs.length; e++) {
      sched.step();
      lrs.push(opt.paramGroups[0].lr);
    }
    assertClose(lrs, s.lrs, s.name, { rtol: 1e-9, atol: 1e-12 });
    assert.equal(sched.getLastLr(), [lrs[lrs.length - 1]]);
  }
});

test('scheduler state resumes; warm restarts accept fractional epochs', () => {
  const p = tensor([0], [1], { requiresGrad: true });
  const opt = new SGD([p], { lr: 1 });
  const a = new CosineAnnealingLR(opt, 10, 0.1);
  for (let i = 0; i < 4; i++) a.step();
  const sd = a.stateDict();
  const opt2 = new SGD([tensor([0], [1], { requiresGrad: true })], { lr: 1 });
  const b = new CosineAnnealingLR(opt2, 10, 0.1);
  b.loadStateDict(sd);
  a.step();
  b.step();
  assert.is(opt2.paramGroups[0].lr, opt.paramGroups[0].lr);
  const w = new CosineAnnealingWarmRestarts(new SGD([p], { lr: 1 }), 2, 2);
  w.stepTo(2.5); // half a step into the second cycle (length 4)
  assertClose(w.getLastLr(), [(1 + Math.cos(Math.PI * 0.125)) / 2], 'fractional epoch', { rtol: 1e-12, atol: 0 });
  throwsMatching(() => new CosineAnnealingLR(opt, 0), /tMax/);
});

test.run();
