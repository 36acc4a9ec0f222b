// Ops that allocate their outputs with Tensor.uninit (no zero fill) rely on their kernels
// overwriting every element. Here uninit hands out NaN-filled memory instead: every such
// op, forward and backward, on the current backend, must give the same bits as with zeros.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as E from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';

let poisonedCalls = 0;
const poisoned = (shape: readonly number[]): Tensor => {
  poisonedCalls++;
  const t = Tensor.empty(shape);
  t.data.fill(NaN);
  return t;
};
const zeroed = (shape: readonly number[]): Tensor => Tensor.empty(shape);

/** Forward output and input gradients of fn at inputs made from fixed seeds. */
function run(fn: (...xs: Tensor[]) => Tensor, shapes: number[][], alloc: (s: readonly number[]) => Tensor): Float32Array[] {
  const original = Tensor.uninit;
  (Tensor as { uninit: typeof Tensor.uninit }).uninit = alloc;
  try {
    const xs = shapes.map((s, i) => E.randn(s, { seed: 100 + i, requiresGrad: true }));
    const y = fn(...xs);
    y.backward(E.randn(y.shape, { seed: 7 }));
    return [y.data, ...xs.map((x) => x.grad?.data ?? new Float32Array(0))];
  } finally {
    (Tensor as { uninit: typeof Tensor.uninit }).uninit = original;
  }
}

function sameBits(name: string, fn: (...xs: Tensor[]) => Tensor, shapes: number[][]): void {
  const before = poisonedCalls;
  const a = run(fn, shapes, poisoned);
  assert.ok(poisonedCalls > before, `${name}: no output was allocated through Tensor.uninit`);
  const b = run(fn, shapes, zeroed);
  a.forEach((arr, k) => {
    for (let i = 0; i < arr.length; i++) {
      if (!Object.is(arr[i], b[k][i])) assert.unreachable(`${name}: output ${k} element ${i}: ${arr[i]} (uninit) vs ${b[k][i]} (zeroed)`);
    }
  });
}

test('conv2d / convTranspose2d overwrite their outputs and gradients', () => {
  // Sizes above the 4096-float threshold so the uninit path is the one taken.
  sameBits('conv2d', (x, w) => E.conv2d(x, w, null, { stride: 2, padding: 1 }), [[4, 3, 32, 32], [16, 3, 4, 4]]);
  sameBits('conv2d dilated, groups, bias', (x, w, b) => E.conv2d(x, w, b, { dilation: 2, padding: 2, groups: 2 }), [[2, 4, 40, 40], [6, 2, 3, 3], [6]]);
  sameBits('convTranspose2d', (x, w) => E.convTranspose2d(x, w, null, { stride: 2, padding: 1 }), [[4, 16, 16, 16], [16, 3, 4, 4]]);
  sameBits('convTranspose2d 1 channel', (x, w) => E.convTranspose2d(x, w, null, { stride: 2, padding: 1 }), [[4, 16, 32, 32], [16, 1, 4, 4]]);
});

test('linear / batchNorm / unary overwrite their outputs and gradients', () => {
  sameBits('linear + bias', (x, w, b) => E.linear(x, w, b), [[64, 300], [70, 300], [70]]);
  sameBits('linear', (x, w) => E.linear(x, w), [[64, 300], [70, 300]]);
  sameBits('linear K = 0', (x, w, b) => E.linear(x, w, b), [[5000, 0], [3, 0], [3]]);
  sameBits('batchNorm training', (x, g, b) => E.batchNorm(x, null, null, g, b, { training: true }), [[8, 4, 32, 32], [4], [4]]);
  sameBits('relu', (x) => E.relu(x), [[8, 4, 32, 32]]);
  sameBits('sigmoid', (x) => E.sigmoid(x), [[8, 4, 32, 32]]);
  const rm = E.randn([4], { seed: 1 });
  const rv = E.rand([4], { seed: 2 }).add(0.5);
  sameBits('batchNormRelu (no graph)', (x) => E.noGrad(() => E.batchNormRelu(x.detach(), rm, rv, null, null)).add(x.mul(0)), [[8, 4, 32, 32]]);
});

test.run();
