// The unified AE against PyTorch (test/fixtures/torch/unified-ae.safetensors): PyTorch's
// seeded state dict loaded through loadStateDict, one training step on a fixed batch
// (forward, MSE loss, every parameter gradient, Adam lr 1e-3, running statistics), and the
// eval-mode output of the stepped model.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mseLoss, tensor } from '../../src/engine/index.js';
import { Adam, type StateValue } from '../../src/nn/index.js';
import { UnifiedAE } from '../../src/models/unified-ae.js';
import { eachBackend } from './helpers/backends.js';
import { assertClose, maxAbs } from './helpers/compare.js';
import { fixture, index, rawTensors } from './helpers/fixtures.js';

const fx = index.unified_ae;
const get = (key: string) => fixture(fx.file, key);

/** The fixture's tensors under `prefix/` as a state dict (PyTorch's names). */
function stateWithPrefix(prefix: string): Map<string, StateValue> {
  const out = new Map<string, StateValue>();
  for (const key of rawTensors(fx.file).keys()) if (key.startsWith(prefix + '/')) out.set(key.slice(prefix.length + 1), get(key));
  return out;
}

function loadedModel(): UnifiedAE {
  const ae = new UnifiedAE({ ...fx.config, seed: 99 });
  ae.loadStateDict(stateWithPrefix('init')); // strict: every PyTorch key must map onto ours
  return ae;
}

/**
 * Three biases have a gradient that is exactly zero in exact arithmetic, because a
 * training-mode BatchNorm1d subtracts the batch mean of anything constant over the batch:
 * enc_mlp.0 and dec_mlp.0 feed a BN directly, and z's bias (enc_mlp.3) reaches dec_mlp.1's BN
 * through a linear map. Both PyTorch and we get rounding noise there, so those are checked for being ~0, not against each other, and
 * Adam (which normalises the noise) moves them by ±lr in an arbitrary direction.
 */
const ZERO_GRAD = ['enc_mlp.0.bias', 'enc_mlp.3.bias', 'dec_mlp.0.bias'];

/** Tolerance relative to the tensor's scale: float32 sums over ~10³ terms, 13 layers deep. */
const scaled = (ref: ArrayLike<number>, rel: number) => ({ rtol: rel, atol: rel * maxAbs(ref) });

eachBackend(test, 'forward, MSE loss and every parameter gradient match PyTorch', () => {
  const ae = loadedModel().train();
  const x = get('x');
  const input = tensor(x.data, x.shape);
  const out = ae.forward(input);
  assertClose(out.data, get('out').data, 'train-mode output', scaled(get('out').data, 1e-4));
  const loss = mseLoss(out, input);
  assertClose([loss.item()], get('loss').data, 'loss', { rtol: 1e-5, atol: 0 });
  loss.backward();
  for (const [name, p] of ae.namedParameters()) {
    const ref = get('grad/' + name).data;
    if (ZERO_GRAD.includes(name)) {
      assert.ok(maxAbs(p.grad!.data) < 1e-6 && maxAbs(ref) < 1e-6, `gradient of ${name} is rounding noise around 0`);
      continue;
    }
    assertClose(p.grad!.data, ref, `gradient of ${name}`, scaled(ref, 1e-4));
  }
  // The forward in training mode moved the running statistics exactly as PyTorch's did.
  for (const [name, b] of ae.namedBuffers()) {
    const ref = get('step/' + name).data;
    assertClose(b.data, ref, `buffer ${name}`, { rtol: 1e-4, atol: 1e-6 });
  }
});

/** Compares a parameter with its after-step fixture, which may hold every stride-th element only. */
function steppedValues(name: string, values: Float32Array): Float32Array {
  if (!fx.subsampled.keys.includes(name)) return values;
  const s = fx.subsampled.stride;
  return values.filter((_, i) => i % s === 0);
}

eachBackend(test, 'one Adam step from PyTorch gradients reproduces PyTorch parameters', () => {
  const ae = loadedModel();
  const opt = new Adam(ae.parameters(), { lr: fx.adam.lr, betas: fx.adam.betas, eps: fx.adam.eps });
  for (const [name, p] of ae.namedParameters()) {
    const g = get('grad/' + name);
    p.grad = tensor(g.data, g.shape);
  }
  opt.step();
  for (const [name, p] of ae.namedParameters()) {
    assertClose(steppedValues(name, p.data), get('step/' + name).data, `${name} after the step`, { rtol: 1e-6, atol: 1e-7 });
  }
});

eachBackend(test, 'a full training step (own gradients) lands on PyTorch parameters; eval output matches', () => {
  const ae = loadedModel().train();
  const opt = new Adam(ae.parameters(), { lr: fx.adam.lr });
  const x = get('x');
  const input = tensor(x.data, x.shape);
  opt.zeroGrad();
  mseLoss(ae.forward(input), input).backward();
  opt.step();
  // Adam's first step moves every weight by lr·g/(|g| + eps) ≈ ±lr: only weights whose
  // gradient is within rounding of zero may go the other way, and they must be rare.
  let total = 0;
  let off = 0;
  for (const [name, p] of ae.namedParameters()) {
    const mine = steppedValues(name, p.data);
    const ref = get('step/' + name).data;
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(mine[i] - ref[i]);
      assert.ok(d <= 2.0001 * fx.adam.lr, `${name}[${i}] moved by ${d}, more than 2·lr`);
      if (d > 1e-5 && !ZERO_GRAD.includes(name)) off++;
    }
    if (!ZERO_GRAD.includes(name)) total += ref.length;
  }
  assert.ok(off / total < 1e-4, `${off} of ${total} weights differ from PyTorch by more than 1e-5`);

  // Eval mode uses the running statistics the step left behind.
  ae.eval();
  // Load PyTorch's exact stepped values, except the two stored subsampled, which keep ours.
  const stepped = stateWithPrefix('step');
  for (const name of fx.subsampled.keys) stepped.delete(name);
  const res = ae.loadStateDict(stepped, { strict: false });
  assert.equal(res.missingKeys, fx.subsampled.keys);
  assert.equal(res.unexpectedKeys, []);
  const evalOut = ae.forward(input);
  assertClose(evalOut.data, get('eval_out').data, 'eval-mode output', scaled(get('eval_out').data, 1e-4));
});

test.run();
