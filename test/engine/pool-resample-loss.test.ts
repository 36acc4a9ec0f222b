import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as E from '../../src/engine/index.js';
import { close, gradcheck, randt } from './gradcheck.js';

test('maxPool2d: values, gradient, shapes (ceilMode, padding, dilation, 3-D input)', () => {
  const x = E.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 1, 4, 4]);
  close(E.maxPool2d(x, { kernelSize: 2 }).data, [6, 8, 14, 16]);
  // Distinct values keep the argmax stable under the finite-difference perturbation.
  const xs = E.tensor(Array.from({ length: 2 * 25 }, (_, i) => ((i * 37) % 50) / 10), [1, 2, 5, 5], { requiresGrad: true });
  gradcheck((t) => E.maxPool2d(t, { kernelSize: 3, stride: 2, padding: 1 }), [xs], { eps: 1e-3 });
  assert.equal(E.maxPool2d(E.zeros([1, 1, 5, 5]), { kernelSize: 2, ceilMode: true }).shape, [1, 1, 3, 3]);
  assert.equal(E.maxPool2d(E.zeros([1, 1, 5, 5]), { kernelSize: 2 }).shape, [1, 1, 2, 2]);
  assert.equal(E.maxPool2d(E.zeros([3, 8, 8]), { kernelSize: 3, stride: 1, dilation: 2 }).shape, [3, 4, 4]);
  assert.throws(() => E.maxPool2d(E.zeros([1, 1, 4, 4]), { kernelSize: 2, padding: 2 }), /maxPool2d: padding \(2, 2\) must be at most half the kernel size/);
  assert.throws(() => E.maxPool2d(E.zeros([4, 4]), { kernelSize: 2 }), /maxPool2d: input must be/);
});

test('avgPool2d and adaptiveAvgPool2d: gradients and shapes', () => {
  gradcheck((t) => E.avgPool2d(t, { kernelSize: 3, stride: 2, padding: 1 }), [randt([1, 2, 5, 5], 1)]);
  gradcheck((t) => E.avgPool2d(t, { kernelSize: 2, padding: 1, countIncludePad: false, ceilMode: true }), [randt([1, 1, 5, 4], 2)]);
  gradcheck((t) => E.adaptiveAvgPool2d(t, [3, 2]), [randt([2, 1, 5, 5], 3)]);
  close(E.adaptiveAvgPool2d(E.tensor([1, 2, 3, 4], [1, 1, 2, 2]), 1).data, [2.5]);
  assert.equal(E.adaptiveAvgPool2d(E.zeros([2, 3, 7, 7]), 1).shape, [2, 3, 1, 1]);
});

test('interpolate: bilinear/nearest, size/scaleFactor, gradients', () => {
  gradcheck((t) => E.interpolate(t, { size: [5, 7], mode: 'bilinear' }), [randt([1, 2, 3, 4], 4)]);
  gradcheck((t) => E.interpolate(t, { scaleFactor: 2, mode: 'bilinear', alignCorners: true }), [randt([1, 1, 3, 3], 5)]);
  gradcheck((t) => E.interpolate(t, { scaleFactor: 2, mode: 'nearest' }), [randt([1, 1, 2, 3], 6)]);
  assert.equal(E.interpolate(E.zeros([1, 1, 5, 5]), { scaleFactor: 1.5, mode: 'nearest' }).shape, [1, 1, 7, 7]);
  close(E.interpolate(E.tensor([1, 2], [1, 1, 1, 2]), { size: [1, 4], mode: 'nearest' }).data, [1, 1, 2, 2]);
  assert.throws(() => E.interpolate(E.zeros([1, 1, 2, 2]), { mode: 'bilinear' }), /exactly one of size and scaleFactor/);
  assert.throws(() => E.interpolate(E.zeros([1, 1, 2, 2]), { size: 4, mode: 'bicubic' as 'nearest' }), /mode must be/);
});

test('pad: constant, reflect, replicate values and gradients', () => {
  const x = E.tensor([1, 2, 3, 4, 5, 6], [1, 2, 3]);
  close(E.pad(x, [1, 0, 0, 0], 'constant', 9).data, [9, 1, 2, 3, 9, 4, 5, 6]);
  close(E.pad(x, [2, 0, 0, 0], 'reflect').data, [3, 2, 1, 2, 3, 6, 5, 4, 5, 6]);
  close(E.pad(x, [0, 1, 1, 0], 'replicate').data, [1, 2, 3, 3, 1, 2, 3, 3, 4, 5, 6, 6]);
  for (const mode of ['constant', 'reflect', 'replicate'] as const) {
    gradcheck((t) => E.pad(t, [1, 2, 2, 1], mode), [randt([2, 3, 4], 7)]);
  }
  assert.throws(() => E.pad(x, [3, 0, 0, 0], 'reflect'), /reflect padding .* must be smaller than the input size 2×3/);
  assert.throws(() => E.pad(x, [1, 1, -1, 0]), /pad: pads\[2\] must be non-negative/);
});

