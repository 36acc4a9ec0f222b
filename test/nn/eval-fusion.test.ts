// Eval-time BN + ReLU fusion in Sequential (src/nn/layers/eval-fusion.ts): the same bits as
// running the layers one by one, the caller's input untouched when the fusion writes in
// place, and gradients unchanged when a graph is recorded through an eval-mode network.
// forwardLayers (the unified AE's encoder and decoder) also runs 4×4 stride-2 conv blocks
// with their BN and ReLU as conv2dEval under noGrad: within a float32 bound of the unfused
// layers, and following in-place changes of the weights and running statistics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mseLoss, noGrad, profile, randn, type Tensor } from '../../src/engine/index.js';
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

/** max|a − b| ≤ tol · max|b|. */
function close(a: Tensor, b: Tensor, tol: number, what: string): void {
  assert.equal(a.shape, b.shape, `${what}: shape`);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < b.size; i++) {
    scale = Math.max(scale, Math.abs(b.data[i]));
    worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]));
  }
  assert.ok(worst <= tol * scale, `${what}: max difference ${worst} > ${tol} × ${scale}`);
}

function unfusedAE(ae: UnifiedAE, x: Tensor): Tensor {
  const h = unfused(ae.encMlp, unfused(ae.enc, x).flatten(1));
  return unfused(ae.dec, unfused(ae.decMlp, h).reshape([-1, ae.fmChannels, ae.fm, ae.fm]));
}

/** Kernel calls per name while fn runs. */
function kernelCalls(fn: () => void): Map<string, number> {
  profile.reset();
  profile.enable();
  try {
    fn();
  } finally {
    profile.disable();
  }
  const calls = new Map(profile.report().map((r) => [r.kernel, r.calls]));
  profile.reset();
  return calls;
}

eachBackend(test, 'unified AE eval forward under noGrad: conv blocks as conv2dEval, close to the unfused layers', () => {
  const ae = new UnifiedAE({ size: 32, hidden: 64, seed: 7 });
  const x = randn([4, 1, 32, 32], { seed: 8 });
  trainStats(ae, x);
  let fused: Tensor | null = null;
  const calls = kernelCalls(() => {
    fused = noGrad(() => ae.forward(x));
  });
  // Blocks 2–4 of the encoder and all four of the decoder (the last one, 16 → 1 channel,
  // on conv2dEval's direct path); the 1-channel first layer stays on conv2d.
  assert.is(calls.get('conv2dEval'), 7, 'conv2dEval calls');
  assert.is(calls.get('conv2d'), 1, 'conv2d calls');
  assert.is(calls.get('conv2dBackwardInput'), undefined, 'convTranspose2d calls');
  // The four MLP linears (two with their BN1d + ReLU) as linearEval.
  assert.is(calls.get('linearEval'), 4, 'linearEval calls');
  assert.is(calls.get('gemm'), undefined, 'gemm calls');
  close(fused!, noGrad(() => unfusedAE(ae, x)), 1e-5, 'unified AE');
});

eachBackend(test, 'unified AE eval forward with a graph: no conv2dEval, the unfused bits', () => {
  const ae = new UnifiedAE({ size: 32, hidden: 64, seed: 7 });
  const x = randn([2, 1, 32, 32], { seed: 8 });
  trainStats(ae, x);
  let out: Tensor | null = null;
  const calls = kernelCalls(() => {
    out = ae.forward(x);
  });
  assert.is(calls.get('conv2dEval'), undefined, 'conv2dEval calls');
  assert.is(calls.get('linearEval'), undefined, 'linearEval calls');
  identical(out!, unfusedAE(ae, x), 'unified AE with grad enabled');
});

eachBackend(test, 'conv2dEval and linearEval follow in-place changes of the weights and the BN statistics', () => {
  const ae = new UnifiedAE({ size: 32, hidden: 64, seed: 7 });
  const x = randn([2, 1, 32, 32], { seed: 8 });
  trainStats(ae, x);
  noGrad(() => ae.forward(x)); // prepares (caches) the packed filters
  const conv = [...ae.enc][3] as Conv2d;
  const convT = [...ae.dec][0] as ConvTranspose2d;
  const lin = [...ae.encMlp][0] as Linear;
  for (const w of [conv.weight, convT.weight, lin.weight]) for (let i = 0; i < w.size; i += 3) w.data[i] *= -1.5;
  const bn = [...ae.enc][4] as BatchNorm2d;
  bn.runningMean!.data[0] += 0.5;
  bn.runningVar!.data[1] *= 3;
  close(
    noGrad(() => ae.forward(x)),
    noGrad(() => unfusedAE(ae, x)),
    1e-5,
    'after in-place changes',
  );
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
