import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  adaptiveAvgPool2d,
  adaptiveAvgPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  maxPool2d,
  maxPool2dBackward,
} from '../../src/backend/ts/pool.js';
import type { Pool2dParams } from '../../src/backend/types.js';
import { close, closeScalar, dot, randArray, rng } from './helpers.js';

/** Output size the way PyTorch's pooling_output_shape computes it (ceil mode included). */
function outSize(size: number, k: number, s: number, pad: number, dil: number, ceil: boolean): number {
  const span = size + 2 * pad - dil * (k - 1) - 1;
  let o = Math.floor((ceil ? span + s - 1 : span) / s) + 1;
  if (ceil && (o - 1) * s >= size + pad) o--; // the last window must start inside the image or left padding
  return o;
}

function params(N: number, C: number, H: number, W: number, k: [number, number], s: [number, number], pad: [number, number], dil: [number, number], ceilMode = false, countIncludePad = true, divisorOverride = 0): Pool2dParams {
  return {
    N, C, H, W,
    OH: outSize(H, k[0], s[0], pad[0], dil[0], ceilMode),
    OW: outSize(W, k[1], s[1], pad[1], dil[1], ceilMode),
    kh: k[0], kw: k[1], sh: s[0], sw: s[1], ph: pad[0], pw: pad[1], dh: dil[0], dw: dil[1],
    ceilMode, countIncludePad, divisorOverride,
  };
}

const maxCases: [string, Pool2dParams][] = [
  ['k2', params(2, 3, 6, 7, [2, 2], [2, 2], [0, 0], [1, 1])],
  ['k3 s2 p1', params(1, 2, 7, 5, [3, 3], [2, 2], [1, 1], [1, 1])],
  ['k3 s1 p1 dilation 2', params(1, 2, 7, 8, [3, 3], [1, 1], [1, 1], [2, 2])],
  ['k2x3 ceil mode', params(2, 1, 7, 8, [2, 3], [2, 2], [0, 1], [1, 1], true)],
];

for (const [name, p] of maxCases)
  test(`maxPool2d matches the window formula and its backward routes to the argmax (${name})`, () => {
    const r = rng(p.H * 10 + p.W);
    const x = randArray(r, p.N * p.C * p.H * p.W);
    const y = new Float32Array(p.N * p.C * p.OH * p.OW);
    const am = new Int32Array(y.length);
    maxPool2d(p, x, y, am);
    for (let nc = 0; nc < p.N * p.C; nc++)
      for (let oh = 0; oh < p.OH; oh++)
        for (let ow = 0; ow < p.OW; ow++) {
          let best = -Infinity;
          let at = -1;
          for (let i = 0; i < p.kh; i++)
            for (let j = 0; j < p.kw; j++) {
              const h = oh * p.sh - p.ph + i * p.dh;
              const w = ow * p.sw - p.pw + j * p.dw;
              if (h >= 0 && h < p.H && w >= 0 && w < p.W && x[nc * p.H * p.W + h * p.W + w] > best) {
                best = x[nc * p.H * p.W + h * p.W + w];
                at = h * p.W + w;
              }
            }
          const o = (nc * p.OH + oh) * p.OW + ow;
          assert.is(y[o], best);
          assert.is(am[o], at);
        }
    const dy = randArray(r, y.length);
    const dx = new Float32Array(x.length).fill(NaN);
    maxPool2dBackward(p, dy, am, dx);
    // Max pooling is linear in x for fixed argmax: <y, dy> = <x, dx>.
    closeScalar(dot(x, dx), dot(y, dy), 1e-5, 'adjoint');
  });

test('maxPool2d: ties pick the first position, a window of −∞ still has a valid argmax', () => {
  const p = params(1, 1, 2, 2, [2, 2], [2, 2], [0, 0], [1, 1]);
  const y = new Float32Array(1);
  const am = new Int32Array(1);
  maxPool2d(p, new Float32Array([1, 3, 3, 0]), y, am);
  assert.is(am[0], 1);
  maxPool2d(p, new Float32Array(4).fill(-Infinity), y, am);
  assert.is(y[0], -Infinity);
  assert.is(am[0], 0);
});

