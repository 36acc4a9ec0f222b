// nn.LayerNorm: PyTorch's semantics (per sample over the trailing dims, biased variance,
// eps, elementwise affine) and its closed-form input VJP, used for double backward.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { grad, noGrad, randn } from '../../src/engine/index.js';
import { LayerNorm } from '../../src/nn/index.js';
import { randt } from '../engine/gradcheck.js'; // also selects the ts backend (reference kernels)

test('LayerNorm: per sample over [C, H, W], biased variance, eps 1e-5, elementwise affine', () => {
  const ln = new LayerNorm([2, 3, 3]);
  ln.weight.data.set(randt([18], 5, false).data);
  ln.bias.data.set(randt([18], 6, false).data);
  const x = randt([2, 2, 3, 3], 7, false, 3, 1);
  const y = noGrad(() => ln.forward(x));
  for (let b = 0; b < 2; b++) {
    const v = Array.from(x.data.subarray(b * 18, (b + 1) * 18));
    const m = v.reduce((a, c) => a + c, 0) / 18;
    const variance = v.reduce((a, c) => a + (c - m) ** 2, 0) / 18;
    v.forEach((xi, i) => {
      const e = ((xi - m) / Math.sqrt(variance + 1e-5)) * ln.weight.data[i] + ln.bias.data[i];
      assert.ok(Math.abs(y.data[b * 18 + i] - e) < 1e-5, `${y.data[b * 18 + i]} vs ${e}`);
    });
  }
  // Its closed-form input VJP equals autograd's.
  const xg = randt([2, 2, 3, 3], 8, true);
  const g = randt([2, 2, 3, 3], 9, false);
  const [auto] = grad(ln.forward(xg), [xg], g);
  const mine = noGrad(() => ln.inputVjp(g, ln.normalize(xg)));
  auto.data.forEach((v, i) => assert.ok(Math.abs(v - mine.data[i]) < 1e-5, `element ${i}: ${mine.data[i]} vs ${v}`));
  assert.throws(() => ln.forward(randn([2, 3, 3, 3])), /does not end in \[2, 3, 3\]/);
});

test('LayerNorm: bad shapes and eps are refused', () => {
  assert.throws(() => new LayerNorm([]), /normalizedShape must be positive integers/);
  assert.throws(() => new LayerNorm([2, 0]), /normalizedShape must be positive integers/);
  assert.throws(() => new LayerNorm([2], 0), /eps must be positive/);
});

test.run();
