import { test } from 'uvu';
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight } from '../../src/backend/ts/conv.js';
import type { Conv2dParams } from '../../src/backend/types.js';
import { close, closeScalar, dot, randArray, rng } from './helpers.js';

type Geometry = Omit<Conv2dParams, 'OH' | 'OW'>;

function withOutput(g: Geometry): Conv2dParams {
  const OH = Math.floor((g.H + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh) + 1;
  const OW = Math.floor((g.W + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw) + 1;
  return { ...g, OH, OW };
}

/** y[n,k,oh,ow] = b[k] + Σ_{c in group, i, j} w[k, c', i, j] · x[n, c, oh·sh − ph + i·dh, ow·sw − pw + j·dw] (zero outside). */
function explicitConv(p: Conv2dParams, x: Float32Array, w: Float32Array, b: Float32Array | null): number[] {
  const Cg = p.C / p.groups;
  const Kg = p.K / p.groups;
  const y: number[] = [];
  for (let n = 0; n < p.N; n++)
    for (let k = 0; k < p.K; k++)
      for (let oh = 0; oh < p.OH; oh++)
        for (let ow = 0; ow < p.OW; ow++) {
          let s = b ? b[k] : 0;
          const g = Math.floor(k / Kg);
          for (let cl = 0; cl < Cg; cl++)
            for (let i = 0; i < p.kh; i++)
              for (let j = 0; j < p.kw; j++) {
                const ih = oh * p.sh - p.ph + i * p.dh;
                const iw = ow * p.sw - p.pw + j * p.dw;
                if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
                const c = g * Cg + cl;
                s += w[((k * Cg + cl) * p.kh + i) * p.kw + j] * x[((n * p.C + c) * p.H + ih) * p.W + iw];
              }
          y.push(s);
        }
  return y;
}

const cases: [string, Geometry][] = [
  ['3x3 pad 1', { N: 2, C: 3, H: 7, W: 6, K: 4, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, groups: 1 }],
  ['4x4 stride 2 pad 1', { N: 2, C: 2, H: 9, W: 8, K: 3, kh: 4, kw: 4, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, groups: 1 }],
  ['1x1 batch 1', { N: 1, C: 5, H: 3, W: 5, K: 2, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, groups: 1 }],
  ['rectangular kernel, uneven stride, big pad', { N: 1, C: 2, H: 6, W: 7, K: 3, kh: 2, kw: 3, sh: 3, sw: 2, ph: 2, pw: 3, dh: 1, dw: 1, groups: 1 }],
  ['dilation 2', { N: 2, C: 2, H: 9, W: 10, K: 3, kh: 3, kw: 3, sh: 1, sw: 2, ph: 2, pw: 1, dh: 2, dw: 3, groups: 1 }],
  ['groups 2', { N: 2, C: 4, H: 5, W: 6, K: 6, kh: 3, kw: 2, sh: 2, sw: 1, ph: 1, pw: 0, dh: 1, dw: 1, groups: 2 }],
  // Channel counts around the kernels' blocks of four: a full block plus a remainder.
  ['K 9, C 5, stride 2', { N: 2, C: 5, H: 8, W: 7, K: 9, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, groups: 1 }],
  ['groups 2 with 4 in / 5 out per group', { N: 1, C: 8, H: 6, W: 5, K: 10, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 2, groups: 2 }],
  ['depthwise', { N: 1, C: 3, H: 5, W: 5, K: 3, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, groups: 3 }],
];

cases.forEach(([name, geometry], ci) => {
  const p = withOutput(geometry);
  const r = rng(100 + ci);
  const x = randArray(r, p.N * p.C * p.H * p.W);
  const w = randArray(r, p.K * (p.C / p.groups) * p.kh * p.kw);
  const bias = randArray(r, p.K);
  const dy = randArray(r, p.N * p.K * p.OH * p.OW);

  test(`conv2d matches the explicit sum (${name})`, () => {
    const y = new Float32Array(p.N * p.K * p.OH * p.OW);
    conv2d(p, x, w, bias, y);
    close(y, explicitConv(p, x, w, bias), 1e-5, 1e-5, 'y');
    conv2d(p, x, w, null, y);
    close(y, explicitConv(p, x, w, null), 1e-5, 1e-5, 'y (no bias)');
  });

  test(`conv2d backwards satisfy the adjoint identity (${name})`, () => {
    const y = new Float32Array(p.N * p.K * p.OH * p.OW);
    conv2d(p, x, w, null, y);
    const dx = new Float32Array(x.length).fill(NaN); // overwritten, never read
    conv2dBackwardInput(p, dy, w, dx);
    const dw = new Float32Array(w.length).fill(NaN);
    conv2dBackwardWeight(p, x, dy, dw);
    const lhs = dot(y, dy);
    closeScalar(dot(x, dx), lhs, 1e-5, '<x, bwdInput(dy, w)>');
    closeScalar(dot(w, dw), lhs, 1e-5, '<w, bwdWeight(x, dy)>');
  });

  test(`conv2d backwards equal the explicit gradient sums (${name})`, () => {
    // dL/dx and dL/dw for L = <conv(x, w), dy>, from the explicit formula's structure.
    const Cg = p.C / p.groups;
    const Kg = p.K / p.groups;
    const gx = new Float64Array(x.length);
    const gw = new Float64Array(w.length);
    for (let n = 0; n < p.N; n++)
      for (let k = 0; k < p.K; k++)
        for (let oh = 0; oh < p.OH; oh++)
          for (let ow = 0; ow < p.OW; ow++) {
            const g = Math.floor(k / Kg);
            const d = dy[((n * p.K + k) * p.OH + oh) * p.OW + ow];
            for (let cl = 0; cl < Cg; cl++)
              for (let i = 0; i < p.kh; i++)
                for (let j = 0; j < p.kw; j++) {
                  const ih = oh * p.sh - p.ph + i * p.dh;
                  const iw = ow * p.sw - p.pw + j * p.dw;
                  if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
                  const xi = ((n * p.C + g * Cg + cl) * p.H + ih) * p.W + iw;
                  const wi = ((k * Cg + cl) * p.kh + i) * p.kw + j;
                  gx[xi] += w[wi] * d;
                  gw[wi] += x[xi] * d;
                }
          }
    const dx = new Float32Array(x.length);
    conv2dBackwardInput(p, dy, w, dx);
    close(dx, gx, 1e-5, 1e-5, 'dx');
    const dw = new Float32Array(w.length);
    conv2dBackwardWeight(p, x, dy, dw);
    close(dw, gw, 1e-5, 1e-5, 'dw');
  });
});

test('conv2d: a tap that never lands inside the image contributes nothing', () => {
  // 1-pixel image, 3x3 kernel, padding 1: only the centre tap touches the pixel.
  const p = withOutput({ N: 1, C: 1, H: 1, W: 1, K: 1, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, groups: 1 });
  const y = new Float32Array(1);
  conv2d(p, new Float32Array([2]), new Float32Array([1, 1, 1, 1, 10, 1, 1, 1, 1]), new Float32Array([0.5]), y);
  close(y, [20.5]);
});

test.run();
