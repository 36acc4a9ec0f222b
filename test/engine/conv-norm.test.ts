import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as E from '../../src/engine/index.js';
import { close, gradcheck, randt } from './gradcheck.js';

test('conv2d: gradients for stride, padding, dilation, groups and bias', () => {
  gradcheck((x, w, b) => E.conv2d(x, w, b), [randt([1, 2, 4, 4], 1), randt([3, 2, 3, 3], 2), randt([3], 3)]);
  gradcheck((x, w) => E.conv2d(x, w, null, { stride: 2, padding: 1 }), [randt([2, 2, 5, 5], 4), randt([2, 2, 3, 3], 5)]);
  gradcheck((x, w) => E.conv2d(x, w, null, { dilation: 2, padding: [2, 1], stride: [1, 2] }), [randt([1, 1, 6, 5], 6), randt([2, 1, 3, 2], 7)]);
  gradcheck((x, w, b) => E.conv2d(x, w, b, { groups: 2, padding: 1 }), [randt([1, 4, 3, 3], 8), randt([4, 2, 3, 3], 9), randt([4], 10)]);
});

test('conv2d: output shape inference', () => {
  assert.equal(E.conv2d(E.zeros([2, 3, 32, 32]), E.zeros([8, 3, 4, 4]), null, { stride: 2, padding: 1 }).shape, [2, 8, 16, 16]);
  assert.equal(E.conv2d(E.zeros([1, 3, 7, 9]), E.zeros([5, 3, 3, 3]), null, { dilation: 2 }).shape, [1, 5, 3, 5]);
  assert.equal(E.conv2d(E.zeros([1, 4, 7, 7]), E.zeros([8, 1, 3, 3]), null, { groups: 4, padding: 1 }).shape, [1, 8, 7, 7]);
});

test('conv2d: bad shapes and arguments are named', () => {
  assert.throws(() => E.conv2d(E.zeros([1, 4, 5, 5]), E.zeros([2, 3, 3, 3])), /conv2d: weight has 3 input channels per group but input has 4 channels/);
  assert.throws(() => E.conv2d(E.zeros([4, 5, 5]), E.zeros([2, 4, 3, 3])), /conv2d: input must be 4-D/);
  assert.throws(() => E.conv2d(E.zeros([1, 4, 2, 2]), E.zeros([2, 4, 3, 3])), /smaller than the dilated kernel/);
  assert.throws(() => E.conv2d(E.zeros([1, 4, 5, 5]), E.zeros([3, 2, 3, 3]), null, { groups: 2 }), /3 output channels, not divisible by groups=2/);
  assert.throws(() => E.conv2d(E.zeros([1, 4, 5, 5]), E.zeros([2, 4, 3, 3]), E.zeros([3])), /conv2d: bias must have shape \[2\]/);
  assert.throws(() => E.conv2d(E.zeros([1, 4, 5, 5]), E.zeros([2, 4, 3, 3]), null, { stride: 0 }), /conv2d: stride must be at least 1/);
  assert.throws(() => E.conv2d(E.zeros([1, 4, 5, 5]), E.zeros([2, 4, 3, 3]), null, { padding: 1.5 }), /conv2d: padding\[0\] must be an integer/);
  assert.throws(() => E.conv2d(E.zeros([1, 4, 5, 5]), E.zeros([2, 4, 3, 3]), null, { padding: NaN }), /conv2d: padding\[0\] must be a number/);
});

test('convTranspose2d: gradients, shapes and the outputPadding rule', () => {
  gradcheck((x, w, b) => E.convTranspose2d(x, w, b, { stride: 2, padding: 1 }), [randt([1, 2, 3, 3], 11), randt([2, 3, 4, 4], 12), randt([3], 13)]);
  gradcheck((x, w) => E.convTranspose2d(x, w, null, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }), [randt([1, 4, 2, 3], 14), randt([4, 1, 3, 3], 15)]);
  assert.equal(E.convTranspose2d(E.zeros([2, 8, 16, 16]), E.zeros([8, 3, 4, 4]), null, { stride: 2, padding: 1 }).shape, [2, 3, 32, 32]);
  assert.equal(E.convTranspose2d(E.zeros([1, 2, 5, 5]), E.zeros([2, 2, 3, 3]), null, { stride: 2, padding: 1, outputPadding: 1 }).shape, [1, 2, 10, 10]);
  assert.throws(() => E.convTranspose2d(E.zeros([1, 2, 5, 5]), E.zeros([2, 2, 3, 3]), null, { stride: 2, outputPadding: 2 }), /outputPadding \(2, 2\) must be smaller than either stride/);
  assert.throws(() => E.convTranspose2d(E.zeros([1, 3, 5, 5]), E.zeros([2, 2, 3, 3])), /convTranspose2d: weight has 2 input channels but input has 3/);
});

test('batchNorm training: gradients through batch statistics, [N, C] and [N, C, H, W]', () => {
  const opts = { training: true };
  gradcheck((x, w, b) => E.batchNorm(x, null, null, w, b, opts), [randt([3, 2, 2, 2], 16), randt([2], 17, true, 0.5, 1), randt([2], 18)], { atol: 5e-3 });
  gradcheck((x) => E.batchNorm(x, null, null, null, null, opts), [randt([4, 3], 19)], { atol: 5e-3 });
});

test('batchNorm eval: running statistics are constants', () => {
  const rm = E.tensor([0.5, -0.2]);
  const rv = E.tensor([2, 0.5]);
  const x = randt([2, 2, 3], 20);
  gradcheck((t, w) => E.batchNorm(t, rm, rv, w, null, { training: false }), [x, randt([2], 21)]);
  const y = E.batchNorm(E.tensor([1.5, 0.3], [1, 2]), rm, rv, null, null, { training: false, eps: 0 });
  close(y.data, [1 / Math.sqrt(2), 0.5 / Math.sqrt(0.5)]);
});

test('batchNorm training updates running stats with momentum and the unbiased variance', () => {
  const x = E.tensor([1, 2, 3, 5], [4, 1]);
  const rm = E.zeros([1]);
  const rv = E.ones([1]);
  const y = E.batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.1 });
  // batch mean 2.75, biased var 2.1875, unbiased 2.916666…
  close(rm.data, [0.275]);
  close(rv.data, [0.9 + 0.1 * (2.1875 * 4) / 3]);
  close(y.data, [1, 2, 3, 5].map((v) => (v - 2.75) / Math.sqrt(2.1875 + 1e-5)), 1e-5);
  assert.is(rm.requiresGrad, false);
  const rm2 = E.zeros([1]);
  const rv2 = E.ones([1]);
  E.batchNorm(x, rm2, rv2, null, null, { training: true, momentum: null, numBatchesTracked: 1 });
  close(rm2.data, [2.75]); // cumulative average over one batch is the batch
  assert.throws(() => E.batchNorm(E.zeros([1, 3]), null, null, null, null, { training: true }), /more than one value per channel/);
  assert.throws(() => E.batchNorm(E.zeros([2, 3]), E.zeros([2]), E.zeros([2]), null, null, { training: false }), /runningMean must have shape \[3\]/);
});

test('groupNorm: gradients and validation', () => {
  gradcheck((x, w, b) => E.groupNorm(x, 2, w, b), [randt([2, 4, 2, 2], 22), randt([4], 23, true, 0.5, 1), randt([4], 24)], { atol: 5e-3 });
  assert.throws(() => E.groupNorm(E.zeros([1, 6, 2, 2]), 4, null, null), /6 channels are not divisible into numGroups=4/);
});

test.run();
