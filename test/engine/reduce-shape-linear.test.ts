import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as E from '../../src/engine/index.js';
import { awayFromZero, close, gradcheck, randt } from './gradcheck.js';

test('sum/mean over dims: values, shapes and gradients', () => {
  const x = E.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  close(E.sum(x).data, [21]);
  assert.equal(E.sum(x).shape, []);
  close(E.sum(x, 0).data, [5, 7, 9]);
  close(E.sum(x, 1, true).data, [6, 15]);
  assert.equal(E.sum(x, 1, true).shape, [2, 1]);
  close(E.mean(x, [0, 1]).data, [3.5]);
  close(E.mean(x, -1).data, [2, 5]);
  assert.equal(E.sum(E.zeros([2, 3, 4, 5]), [1, 3]).shape, [2, 4]);
  assert.equal(E.mean(E.zeros([2, 3, 4, 5]), [0, 2], true).shape, [1, 3, 1, 5]);
  gradcheck((t) => E.sum(t, [0, 2]), [randt([2, 3, 4], 1)]);
  gradcheck((t) => E.sum(t, 1, true), [randt([2, 3, 4], 2)]);
  gradcheck((t) => E.mean(t), [randt([2, 3, 4], 3)]);
  gradcheck((t) => E.mean(t, [1, 2]), [randt([2, 3, 4], 4)]);
});

test('max over a dim and over everything: values and gradient to the first maximum', () => {
  const x = E.tensor([1, 5, 3, 7, 2, 7], [2, 3], { requiresGrad: true });
  close(E.max(x, 1).data, [5, 7]);
  close(E.max(x, 0).data, [7, 5, 7]);
  assert.equal(E.max(x).shape, []);
  assert.equal(E.max(x, 0, true).shape, [1, 3]);
  const m = E.max(x);
  close(m.data, [7]);
  m.backward();
  close(x.grad!.data, [0, 0, 0, 1, 0, 0]);
  gradcheck((t) => E.max(t, 1), [randt([3, 4, 2], 5)]);
  assert.throws(() => E.max(E.zeros([0])), /max: the input is empty/);
});

test('views share storage and differentiate', () => {
  const x = randt([2, 3, 4], 10);
  const v = x.reshape(6, -1);
  assert.equal(v.shape, [6, 4]);
  assert.ok(v.data === x.data, 'reshape shares storage');
  assert.equal(x.view([4, 6]).shape, [4, 6]);
  assert.equal(x.flatten().shape, [24]);
  assert.equal(x.flatten(1).shape, [2, 12]);
  assert.equal(x.unsqueeze(0).shape, [1, 2, 3, 4]);
  assert.equal(x.unsqueeze(-1).shape, [2, 3, 4, 1]);
  assert.equal(E.zeros([1, 3, 1]).squeeze().shape, [3]);
  assert.equal(E.zeros([1, 3, 1]).squeeze(2).shape, [1, 3]);
  assert.equal(E.zeros([1, 3, 1]).squeeze(1).shape, [1, 3, 1]);
  gradcheck((t) => E.mul(t.reshape([4, 6]), t.flatten().reshape(4, 6)), [x]);
});

test('reshape rejects bad shapes', () => {
  const x = E.zeros([2, 3]);
  assert.throws(() => x.reshape(4, 2), /reshape: shape \[4, 2\] has 8 elements but the input \[2, 3\] has 6/);
  assert.throws(() => x.reshape(-1, -1), /only one dim may be -1/);
  assert.throws(() => x.reshape(4, -1), /cannot infer/);
  assert.throws(() => x.reshape(2.5, 2), /must be an integer/);
  assert.throws(() => x.reshape(NaN, 6), /reshape: shape\[0\] must be a number/);
});

test('permute / transpose: values and gradients', () => {
  const x = E.tensor([0, 1, 2, 3, 4, 5], [2, 3]);
  close(x.transpose(0, 1).data, [0, 3, 1, 4, 2, 5]);
  const y = E.arange(24).reshape(2, 3, 4).permute(2, 0, 1);
  assert.equal(y.shape, [4, 2, 3]);
  close(y.data.slice(0, 6), [0, 4, 8, 12, 16, 20]);
  gradcheck((t) => E.permute(t, [1, 2, 0]), [randt([2, 3, 4], 11)]);
  gradcheck((t) => E.transpose(t, -1, 0), [randt([2, 3, 4], 12)]);
  assert.throws(() => E.permute(x, [0, 0]), /repeat a dim/);
  assert.throws(() => E.permute(x, [0]), /permute: dims must list each/);
});

