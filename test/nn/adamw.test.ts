// AdamW against torch.optim.AdamW trajectories (scripts/make-recontrast-fixtures.py, entry
// `adamw`) and against the algorithm written out by hand: decoupled decay θ·(1 − lr·wd)
// before the plain Adam step; a parameter without a gradient is not decayed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tensor } from '../../src/engine/index.js';
import { AdamW, type AdamOptions } from '../../src/nn/optim/index.js';
import { eachBackend } from './helpers/backends.js';

const fx = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'recontrast', 'recontrast.json'), 'utf8')).adamw as {
  p0: number[];
  grads: number[][];
  cases: { name: string; args: { lr?: number; betas?: [number, number]; eps?: number; weight_decay?: number; amsgrad?: boolean }; trajectory: number[][] }[];
};

function runAdamW(o: Partial<AdamOptions>, p0: number[], grads: number[][]): number[][] {
  const p = tensor(p0, [p0.length], { requiresGrad: true });
  const opt = new AdamW([p], o);
  return grads.map((g) => {
    p.grad = tensor(g);
    opt.step();
    return p.toArray() as number[];
  });
}

eachBackend(test, 'AdamW follows torch.optim.AdamW (defaults, ReContrast settings, strong decay with AMSGrad)', () => {
  for (const c of fx.cases) {
    const a = c.args;
    const got = runAdamW({ lr: a.lr, betas: a.betas, eps: a.eps, weightDecay: a.weight_decay, amsgrad: a.amsgrad }, fx.p0, fx.grads);
    got.forEach((row, t) =>
      row.forEach((v, i) => {
        const ref = c.trajectory[t][i];
        assert.ok(Math.abs(v - ref) <= 1e-6 * Math.max(1, Math.abs(ref)), `${c.name} step ${t + 1} [${i}]: ${v} vs ${ref}`);
      }),
    );
  }
});

test('AdamW: defaults are PyTorch’s (weight decay 1e-2); decay is decoupled from the moments; no gradient, no decay', () => {
  const p = tensor([2, -4], [2], { requiresGrad: true });
  const q = tensor([3], [1], { requiresGrad: true });
  const opt = new AdamW([p, q], { lr: 0.1 });
  assert.is(opt.paramGroups[0].weightDecay, 1e-2);
  p.grad = tensor([0.5, -0.5]);
  opt.step();
  // θ·(1 − 0.1·0.01) − 0.1·sign(g) on the first step (m̂/√v̂ = ±1 up to ε)
  assert.ok(Math.abs(p.data[0] - (2 * 0.999 - 0.1)) < 1e-6 && Math.abs(p.data[1] - (-4 * 0.999 + 0.1)) < 1e-6, `${Array.from(p.data)}`);
  assert.is(q.data[0], 3);
  // The moments see the raw gradient: a zero gradient gives a step of decay alone after the first.
  const r = tensor([1], [1], { requiresGrad: true });
  const o2 = new AdamW([r], { lr: 0.5, weightDecay: 0.2 });
  r.grad = tensor([0]);
  o2.step();
  assert.ok(Math.abs(r.data[0] - 0.9) < 1e-7, `${r.data[0]}`);
});

test.run();
