import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { upsampleBilinear2d, upsampleBilinear2dBackward, upsampleNearest2d, upsampleNearest2dBackward } from '../../src/backend/ts/upsample.js';
import type { Upsample2dParams } from '../../src/backend/types.js';
import { close, closeScalar, dot, randArray, rng } from './helpers.js';

const x22 = new Float32Array([1, 2, 3, 4]);

function up(H: number, W: number, OH: number, OW: number, alignCorners: boolean, scaleH = H / OH, scaleW = W / OW, N = 1, C = 1): Upsample2dParams {
  return { N, C, H, W, OH, OW, alignCorners, scaleH, scaleW };
}

test('bilinear 2x2 → 4x4, align_corners = false (PyTorch docs)', () => {
  const y = new Float32Array(16);
  upsampleBilinear2d(up(2, 2, 4, 4, false), x22, y);
  close(y, [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4], 1e-6, 0);
});

test('bilinear 2x2 → 4x4, align_corners = true (PyTorch docs)', () => {
  const y = new Float32Array(16);
  upsampleBilinear2d(up(2, 2, 4, 4, true), x22, y);
  const t = 1 / 3;
  close(y, [1, 1 + t, 1 + 2 * t, 2, 1 + 2 * t, 2, 2 + t, 2 + 2 * t, 2 + t, 2 + 2 * t, 3, 3 + t, 3, 3 + t, 3 + 2 * t, 4], 1e-6, 0);
});

test('nearest 2x2 → 4x4 and 2x2 → 3x3 (floor(dst · in/out))', () => {
  const y = new Float32Array(16);
  upsampleNearest2d(up(2, 2, 4, 4, false), x22, y);
  close(y, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], 0, 0);
  const y3 = new Float32Array(9);
  // src = floor(dst · 2/3): 0, 0, 1
  upsampleNearest2d(up(2, 2, 3, 3, false), x22, y3);
  close(y3, [1, 1, 2, 1, 1, 2, 3, 3, 4], 0, 0);
});

test('nearest downsampling 5 → 2 picks floor(dst · 2.5) = 0, 2', () => {
  const x = Float32Array.from({ length: 25 }, (_, i) => i);
  const y = new Float32Array(4);
  upsampleNearest2d(up(5, 5, 2, 2, false), x, y);
  close(y, [0, 2, 10, 12], 0, 0);
});

test('nearest with a user scale factor uses 1/scale_factor, the same-size shortcut wins', () => {
  const x = Float32Array.from({ length: 4 }, (_, i) => i); // 1 × 4 row
  const y = new Float32Array(8);
  // scale_factor 2.1 → out = floor(4·2.1) = 8 = 2·in: PyTorch takes dst >> 1
  upsampleNearest2d(up(1, 4, 1, 8, false, 1, 1 / 2.1), x, y);
  close(y, [0, 0, 1, 1, 2, 2, 3, 3], 0, 0);
  const y5 = new Float32Array(5);
  // scale_factor 1.3 → out = floor(4·1.3) = 5: src = floor(dst / 1.3) = 0, 0, 1, 2, 3
  upsampleNearest2d(up(1, 4, 1, 5, false, 1, 1 / 1.3), x, y5);
  close(y5, [0, 0, 1, 2, 3], 0, 0);
});

test('bilinear align_corners = true reproduces a linear ramp exactly at the mapped coordinates', () => {
  const [H, W, OH, OW] = [4, 5, 7, 9];
  const f = (h: number, w: number) => 0.5 * h - 0.25 * w + 1;
  const x = new Float32Array(H * W);
  for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) x[h * W + w] = f(h, w);
  const y = new Float32Array(OH * OW);
  upsampleBilinear2d(up(H, W, OH, OW, true), x, y);
  const expected: number[] = [];
  for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) expected.push(f((oh * (H - 1)) / (OH - 1), (ow * (W - 1)) / (OW - 1)));
  close(y, expected, 1e-5, 0);
});

test('bilinear align_corners = false clamps negative source coordinates to 0 (edges copy the border)', () => {
  // 1×3 → 1×7: dst 0 has src = (0.5)·3/7 − 0.5 < 0 → exactly x[0]; dst 6 has src ≥ 2 → x[2].
  const x = new Float32Array([10, 20, 40]);
  const y = new Float32Array(7);
  upsampleBilinear2d(up(1, 3, 1, 7, false), x, y);
  assert.is(y[0], 10);
  assert.is(y[6], 40);
  const s = 3 / 7;
  const expected = Array.from({ length: 7 }, (_, d) => {
    const src = Math.max(0, (d + 0.5) * s - 0.5);
    const i0 = Math.floor(src);
    const i1 = Math.min(i0 + 1, 2);
    return x[i0] + (x[i1] - x[i0]) * (src - i0);
  });
  close(y, expected, 1e-5, 0);
});

const adjointCases: [string, Upsample2dParams][] = [
  ['up, align false', up(5, 4, 9, 7, false, 5 / 9, 4 / 7, 2, 3)],
  ['up, align true', up(5, 4, 9, 7, true, 0, 0, 2, 3)],
  ['down, align false', up(9, 8, 4, 5, false, 9 / 4, 8 / 5, 1, 2)],
  ['down, align true', up(9, 8, 4, 5, true, 0, 0, 1, 2)],
  ['scale factor 1.5', up(4, 6, 6, 9, false, 1 / 1.5, 1 / 1.5, 1, 2)],
  ['to a single row/column', up(4, 6, 1, 1, true, 0, 0, 1, 1)],
];

for (const [name, p] of adjointCases)
  test(`bilinear and nearest backwards are adjoint to their forwards (${name})`, () => {
    const r = rng(p.H * 31 + p.OW);
    const x = randArray(r, p.N * p.C * p.H * p.W);
    const dy = randArray(r, p.N * p.C * p.OH * p.OW);
    const y = new Float32Array(dy.length);
    const dx = new Float32Array(x.length).fill(NaN);
    upsampleBilinear2d(p, x, y);
    upsampleBilinear2dBackward(p, dy, dx);
    closeScalar(dot(x, dx), dot(y, dy), 1e-5, 'bilinear adjoint');
    dx.fill(NaN);
    upsampleNearest2d(p, x, y);
    upsampleNearest2dBackward(p, dy, dx);
    closeScalar(dot(x, dx), dot(y, dy), 1e-5, 'nearest adjoint');
  });

test.run();
