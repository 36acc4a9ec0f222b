// FAE's small parts: channel dropout (the engine's dropout2d and the Dropout2d layer), the SSIM
// and MSE maps on feature tensors, torch.quantile as PyTorch 1.13 computes it, and the two
// image scores with their edge cases (no foreground, nothing above the quantile).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dropout2d, Generator, Tensor } from '../../../src/engine/index.js';
import { Dropout2d } from '../../../src/nn/index.js';
import { negativeSsimMap, squaredErrorMap } from '../../../src/methods/feature-reconstruction/fae-ssim.js';
import { foregroundTopScores, meanAboveQuantile, meanScores, torchQuantile } from '../../../src/methods/feature-reconstruction/fae-score.js';

function randn(shape: number[], seed: number): Tensor {
  const g = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromData(Float32Array.from({ length: n }, () => g.normal()), shape);
}

test('dropout2d zeroes whole channels with probability p, scales the rest by 1/(1 − p), repeats from its seed; eval is the identity', () => {
  const x = randn([8, 16, 3, 3], 1);
  const y = dropout2d(x, 0.25, true, new Generator(7));
  let dropped = 0;
  for (let nc = 0; nc < 8 * 16; nc++) {
    const a = x.data.subarray(nc * 9, nc * 9 + 9);
    const b = y.data.subarray(nc * 9, nc * 9 + 9);
    const zero = b.every((v) => v === 0);
    if (zero) dropped++;
    else for (let i = 0; i < 9; i++) assert.ok(Math.abs(b[i] - a[i] / 0.75) < 1e-6);
  }
  assert.ok(dropped > 16 && dropped < 50, `${dropped} of 128 channels dropped at p 0.25`);
  assert.equal(Array.from(dropout2d(x, 0.25, true, new Generator(7)).data), Array.from(y.data));
  assert.is(dropout2d(x, 0.25, false, new Generator(7)), x);
  assert.is(dropout2d(x, 0, true), x);
  assert.ok(dropout2d(x, 1, true).data.every((v) => v === 0));
  assert.throws(() => dropout2d(randn([4, 4], 0), 0.1, true), /dropout2d: input must be \[N, C, H, W\]/);
  assert.throws(() => dropout2d(x, 1.5, true), /p must be a probability/);
});

test('dropout2d passes the gradient through the kept channels only, scaled', () => {
  const x = randn([2, 6, 2, 2], 2).requiresGrad_(true);
  const y = dropout2d(x, 0.5, true, new Generator(3));
  y.sum().backward();
  for (let i = 0; i < x.size; i++) assert.is(x.grad!.data[i], y.data[i] === 0 ? 0 : 2);
});

test('Dropout2d draws from the generator forward is given (a training stream), else its own; eval mode passes through', () => {
  const x = randn([4, 8, 2, 2], 4);
  const layer = new Dropout2d(0.5, { seed: 11 });
  const a = layer.forward(x, new Generator(5));
  const b = layer.forward(x, new Generator(5));
  assert.equal(Array.from(a.data), Array.from(b.data));
  assert.equal(Array.from(new Dropout2d(0.5, { seed: 11 }).forward(x).data), Array.from(new Dropout2d(0.5, { seed: 11 }).forward(x).data));
  layer.eval();
  assert.is(layer.forward(x, new Generator(5)), x);
  assert.is(String(layer), 'Dropout2d(p=0.5)');
});

test('−SSIM of identical feature maps is −1 everywhere (any scale, zero padding included); MSE is 0; −SSIM is symmetric', () => {
  const a = randn([2, 3, 9, 9], 5).mul(4);
  const m = negativeSsimMap(a, a);
  assert.equal(m.shape, [2, 3, 9, 9]);
  for (const v of m.data) assert.ok(Math.abs(v + 1) < 1e-5, `${v}`);
  assert.ok(squaredErrorMap(a, a).data.every((v) => v === 0));
  const b = randn([2, 3, 9, 9], 6);
  const ab = negativeSsimMap(a, b).data;
  const ba = negativeSsimMap(b, a).data;
  for (let i = 0; i < ab.length; i++) assert.ok(Math.abs(ab[i] - ba[i]) < 1e-6);
  // A centre value's window sees 25 neighbours; values outside [−1, 1] are not clamped (features are not images).
  assert.ok(ab.every((v) => v >= -1 - 1e-6 && v <= 1 + 1e-6));
  assert.throws(() => negativeSsimMap(a, randn([2, 3, 8, 8], 0)), /same \[B, C, H, W\] shape/);
});

test('torchQuantile is PyTorch 1.13\'s float32 linear interpolation', () => {
  // torch.quantile(torch.arange(11.), 0.9) = 9: rank 0.9f·10 rounds to 9.0 in float32.
  assert.is(torchQuantile(Float32Array.from({ length: 11 }, (_, i) => 10 - i), 0.9), 9);
  // torch.quantile(torch.tensor([0., 1., 2., 3.]), 0.9) = 2.7 (rank 2.7: weight ≥ 0.5, end − (end − self)(1 − w)).
  assert.is(torchQuantile(Float32Array.of(3, 1, 2, 0), 0.9), 2.6999998092651367); // PyTorch 1.13's value, bit for bit
  assert.is(torchQuantile(Float32Array.of(5), 0.9), 5);
  assert.throws(() => torchQuantile(new Float32Array(0), 0.9), /no values/);
});

test('the official score: mean above the 0.9 quantile of the foreground; no foreground → the whole map; nothing above → q', () => {
  const size = 4;
  // One image: foreground = right half (input > −1), map = 0..15.
  const map = Float32Array.from({ length: 16 }, (_, i) => i);
  const img = Float32Array.from({ length: 16 }, (_, i) => (i % 4 >= 2 ? 0.3 : -1));
  // roi = 2, 3, 6, 7, 10, 11, 14, 15 → q = 14.3 → mean of {15}.
  assert.equal(Array.from(foregroundTopScores(map, img, 1, 1, size)), [15]);
  // All background: the whole map, q = 13.5 → mean of {14, 15}.
  assert.equal(Array.from(foregroundTopScores(map, new Float32Array(16).fill(-1), 1, 1, size)), [14.5]);
  // Constant map: no value strictly above q.
  assert.equal(Array.from(foregroundTopScores(new Float32Array(16).fill(0.25), img, 1, 1, size)), [0.25]);
  assert.is(meanAboveQuantile(Float32Array.of(1, 1, 1, 2)), 2);
  // Colour: a pixel is foreground when any channel is above −1.
  const rgb = new Float32Array(48).fill(-1);
  rgb[16 + 15] = 0.5; // channel 1 of the last pixel only
  assert.equal(Array.from(foregroundTopScores(map, rgb, 1, 3, size)), [15]);
  assert.equal(Array.from(meanScores(Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), 2)), [2.5, 6.5]);
});

test.run();
