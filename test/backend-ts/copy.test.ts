import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { axpy, fill, stridedCopy } from '../../src/backend/ts/copy.js';
import { close, randArray, rng } from './helpers.js';

test('stridedCopy as a permute: [2,3,4] → [4,2,3]', () => {
  const r = rng(1);
  const x = randArray(r, 24);
  const y = new Float32Array(24);
  // y[k, i, j] = x[i, j, k]; walk y's shape, read x with permuted strides.
  stridedCopy({ shape: [4, 2, 3], srcStrides: [1, 12, 4], srcOffset: 0, dstStrides: [6, 3, 1], dstOffset: 0, accumulate: false }, x, y);
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 3; j++)
      for (let k = 0; k < 4; k++) assert.is(y[k * 6 + i * 3 + j], x[i * 12 + j * 4 + k]);
});

test('stridedCopy as a slice with offset and step, and as concat into a slot', () => {
  const x = Float32Array.from({ length: 30 }, (_, i) => i); // [5, 6]
  const y = new Float32Array(6);
  // rows 1..3, columns 1, 3, 5
  stridedCopy({ shape: [2, 3], srcStrides: [6, 2], srcOffset: 7, dstStrides: [3, 1], dstOffset: 0, accumulate: false }, x, y);
  close(y, [7, 9, 11, 13, 15, 17], 0, 0);
  const cat = new Float32Array(2 * 5).fill(-1); // concat along dim 1 of [2,2] and [2,3]: second part at column 2
  stridedCopy({ shape: [2, 3], srcStrides: [3, 1], srcOffset: 0, dstStrides: [5, 1], dstOffset: 2, accumulate: false }, new Float32Array([1, 2, 3, 4, 5, 6]), cat);
  close(cat, [-1, -1, 1, 2, 3, -1, -1, 4, 5, 6], 0, 0);
});

test('stridedCopy accumulate with stride-0 destination sums (expand backward)', () => {
  const r = rng(2);
  const g = randArray(r, 3 * 4 * 70); // long rows exercise the block path of plain copies too
  const acc = new Float32Array([1, 1, 1]);
  stridedCopy({ shape: [3, 4, 70], srcStrides: [280, 70, 1], srcOffset: 0, dstStrides: [1, 0, 0], dstOffset: 0, accumulate: true }, g, acc);
  for (let c = 0; c < 3; c++) {
    let s = 1;
    for (let t = 0; t < 280; t++) s += g[c * 280 + t];
    assert.ok(Math.abs(acc[c] - s) < 1e-4, `channel ${c}`);
  }
  const copy = new Float32Array(g.length);
  stridedCopy({ shape: [3, 4, 70], srcStrides: [280, 70, 1], srcOffset: 0, dstStrides: [280, 70, 1], dstOffset: 0, accumulate: false }, g, copy);
  close(copy, g, 0, 0);
});

test('stridedCopy of a 0-dim shape copies one element; empty shapes copy nothing', () => {
  const y = new Float32Array([0, 0]);
  stridedCopy({ shape: [], srcStrides: [], srcOffset: 1, dstStrides: [], dstOffset: 1, accumulate: false }, new Float32Array([5, 6]), y);
  close(y, [0, 6], 0, 0);
  stridedCopy({ shape: [2, 0], srcStrides: [1, 1], srcOffset: 0, dstStrides: [1, 1], dstOffset: 0, accumulate: false }, new Float32Array([5, 6]), y);
  close(y, [0, 6], 0, 0);
});

test('fill and axpy', () => {
  const y = new Float32Array(5);
  fill({ n: 4, value: 2.5 }, y);
  close(y, [2.5, 2.5, 2.5, 2.5, 0], 0, 0);
  axpy({ n: 5, alpha: -2 }, new Float32Array([1, 2, 3, 4, 5]), y);
  close(y, [0.5, -1.5, -3.5, -5.5, -10], 0, 0);
  axpy({ n: 2, alpha: 1 }, new Float32Array([1, 1]), y);
  close(y, [1.5, -0.5, -3.5, -5.5, -10], 0, 0);
});

test.run();
