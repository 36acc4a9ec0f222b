// clipGradNorm and ParameterEMA against PyTorch 1.13 (scripts/make-diffusion-fixtures.py):
// torch.nn.utils.clip_grad_norm_ with clipping (max_norm 1) and without (max_norm 100), and
// AnoDDPM's EMA update over three steps at decay 0.9 and 0.9999, both the same bits as
// PyTorch on these values (the norms of larger tensors may differ in the last bit: PyTorch
// sums in float32 lanes, clipGradNorm in double); swap / withAveraged / state round trip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/engine/index.js';
import { clipGradNorm, ParameterEMA } from '../../src/nn/index.js';
import { readSafetensors, toFloat32 } from '../../src/nn/safetensors-format.js';
import { identical, near } from '../native/helpers.js';

const raw = readSafetensors(new URL('../fixtures/diffusion/diffusion.safetensors', import.meta.url).pathname).tensors;
const fx = (key: string) => {
  const r = raw.get(key);
  if (!r) throw new Error(`diffusion fixture has no ${key}`);
  return { shape: r.shape, data: toFloat32(r).slice() };
};
const param = (key: string) => {
  const { shape, data } = fx(key);
  return Tensor.fromData(data, shape);
};

for (const name of ['clip', 'noclip']) {
  test(`clipGradNorm = clip_grad_norm_ (${name})`, () => {
    const ps = [0, 1, 2].map((i) => {
      const g = param(`${name}.${i}.grad`);
      const p = Tensor.fromData(new Float32Array(g.size), g.shape);
      p.grad = g;
      return p;
    });
    const total = clipGradNorm(ps, name === 'clip' ? 1 : 100);
    assert.is(total, fx(`${name}.total`).data[0], 'total');
    ps.forEach((p, i) => identical(p.grad!.data, fx(`${name}.${i}.clipped`).data, `gradient ${i}`));
    if (name === 'noclip') ps.forEach((p, i) => identical(p.grad!.data, fx(`${name}.${i}.grad`).data, `unclipped ${i}`));
    else {
      let s = 0;
      for (const p of ps) for (const g of p.grad!.data) s += g * g;
      assert.ok(Math.abs(Math.sqrt(s) - 1) < 1e-5, `clipped norm ${Math.sqrt(s)}`);
    }
  });
}

test('clipGradNorm skips parameters without a gradient; refuses a bad maxNorm', () => {
  const a = Tensor.fromData(Float32Array.from([1, 2]), [2]);
  const b = Tensor.fromData(Float32Array.from([1]), [1]);
  a.grad = Tensor.fromData(Float32Array.from([3, 4]), [2]);
  assert.is(clipGradNorm([a, b], 1), 5);
  near(a.grad.data, [0.6, 0.8], 1e-6, 'scaled');
  assert.is(clipGradNorm([b], 1), 0);
  assert.throws(() => clipGradNorm([a], -1), /maxNorm/);
  assert.throws(() => clipGradNorm([a], NaN), /maxNorm/);
});

for (const [tag, decay] of [['09', 0.9], ['09999', 0.9999]] as const) {
  test(`ParameterEMA = AnoDDPM's update (decay ${decay})`, () => {
    const ps = [0, 1].map((i) => param(`ema${tag}.p0.${i}`));
    const ema = new ParameterEMA(ps, decay);
    for (let step = 0; step < 3; step++) {
      ps.forEach((p, i) => p.data.set(fx(`ema${tag}.step${step}.${i}`).data)); // the optimiser step
      ema.update();
      ps.forEach((_, i) => identical(ema.shadow[i], fx(`ema${tag}.shadow${step}.${i}`).data, `step ${step} shadow ${i}`));
    }
    assert.is(ema.updates, 3);
  });
}

test('ParameterEMA: swap, withAveraged, state round trip, refusals', () => {
  const p = Tensor.fromData(Float32Array.from([1, 2, 3]), [3]);
  const ema = new ParameterEMA({ parameters: () => [p] }, 0.5);
  p.data.set([3, 4, 5]);
  ema.update(); // shadow = 2, 3, 4
  assert.equal(Array.from(ema.shadow[0]), [2, 3, 4]);
  const seen = ema.withAveraged(() => Array.from(p.data));
  assert.equal(seen, [2, 3, 4]);
  assert.equal(Array.from(p.data), [3, 4, 5]);
  ema.swap();
  assert.ok(ema.averagedIn);
  assert.equal(Array.from(p.data), [2, 3, 4]);
  assert.throws(() => ema.update(), /swap/);
  const st = ema.stateDict();
  assert.equal(Array.from(st.shadow[0]), [2, 3, 4]);
  ema.swap();
  assert.equal(Array.from(p.data), [3, 4, 5]);
  const other = new ParameterEMA([p], 0.5);
  other.loadStateDict(st);
  assert.equal(Array.from(other.shadow[0]), [2, 3, 4]);
  assert.is(other.updates, 1);
  assert.throws(() => new ParameterEMA([p], 0.9).loadStateDict(st), /decay/);
  assert.throws(() => other.loadStateDict({ ...st, shadow: [new Float32Array(2)] }), /holds 2/);
  other.copyToParams();
  assert.equal(Array.from(p.data), [2, 3, 4]);
  assert.throws(() => new ParameterEMA([p], 1.5), /decay/);
  assert.throws(() => new ParameterEMA([]), /empty/);
  assert.is(new ParameterEMA([p]).decay, 0.9999);
});

test.run();