test('mseLoss / l1Loss: values, reductions, gradients', () => {
  const a = E.tensor([1, 2, 3]);
  const b = E.tensor([1, 0, 0]);
  close(E.mseLoss(a, b).data, [13 / 3]);
  close(E.mseLoss(a, b, { reduction: 'sum' }).data, [13]);
  close(E.l1Loss(a, b, { reduction: 'none' }).data, [0, 2, 3]);
  gradcheck((p, q) => E.mseLoss(p, q), [randt([2, 3], 8), randt([2, 3], 9)]);
  gradcheck((p, q) => E.l1Loss(p, q, { reduction: 'sum' }), [randt([2, 3], 10), randt([2, 3], 11, true, 1, 5)]);
  assert.throws(() => E.mseLoss(E.zeros([2, 3]), E.zeros([3, 2])), /mseLoss: target shape \[3, 2\] differs from input shape \[2, 3\]/);
  assert.throws(() => E.mseLoss(a, b, { reduction: 'avg' as 'mean' }), /reduction must be/);
});

test('bceLoss: PyTorch values, log clamped at −100, gradients', () => {
  const p = E.tensor([0.9, 0.2, 0, 1]);
  const t = E.tensor([1, 0, 1, 1]);
  const l = E.bceLoss(p, t, { reduction: 'none' });
  close(l.data, [-Math.log(0.9), -Math.log(0.8), 100, 0], 1e-5);
  const x = E.tensor([0.3, 0.6, 0.8, 0.1], [2, 2], { requiresGrad: true });
  const w = E.tensor([1, 2]);
  gradcheck((q, tt) => E.bceLoss(q, tt, { weight: w }), [x, E.tensor([0.2, 1, 0, 0.7], [2, 2], { requiresGrad: true })], { eps: 1e-3 });
  const edge = E.tensor([0, 1], [2], { requiresGrad: true });
  E.bceLoss(edge, E.tensor([0, 1])).backward();
  assert.ok(edge.grad!.data.every((v) => Number.isFinite(v)), 'finite gradient at 0 and 1');
  assert.throws(() => E.bceLoss(E.tensor([1.5]), E.tensor([1])), /bceLoss: input\[0\] = 1.5 is not a probability/);
});

test('bceWithLogitsLoss: matches bce(sigmoid), stable for large logits, posWeight', () => {
  const z = E.tensor([-3, 0.5, 2, 40, -40]);
  const t = E.tensor([0, 1, 1, 0, 1]);
  close(E.bceWithLogitsLoss(z, t, { reduction: 'none' }).data, [Math.log1p(Math.exp(-3)), Math.log1p(Math.exp(-0.5)), Math.log1p(Math.exp(-2)), 40, 40], 1e-5);
  gradcheck((a, b) => E.bceWithLogitsLoss(a, b), [randt([2, 3], 12), E.rand([2, 3], { seed: 1, requiresGrad: true })]);
  gradcheck((a) => E.bceWithLogitsLoss(a, E.tensor([1, 0, 1]), { posWeight: E.tensor([2, 3, 0.5]) }), [randt([3], 13)]);
  const pw = E.bceWithLogitsLoss(E.tensor([0]), E.tensor([1]), { posWeight: E.tensor([3]) });
  close(pw.data, [3 * Math.log(2)]);
});

test('crossEntropy: values, class weights, ignoreIndex, spatial targets, gradients', () => {
  const logits = E.tensor([1, 2, 3, 1, 1, 1], [2, 3]);
  const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
  close(E.crossEntropy(logits, [2, 0], { reduction: 'none' }).data, [lse - 3, Math.log(3)]);
  close(E.crossEntropy(logits, new Int32Array([2, 0])).data, [(lse - 3 + Math.log(3)) / 2]);
  const w = E.tensor([2, 1, 0.5]);
  close(E.crossEntropy(logits, [2, 0], { weight: w }).data, [(0.5 * (lse - 3) + 2 * Math.log(3)) / 2.5]);
  close(E.crossEntropy(logits, [2, -100]).data, [lse - 3]);
  gradcheck((l) => E.crossEntropy(l, [1, 0, 3]), [randt([3, 4], 14)]);
  gradcheck((l) => E.crossEntropy(l, E.tensor([0, 2, 1, 1], [1, 2, 2]), { weight: E.tensor([1, 2, 3]) }), [randt([1, 3, 2, 2], 15)]);
  assert.throws(() => E.crossEntropy(logits, [3, 0]), /crossEntropy: target\[0\] = 3 is not a class id in \[0, 3\)/);
  assert.throws(() => E.crossEntropy(logits, [1]), /target has 1 class ids but logits \[2, 3\] need 2/);
});

test('dropout: seeded mask, 1/(1−p) scaling, identity in eval, gradient through the mask', () => {
  const x = E.ones([1000], { requiresGrad: true });
  const y = E.dropout(x, 0.3, true, new E.Generator(5));
  const kept = y.data.filter((v) => v !== 0);
  assert.ok(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6));
  assert.ok(Math.abs(kept.length / 1000 - 0.7) < 0.05, `kept ${kept.length}`);
  assert.equal(E.dropout(x, 0.3, true, new E.Generator(5)).toArray(), y.toArray(), 'same seed, same mask');
  assert.is(E.dropout(x, 0.3, false), x);
  E.sum(y).backward();
  close(x.grad!.data, y.data);
  close(E.dropout(E.ones([3]), 1, true).data, [0, 0, 0]);
  assert.throws(() => E.dropout(x, 1.5, true), /dropout: p must be a probability/);
});

test.run();