test('slice, concat, stack, expand: values and gradients', () => {
  const x = E.arange(10);
  close(E.slice(x, 0, 2, 8, 3).data, [2, 5]);
  close(E.slice(x, 0, -3).data, [7, 8, 9]);
  assert.equal(E.slice(E.zeros([2, 5, 3]), 1, 1, 4).shape, [2, 3, 3]);
  gradcheck((t) => E.slice(t, 1, 1, 5, 2), [randt([2, 5, 3], 13)]);
  const a = E.tensor([1, 2, 3, 4], [2, 2]);
  const b = E.tensor([5, 6], [2, 1]);
  close(E.concat([a, b], 1).data, [1, 2, 5, 3, 4, 6]);
  assert.equal(E.stack([a, a, a], 1).shape, [2, 3, 2]);
  gradcheck((p, q) => E.concat([p, q, p], 0), [randt([2, 3], 14), randt([1, 3], 15)]);
  gradcheck((p, q) => E.stack([p, q], 2), [randt([2, 3], 16), randt([2, 3], 17)]);
  assert.throws(() => E.concat([a, E.zeros([3, 3])], 1), /concat: xs\[1\] has shape \[3, 3\]/);
  close(E.expand(E.tensor([1, 2], [2, 1]), [2, 3]).data, [1, 1, 1, 2, 2, 2]);
  assert.equal(E.expand(E.zeros([3, 1]), [4, -1, 2]).shape, [4, 3, 2]);
  gradcheck((t) => E.expand(t, [2, 3, 4]), [randt([3, 1], 18)]);
  assert.throws(() => E.expand(E.zeros([3]), [4]), /cannot expand/);
});

test('clone is a differentiable copy; detach shares storage without a graph', () => {
  const x = randt([3], 19);
  const c = x.clone();
  assert.ok(c.data !== x.data);
  close(c.data, x.data);
  const d = x.mul(2).detach();
  assert.is(d.gradFn, null);
  assert.is(d.requiresGrad, false);
  gradcheck((t) => t.clone(), [x]);
});

test('matmul: 2-D, batched 3-D and [..., K] @ [K, N] with gradients', () => {
  const a = E.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = E.tensor([1, 0, 0, 1, 1, 1], [3, 2]);
  close(E.matmul(a, b).data, [4, 5, 10, 11]);
  gradcheck(E.matmul, [randt([3, 4], 20), randt([4, 2], 21)]);
  gradcheck(E.matmul, [randt([2, 3, 4], 22), randt([2, 4, 5], 23)]);
  gradcheck(E.matmul, [randt([2, 2, 3], 24), randt([3, 2], 25)]);
  assert.equal(E.matmul(E.zeros([5, 2, 3]), E.zeros([5, 3, 7])).shape, [5, 2, 7]);
  assert.throws(() => E.matmul(E.zeros([2, 3]), E.zeros([4, 2])), /matmul: inner dims differ: a \[2, 3\] has 3 columns but b \[4, 2\] has 4 rows/);
  assert.throws(() => E.matmul(E.zeros([2, 2, 3]), E.zeros([3, 3, 2])), /batch sizes differ/);
});

test('linear: values, gradients with and without bias, errors', () => {
  const x = E.tensor([1, 2, 3, 4], [2, 2]);
  const w = E.tensor([1, 0, 1, 1, 0, 2], [3, 2]);
  const b = E.tensor([0.5, -1, 0], [3]);
  close(E.linear(x, w, b).data, [1.5, 2, 4, 3.5, 6, 8]);
  gradcheck(E.linear, [randt([4, 3], 26), randt([5, 3], 27), randt([5], 28)]);
  gradcheck((p, q) => E.linear(p, q), [randt([2, 2, 3], 29), randt([4, 3], 30)]);
  assert.throws(() => E.linear(E.zeros([2, 4]), E.zeros([3, 5])), /linear: weight expects 5 input features but the input \[2, 4\] has 4/);
  assert.throws(() => E.linear(E.zeros([2, 5]), E.zeros([3, 5]), E.zeros([4])), /linear: bias must be \[3\]/);
});

test('relu after matmul: the composed gradient is right', () => {
  gradcheck((p, q) => E.relu(E.matmul(p, q)), [awayFromZero([3, 2], 31, 0.3), awayFromZero([2, 4], 32, 0.3)], { atol: 5e-3 });
});

test.run();
