// The unified AE's per-step training-loss curve against PyTorch: from PyTorch's seeded
// state dict (test/fixtures/torch/unified-ae.safetensors, init/*), ten Adam steps (lr 1e-3,
// train mode) on the fixture batch with the reconstruction trainer's own optimiser and
// step (adam, singleLossStep), compared with the curve scripts/make-torch-fixtures.py
// recorded (index.json unified_ae.lossCurve).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { square, sub, tensor } from '../../../src/engine/index.js';
import type { StateValue } from '../../../src/nn/index.js';
import { UnifiedAE } from '../../../src/models/unified-ae.js';
import { adam, singleLossStep } from '../../../src/methods/training/trainer.js';
import { eachBackend } from '../../nn/helpers/backends.js';
import { fixture, index, rawTensors } from '../../nn/helpers/fixtures.js';

const fx = index.unified_ae as typeof index.unified_ae & { lossCurve: number[] };

function pytorchInitialised(): UnifiedAE {
  const state = new Map<string, StateValue>();
  for (const key of rawTensors(fx.file).keys()) if (key.startsWith('init/')) state.set(key.slice(5), fixture(fx.file, key));
  const ae = new UnifiedAE({ ...fx.config, seed: 7 });
  ae.loadStateDict(state);
  return ae;
}

test('the fixture holds a decreasing ten-step curve', () => {
  assert.is(fx.lossCurve.length, 10);
  assert.ok(fx.lossCurve[9]! < fx.lossCurve[0]!);
});

eachBackend(test, 'ten training steps follow PyTorch loss curve', () => {
  const ae = pytorchInitialised().train();
  const xs = fixture(fx.file, 'x');
  const x = tensor(xs.data, xs.shape);
  const optimizer = adam(ae.parameters(), 1e-3);
  const ours: number[] = [];
  for (let i = 0; i < fx.lossCurve.length; i++) {
    ours.push(singleLossStep(optimizer, () => square(sub(x, ae.forward(x))).mean()).loss);
  }
  // Float32 sums in a different order drift a little more each step; 1e-3 relative after
  // ten steps still separates a wrong step (a missed bias correction moves step 2 by ~30 %).
  ours.forEach((l, i) => {
    const ref = fx.lossCurve[i]!;
    const rel = Math.abs(l - ref) / ref;
    assert.ok(rel < 1e-3, `step ${i + 1}: loss ${l} vs PyTorch ${ref} (relative difference ${rel.toExponential(2)})`);
  });
});

test.run();
