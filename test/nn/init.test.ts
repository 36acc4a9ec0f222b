import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator, manualSeed, Tensor } from '../../src/engine/index.js';
import * as init from '../../src/nn/init.js';
import { Conv2d, ConvTranspose2d, Linear } from '../../src/nn/index.js';

function stats(d: ArrayLike<number>): { mean: number; variance: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < d.length; i++) {
    s += d[i];
    min = Math.min(min, d[i]);
    max = Math.max(max, d[i]);
  }
  const mean = s / d.length;
  let v = 0;
  for (let i = 0; i < d.length; i++) v += (d[i] - mean) ** 2;
  return { mean, variance: v / d.length, min, max };
}

/** Checks U(−b, b): range, mean ≈ 0 and variance ≈ b²/3 (within sampling error). */
function assertUniform(d: ArrayLike<number>, bound: number, what: string): void {
  const s = stats(d);
  assert.ok(s.min >= -bound && s.max <= bound, `${what}: values inside ±${bound} (got ${s.min}..${s.max})`);
  assert.ok(s.max > bound * 0.95 && s.min < -bound * 0.95, `${what}: values reach the bounds`);
  const sd = bound / Math.sqrt(3);
  assert.ok(Math.abs(s.mean) < (5 * sd) / Math.sqrt(d.length), `${what}: mean ${s.mean}`);
  assert.ok(Math.abs(s.variance / (sd * sd) - 1) < 0.05, `${what}: variance ratio ${s.variance / (sd * sd)}`);
}

function assertNormal(d: ArrayLike<number>, std: number, what: string): void {
  const s = stats(d);
  assert.ok(Math.abs(s.mean) < (5 * std) / Math.sqrt(d.length), `${what}: mean ${s.mean}`);
  assert.ok(Math.abs(Math.sqrt(s.variance) / std - 1) < 0.03, `${what}: std ${Math.sqrt(s.variance)} vs ${std}`);
}

test('Linear default init: weight and bias U(±1/√fan_in)', () => {
  const l = new Linear(400, 300, { seed: 1 });
  assertUniform(l.weight.data, 1 / Math.sqrt(400), 'weight');
  const s = stats(l.bias!.data);
  assert.ok(s.max <= 1 / Math.sqrt(400) && s.min >= -1 / Math.sqrt(400), 'bias bound');
});

test('Conv2d default init: fan_in = in/groups × kernel area', () => {
  const c = new Conv2d(16, 64, 3, { seed: 2 });
  assertUniform(c.weight.data, 1 / Math.sqrt(16 * 9), 'conv weight');
  const g = new Conv2d(16, 64, 3, { groups: 4, seed: 2 });
  assertUniform(g.weight.data, 1 / Math.sqrt(4 * 9), 'grouped conv weight');
});

test('ConvTranspose2d default init: fan_in from weight dim 1 (out channels) × kernel area', () => {
  // weight [in=64, out=8, 4, 4]: PyTorch's fan_in is 8·16 = 128, not 64·16.
  const t = new ConvTranspose2d(64, 8, 4, { stride: 2, padding: 1, seed: 3 });
  assert.equal(t.weight.shape, [64, 8, 4, 4]);
  assertUniform(t.weight.data, 1 / Math.sqrt(128), 'transposed conv weight');
  const b = stats(t.bias!.data);
  assert.ok(b.max <= 1 / Math.sqrt(128) && b.min >= -1 / Math.sqrt(128));
});

test('fans and gains as PyTorch', () => {
  assert.equal(init.fans([8, 3, 5, 5]), { fanIn: 75, fanOut: 200 });
  assert.equal(init.fans([10, 20]), { fanIn: 20, fanOut: 10 });
  assert.is(init.calculateGain('relu'), Math.SQRT2);
  assert.is(init.calculateGain('tanh'), 5 / 3);
  assert.is(init.calculateGain('linear'), 1);
  assert.ok(Math.abs(init.calculateGain('leaky_relu', Math.sqrt(5)) - Math.sqrt(1 / 3)) < 1e-15);
  assert.ok(Math.abs(init.calculateGain('leaky_relu') - Math.sqrt(2 / 1.0001)) < 1e-15);
  assert.throws(() => init.fans([5]), /at least 2 dims/);
});

test('kaiming uniform/normal (fan_in, fan_out, relu), xavier uniform/normal', () => {
  const t = () => Tensor.empty([300, 200]);
  assertUniform(init.kaimingUniform(t(), { seed: 1 }).data, Math.sqrt(6 / 200), 'kaimingUniform default');
  assertUniform(init.kaimingUniform(t(), { seed: 2, mode: 'fan_out', nonlinearity: 'relu' }).data, Math.sqrt(6 / 300), 'kaimingUniform fan_out');
  assertNormal(init.kaimingNormal(t(), { seed: 3, mode: 'fan_out', nonlinearity: 'relu' }).data, Math.sqrt(2 / 300), 'kaimingNormal fan_out');
  assertNormal(init.kaimingNormal(t(), { seed: 4 }).data, Math.sqrt(2 / 200), 'kaimingNormal fan_in');
  assertUniform(init.xavierUniform(t(), { seed: 5, gain: 2 }).data, 2 * Math.sqrt(6 / 500), 'xavierUniform');
  assertNormal(init.xavierNormal(t(), { seed: 6 }).data, Math.sqrt(2 / 500), 'xavierNormal');
  assertNormal(init.normal(t(), 0, 0.02, { seed: 7 }).data, 0.02, 'normal');
  const n = stats(init.normal(t(), 3, 1, { seed: 8 }).data);
  assert.ok(Math.abs(n.mean - 3) < 0.02, 'normal mean');
  const u = stats(init.uniform(t(), 2, 5, { seed: 9 }).data);
  assert.ok(u.min >= 2 && u.max < 5 && Math.abs(u.mean - 3.5) < 0.02, 'uniform range');
  assert.ok(init.zeros(t()).data.every((v) => v === 0));
  assert.ok(init.ones(t()).data.every((v) => v === 1));
  assert.ok(init.constant(t(), 0.5).data.every((v) => v === 0.5));
});

test('seeded: same seed same weights, different seed different; a shared generator advances', () => {
  const a = new Linear(20, 10, { seed: 42 }).weight.toArray();
  assert.equal(new Linear(20, 10, { seed: 42 }).weight.toArray(), a);
  assert.not.equal(new Linear(20, 10, { seed: 43 }).weight.toArray(), a);
  const g = new Generator(42);
  const first = new Linear(20, 10, { generator: g }).weight.toArray();
  assert.equal(first, a, 'a generator seeded 42 gives the seed-42 weights');
  assert.not.equal(new Linear(20, 10, { generator: g }).weight.toArray(), a, 'the generator moved on');
  assert.throws(() => new Linear(2, 2, { seed: 1, generator: g }), /either generator or seed/);
});

test('default generator: manualSeed makes module construction reproducible', () => {
  manualSeed(7);
  const a = new Conv2d(3, 4, 3).weight.toArray();
  const b = new Conv2d(3, 4, 3).weight.toArray();
  assert.not.equal(a, b);
  manualSeed(7);
  assert.equal(new Conv2d(3, 4, 3).weight.toArray(), a);
});

test.run();
