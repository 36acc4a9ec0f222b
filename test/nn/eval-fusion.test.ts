// Eval-time BN + ReLU fusion in Sequential (src/nn/layers/eval-fusion.ts): the same bits as
// running the layers one by one, the caller's input untouched when the fusion writes in
// place, and gradients unchanged when a graph is recorded through an eval-mode network.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mseLoss, noGrad, randn, type Tensor } from '../../src/engine/index.js';
import { BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d, Linear, ReLU, Sequential, type Module } from '../../src/nn/index.js';
import { UnifiedAE } from '../../src/models/unified-ae.js';
import { eachBackend } from './helpers/backends.js';

/** The layers run one by one, never fused. */
function unfused(layers: Iterable<Module>, x: Tensor): Tensor {
  for (const l of layers) x = l.forward(x);
  return x;
}

function identical(a: Tensor, b: Tensor, what: string): void {
  assert.equal(a.shape, b.shape, `${what}: shape`);
  const [x, y] = [a.data, b.data];
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) assert.unreachable(`${what}: element ${i}: ${x[i]} vs ${y[i]}`);
}

/** Running statistics away from 0/1 so that the normalisation matters. */
function trainStats(m: Module, x: Tensor): void {
  m.train();
  noGrad(() => {
    for (let i = 0; i < 3; i++) m.forward(x);
  });
  m.eval();
}

eachBackend(test, 'conv/convT/linear + BN + ReLU: fused equals unfused bitwise; input untouched', () => {
  const seq = new Sequential(
    new BatchNorm2d(3), // first layer: its input is the caller's, so never in place
    new ReLU(),
    new Conv2d(3, 8, 4, { stride: 2, padding: 1, bias: false, seed: 1 }),
    new BatchNorm2d(8),
    new ReLU(),
    new ConvTranspose2d(8, 4, 4, { stride: 2, padding: 1, seed: 2 }),
    new BatchNorm2d(4),
    new ReLU(),
  );
  const x = randn([5, 3, 8, 8], { seed: 3 });
  trainStats(seq, x);
  const before = x.data.slice();
  const fused = noGrad(() => seq.forward(x));
  const plain = noGrad(() => unfused(seq, x));
  identical(fused, plain, 'conv stack');
  assert.ok(x.data.every((v, i) => Object.is(v, before[i])), 'the input was overwritten');

  const mlp = new Sequential(new Linear(12, 7, { seed: 4 }), new BatchNorm1d(7), new ReLU(), new Linear(7, 3, { seed: 5 }));
  const z = randn([6, 12], { seed: 6 });
  trainStats(mlp, z);
  identical(
    noGrad(() => mlp.forward(z)),
    noGrad(() => unfused(mlp, z)),
    'mlp',
  );
});

eachBackend(test, 'unified AE eval forward: fused equals unfused bitwise', () => {
  const ae = new UnifiedAE({ size: 32, hidden: 64, seed: 7 });
  const x = randn([4, 1, 32, 32], { seed: 8 });
  trainStats(ae, x);
  const fused = noGrad(() => ae.forward(x));
  const plain = noGrad(() => {
    const h = unfused(ae.encMlp, unfused(ae.enc, x).flatten(1));
    return unfused(ae.dec, unfused(ae.decMlp, h).reshape([-1, ae.fmChannels, ae.fm, ae.fm]));
  });
  identical(fused, plain, 'unified AE');
});

eachBackend(test, 'eval mode with a graph: BN + ReLU stay differentiable, same gradients', () => {
  const make = () => new Sequential(new Conv2d(2, 4, 3, { padding: 1, seed: 9 }), new BatchNorm2d(4), new ReLU());
  const x = randn([3, 2, 6, 6], { seed: 10 });
  const target = randn([3, 4, 6, 6], { seed: 11 });
  const a = make();
  const b = make();
  trainStats(a, x);
  trainStats(b, x);
  mseLoss(a.forward(x), target).backward();
  mseLoss(unfused(b, x), target).backward();
  const [pa, pb] = [a.parameters(), b.parameters()];
  pa.forEach((p, i) => {
    assert.ok(p.grad, `parameter ${i} has a gradient`);
    identical(p.grad!, pb[i].grad!, `gradient ${i}`);
  });
});

test.run();
