import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as E from '../../src/engine/index.js';
import { awayFromZero, close, gradcheck, randt } from './gradcheck.js';

const unaries: [string, (x: E.Tensor) => E.Tensor, () => E.Tensor][] = [
  ['neg', E.neg, () => randt([2, 3], 1)],
  ['exp', E.exp, () => randt([2, 3], 2)],
  ['log', E.log, () => randt([2, 3], 3, true, 0.2, 2)],
  ['sqrt', E.sqrt, () => randt([2, 3], 4, true, 0.2, 2)],
  ['abs', E.abs, () => awayFromZero([2, 3], 5)],
  ['square', E.square, () => randt([2, 3], 6)],
  ['reciprocal', E.reciprocal, () => randt([2, 3], 7, true, 0.2, 2)],
  ['relu', E.relu, () => awayFromZero([2, 3], 8)],
  ['leakyRelu', (x) => E.leakyRelu(x, 0.2), () => awayFromZero([2, 3], 9)],
  ['sigmoid', E.sigmoid, () => randt([2, 3], 10)],
  ['tanh', E.tanh, () => randt([2, 3], 11)],
  ['silu', E.silu, () => randt([2, 3], 12)],
  ['softplus', E.softplus, () => randt([2, 3], 13)],
  ['clamp', (x) => E.clamp(x, -0.5, 0.5), () => awayFromZero([3, 4], 14)],
  ['pow scalar', (x) => E.pow(x, 3), () => randt([2, 3], 15)],
  ['add scalar', (x) => E.add(x, 2.5), () => randt([2, 3], 16)],
  ['sub scalar', (x) => E.sub(x, 2.5), () => randt([2, 3], 17)],
  ['mul scalar', (x) => E.mul(x, -1.5), () => randt([2, 3], 18)],
  ['div scalar', (x) => E.div(x, 4), () => randt([2, 3], 19)],
  ['number minus tensor', (x) => E.sub(1, x), () => randt([2, 3], 20)],
  ['number over tensor', (x) => E.div(2, x), () => randt([2, 3], 21, true, 0.2, 2)],
  ['softmax dim 1', (x) => E.softmax(x, 1), () => randt([2, 3, 2], 22)],
  ['logSoftmax dim -1', (x) => E.logSoftmax(x, -1), () => randt([3, 4], 23)],
];
for (const [name, f, make] of unaries) {
  test(`${name}: gradient matches finite differences`, () => gradcheck(f, [make()]));
}

test('clamp values away from the bounds and at the bounds pass the gradient like PyTorch', () => {
  const x = E.tensor([-2, -0.5, 0, 0.5, 2], [5], { requiresGrad: true });
  const y = E.clamp(x, -0.5, 0.5);
  close(y.data, [-0.5, -0.5, 0, 0.5, 0.5]);
  y.sum().backward();
  close(x.grad!.data, [0, 1, 1, 1, 0]);
});

const binaries: [string, (a: E.Tensor, b: E.Tensor) => E.Tensor][] = [
  ['add', E.add],
  ['sub', E.sub],
  ['mul', E.mul],
  ['div', E.div],
  ['maximum', E.maximum],
  ['minimum', E.minimum],
];
for (const [name, f] of binaries) {
  test(`${name}: same shapes and broadcast shapes, both gradients`, () => {
    gradcheck(f, [randt([2, 3], 30), randt([2, 3], 31, true, 1, name === 'div' ? 3 : 0)]);
    gradcheck(f, [randt([2, 1, 4], 32), randt([3, 1], 33, true, 0.3, name === 'div' ? 2 : 0.1)]);
    gradcheck(f, [randt([4], 34, true, 0.3, 0.1), randt([2, 3, 4], 35, true, name === 'div' ? 0.3 : 1, name === 'div' ? 2 : 0)]);
  });
}

test('pow with a tensor exponent differentiates in base and exponent', () => {
  gradcheck(E.pow, [randt([2, 3], 40, true, 0.2, 1.5), randt([3], 41, true, 0.5)]);
});

test('maximum splits the gradient on ties like PyTorch', () => {
  const a = E.tensor([1, 2, 3], [3], { requiresGrad: true });
  const b = E.tensor([2, 2, 1], [3], { requiresGrad: true });
  E.maximum(a, b).sum().backward();
  close(a.grad!.data, [0, 0.5, 1]);
  close(b.grad!.data, [1, 0.5, 0]);
});

test('broadcast shape inference follows PyTorch', () => {
  assert.equal(E.add(E.zeros([3, 1, 5]), E.zeros([4, 1])).shape, [3, 4, 5]);
  assert.equal(E.mul(E.zeros([2, 3]), 2).shape, [2, 3]);
  assert.equal(E.sub(E.zeros([]), E.zeros([2])).shape, [2]);
  assert.equal(E.add(E.zeros([1, 2, 1, 3, 1, 2, 1, 2]), E.zeros([2, 1, 2, 1, 2, 1, 2, 1])).shape, [2, 2, 2, 3, 2, 2, 2, 2]);
});

test('more than 6 broadcast dims still compute the right values', () => {
  const a = randt([2, 1, 2, 1, 2, 1, 2, 3], 50, false);
  const b = randt([1, 2, 1, 2, 1, 2, 1, 3], 51, false);
  const y = E.add(a, b);
  // Reference by explicit index arithmetic.
  const ys = [2, 2, 2, 2, 2, 2, 2, 3];
  const st = (s: number[]) => s.map((_, i) => s.slice(i + 1).reduce((p, q) => p * q, 1));
  const as = st(a.shape);
  const bs = st(b.shape);
  const os = st(ys);
  for (let f = 0; f < y.size; f++) {
    let ai = 0;
    let bi = 0;
    for (let d = 0; d < 8; d++) {
      const i = Math.floor(f / os[d]) % ys[d];
      if (a.shape[d] !== 1) ai += i * as[d];
      if (b.shape[d] !== 1) bi += i * bs[d];
    }
    assert.ok(Math.abs(y.data[f] - (a.data[ai] + b.data[bi])) < 1e-6, `element ${f}`);
  }
});

test('broadcasting failure names the op and the shapes', () => {
  assert.throws(() => E.add(E.zeros([2, 3]), E.zeros([4])), /add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
  assert.throws(() => E.mul(E.zeros([2, 3]), E.zeros([3, 2])), /mul: shapes/);
});

test('NaN in data is a value and propagates', () => {
  const y = E.add(E.tensor([NaN, 1]), 1);
  assert.ok(Number.isNaN(y.data[0]));
  assert.is(y.data[1], 2);
});

test('softmax rows sum to 1 and survive large inputs', () => {
  const y = E.softmax(E.tensor([1000, 1001, 1002, -5, 0, 5], [2, 3]), 1);
  close([y.data[0] + y.data[1] + y.data[2], y.data[3] + y.data[4] + y.data[5]], [1, 1]);
  assert.ok(y.data.every((v) => Number.isFinite(v)));
  assert.throws(() => E.softmax(E.zeros([2, 3]), 2), /softmax: dim 2 is out of range/);
});

test.run();
