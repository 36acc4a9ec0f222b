// scaledDotProductAttention: finite-difference gradients on the ts kernels, and the PyTorch
// fixture (scripts/make-diffusion-fixtures.py: softmax(q kᵀ/√d) v and the gradients of
// Σ g ⊙ out) on the ts backend and the default one (the native kernels when built).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backends, grad, noGrad, scaledDotProductAttention, setBackend, Tensor } from '../../src/engine/index.js';
import { readSafetensors, toFloat32 } from '../../src/nn/safetensors-format.js';
import { gradcheck, randt } from './gradcheck.js';
import { near } from '../native/helpers.js';

const raw = readSafetensors(new URL('../fixtures/diffusion/diffusion.safetensors', import.meta.url).pathname).tensors;
const fxt = (key: string, requiresGrad = false) => {
  const r = raw.get(key);
  if (!r) throw new Error(`diffusion fixture has no ${key}`);
  const t = Tensor.fromData(toFloat32(r).slice(), r.shape);
  t.requiresGrad = requiresGrad;
  return t;
};
const cpuReason = backends().find((b) => b.name === 'cpu')?.reason ?? null;

test('gradients match finite differences (ts; odd L and d, batch 1 and 2, lq ≠ lk)', () => {
  setBackend('ts');
  gradcheck((q, k, v) => scaledDotProductAttention(q, k, v), [randt([1, 5, 3], 1), randt([1, 5, 3], 2), randt([1, 5, 3], 3)]);
  gradcheck((q, k, v) => scaledDotProductAttention(q, k, v), [randt([2, 3, 4], 4), randt([2, 7, 4], 5), randt([2, 7, 5], 6)]);
});

for (const backend of ['ts', 'cpu']) {
  (backend === 'cpu' && cpuReason ? test.skip : test)(`PyTorch fixture: forward and gradients (${backend})`, () => {
    setBackend(backend);
    try {
      for (const name of ['attn', 'attn2']) {
        const q = fxt(`${name}.q`, true), k = fxt(`${name}.k`, true), v = fxt(`${name}.v`, true);
        const out = scaledDotProductAttention(q, k, v);
        near(out.data, fxt(`${name}.out`).data, 2e-6, `${name} out`);
        const [dq, dk, dv] = grad(out, [q, k, v], fxt(`${name}.g`));
        near(dq.data, fxt(`${name}.dq`).data, 1e-5, `${name} dq`);
        near(dk.data, fxt(`${name}.dk`).data, 1e-5, `${name} dk`);
        near(dv.data, fxt(`${name}.dv`).data, 2e-6, `${name} dv`);
      }
    } finally {
      setBackend('ts');
    }
  });
}

test('without recorded gradients (reused weight buffer): the same outputs, across sizes', () => {
  setBackend('ts');
  const big = [randt([2, 9, 4], 20, false), randt([2, 9, 4], 21, false), randt([2, 9, 3], 22, false)];
  const small = [randt([1, 3, 2], 23, false), randt([1, 5, 2], 24, false), randt([1, 5, 2], 25, false)];
  const ref = [big, small].map(([q, k, v]) => {
    const [qq, kk, vv] = [q, k, v].map((t) => {
      const c = Tensor.fromData(t.data.slice(), t.shape);
      c.requiresGrad = true;
      return c;
    });
    return scaledDotProductAttention(qq, kk, vv);
  });
  const a = scaledDotProductAttention(big[0], big[1], big[2]);
  assert.is(a.gradFn, null);
  const b = noGrad(() => scaledDotProductAttention(small[0], small[1], small[2]));
  const c = scaledDotProductAttention(big[0], big[1], big[2]);
  assert.equal(Array.from(a.data), Array.from(ref[0].data));
  assert.equal(Array.from(b.data), Array.from(ref[1].data));
  assert.equal(Array.from(c.data), Array.from(ref[0].data));
});

test('refuses mismatched shapes', () => {
  setBackend('ts');
  const t = (s: number[]) => Tensor.empty(s);
  assert.throws(() => scaledDotProductAttention(t([2, 3]), t([2, 3]), t([2, 3])), /3-D/);
  assert.throws(() => scaledDotProductAttention(t([2, 3, 4]), t([2, 3, 5]), t([2, 3, 4])), /width/);
  assert.throws(() => scaledDotProductAttention(t([2, 3, 4]), t([2, 3, 4]), t([2, 5, 4])), /keys/);
  assert.throws(() => scaledDotProductAttention(t([2, 3, 4]), t([1, 3, 4]), t([2, 3, 4])), /batch/);
  assert.throws(() => scaledDotProductAttention(t([2, 3, 4]), t([2, 0, 4]), t([2, 0, 4])), /no keys/);
});

test.run();