const avgCases: [string, Pool2dParams][] = [
  ['k2', params(2, 2, 6, 7, [2, 2], [2, 2], [0, 0], [1, 1])],
  ['k3 s2 p1 count pad', params(1, 2, 7, 5, [3, 3], [2, 2], [1, 1], [1, 1], false, true)],
  ['k3 s2 p1 exclude pad', params(1, 2, 7, 5, [3, 3], [2, 2], [1, 1], [1, 1], false, false)],
  ['k3 s1 p1 (PatchCore neighbourhood)', params(1, 3, 5, 6, [3, 3], [1, 1], [1, 1], [1, 1])],
  ['k3x2 ceil mode', params(1, 2, 8, 7, [3, 2], [2, 2], [1, 0], [1, 1], true, true)],
  ['divisor override', params(1, 1, 5, 5, [2, 2], [1, 1], [1, 1], [1, 1], false, true, 3)],
];

for (const [name, p] of avgCases)
  test(`avgPool2d matches PyTorch's window rule and its backward is the adjoint (${name})`, () => {
    const r = rng(p.H * 7 + p.W + p.kh);
    const x = randArray(r, p.N * p.C * p.H * p.W);
    const y = new Float32Array(p.N * p.C * p.OH * p.OW);
    avgPool2d(p, x, y);
    const expected: number[] = [];
    for (let nc = 0; nc < p.N * p.C; nc++)
      for (let oh = 0; oh < p.OH; oh++)
        for (let ow = 0; ow < p.OW; ow++) {
          let s = 0;
          let inside = 0;
          let padded = 0;
          for (let i = 0; i < p.kh; i++)
            for (let j = 0; j < p.kw; j++) {
              const h = oh * p.sh - p.ph + i;
              const w = ow * p.sw - p.pw + j;
              // Cells beyond the padding (ceil mode overhang) are counted nowhere.
              if (h < p.H + p.ph && w < p.W + p.pw) padded++;
              if (h >= 0 && h < p.H && w >= 0 && w < p.W) {
                s += x[nc * p.H * p.W + h * p.W + w];
                inside++;
              }
            }
          expected.push(s / (p.divisorOverride || (p.countIncludePad ? padded : inside)));
        }
    close(y, expected, 1e-6, 1e-6, 'y');
    const dy = randArray(r, y.length);
    const dx = new Float32Array(x.length).fill(NaN);
    avgPool2dBackward(p, dy, dx);
    closeScalar(dot(x, dx), dot(y, dy), 1e-5, 'adjoint');
  });

for (const [H, W, OH, OW] of [[7, 5, 3, 2], [6, 6, 1, 1], [5, 9, 5, 4], [3, 4, 6, 5]])
  test(`adaptiveAvgPool2d ${H}x${W} → ${OH}x${OW}: windows [⌊iH/OH⌋, ⌈(i+1)H/OH⌉), adjoint backward`, () => {
    const r = rng(H * W + OH);
    const p = { N: 2, C: 2, H, W, OH, OW };
    const x = randArray(r, 4 * H * W);
    const y = new Float32Array(4 * OH * OW);
    adaptiveAvgPool2d(p, x, y);
    const expected: number[] = [];
    for (let nc = 0; nc < 4; nc++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const hs: number[] = [];
          const ws: number[] = [];
          for (let h = 0; h < H; h++) if (h * OH >= oh * H - OH + 1 && h * OH < (oh + 1) * H) hs.push(h);
          for (let w = 0; w < W; w++) if (w * OW >= ow * W - OW + 1 && w * OW < (ow + 1) * W) ws.push(w);
          let s = 0;
          for (const h of hs) for (const w of ws) s += x[nc * H * W + h * W + w];
          expected.push(s / (hs.length * ws.length));
        }
    close(y, expected, 1e-6, 1e-6, 'y');
    const dy = randArray(r, y.length);
    const dx = new Float32Array(x.length).fill(NaN);
    adaptiveAvgPool2dBackward(p, dy, dx);
    closeScalar(dot(x, dx), dot(y, dy), 1e-5, 'adjoint');
  });

test.run();
