// conv2d and its two gradients against the ts reference, for every geometry the
// MedIAnomaly networks use (transposed convs run as conv2dBackwardInput).
import type { Conv2dParams } from '../../src/backend/types.js';
import { identical, native, nativeSuite, near, rand, ref, rng, withThreads } from './helpers.js';

const { it, run } = nativeSuite('native conv');

interface Geo {
  N: number; C: number; H: number; W: number; K: number;
  kh: number; kw?: number; s: number; p: number; d?: number; groups?: number;
}

function params(g: Geo): Conv2dParams {
  const kw = g.kw ?? g.kh;
  const d = g.d ?? 1;
  const OH = Math.floor((g.H + 2 * g.p - d * (g.kh - 1) - 1) / g.s) + 1;
  const OW = Math.floor((g.W + 2 * g.p - d * (kw - 1) - 1) / g.s) + 1;
  return { N: g.N, C: g.C, H: g.H, W: g.W, K: g.K, OH, OW, kh: g.kh, kw, sh: g.s, sw: g.s, ph: g.p, pw: g.p, dh: d, dw: d, groups: g.groups ?? 1 };
}

/**
 * A transposed conv from [N, Cin, h, w] with kernel k, stride s, padding p, output
 * padding op is conv2dBackwardInput of the conv that maps the [N, Cout, H, W] output back.
 */
function transposed(N: number, Cin: number, Cout: number, h: number, k: number, s: number, p: number, op: number): Conv2dParams {
  const H = (h - 1) * s - 2 * p + k + op;
  const c = params({ N, C: Cout, H, W: H, K: Cin, kh: k, s, p });
  if (c.OH !== h) throw new Error(`bad transposed geometry: ${c.OH} != ${h}`);
  return c;
}

function checkAll(p: Conv2dParams, seed: number, what: string, bias = true): void {
  const r = rng(seed);
  const xs = p.N * p.C * p.H * p.W;
  const ys = p.N * p.K * p.OH * p.OW;
  const ws = p.K * (p.C / p.groups) * p.kh * p.kw;
  const x = rand(r, xs);
  const w = rand(r, ws);
  const b = bias ? rand(r, p.K) : null;
  const dy = rand(r, ys);
  const terms = (p.C / p.groups) * p.kh * p.kw;
  const tol = 4e-6 * Math.sqrt(Math.max(terms, p.N * p.OH * p.OW)) + 1e-6;

  const y0 = new Float32Array(ys).fill(NaN);
  const y1 = new Float32Array(ys).fill(NaN);
  ref.conv2d(p, x, w, b, y0);
  native.conv2d(p, x, w, b, y1);
  near(y1, y0, tol, `${what} conv2d`);

  const dx0 = new Float32Array(xs).fill(NaN);
  const dx1 = new Float32Array(xs).fill(NaN);
  ref.conv2dBackwardInput(p, dy, w, dx0);
  native.conv2dBackwardInput(p, dy, w, dx1);
  near(dx1, dx0, tol, `${what} conv2dBackwardInput`);

  const dw0 = new Float32Array(ws).fill(NaN);
  const dw1 = new Float32Array(ws).fill(NaN);
  ref.conv2dBackwardWeight(p, x, dy, dw0);
  native.conv2dBackwardWeight(p, x, dy, dw1);
  near(dw1, dw0, tol, `${what} conv2dBackwardWeight`);
}

it('4×4 stride 2 pad 1 (unified AE encoder), odd channel counts, batch 1 and 3', () => {
  checkAll(params({ N: 1, C: 1, H: 64, W: 64, K: 16, kh: 4, s: 2, p: 1 }), 1, 'E1 n=1');
  checkAll(params({ N: 3, C: 16, H: 16, W: 16, K: 32, kh: 4, s: 2, p: 1 }), 2, 'E2');
  checkAll(params({ N: 2, C: 5, H: 9, W: 7, K: 3, kh: 4, s: 2, p: 1 }), 3, 'odd', false);
  checkAll(params({ N: 4, C: 64, H: 8, W: 8, K: 64, kh: 4, s: 2, p: 1 }), 4, 'E4');
});

it('3×3 s1 p1, 1×1, 7×7 s2 p3 (U-Net, ResNet stem)', () => {
  checkAll(params({ N: 2, C: 7, H: 13, W: 11, K: 6, kh: 3, s: 1, p: 1 }), 5, '3x3');
  checkAll(params({ N: 3, C: 9, H: 5, W: 6, K: 4, kh: 1, s: 1, p: 0 }), 6, '1x1');
  checkAll(params({ N: 1, C: 3, H: 23, W: 23, K: 8, kh: 7, s: 2, p: 3 }), 7, '7x7 s2');
  checkAll(params({ N: 2, C: 1, H: 15, W: 15, K: 4, kh: 3, kw: 5, s: 2, p: 2 }), 8, '3x5 s2 p2');
});

it('transposed convs: 4×4 s2 p1, 2×2 s2, 3×3 s2 p1 op1, 7×7 s2 p3 op1', () => {
  checkAll(transposed(2, 64, 32, 8, 4, 2, 1, 0), 9, 'D2 convT 4x4');
  checkAll(transposed(1, 16, 1, 32, 4, 2, 1, 0), 10, 'D4 convT 16→1');
  checkAll(transposed(2, 12, 6, 5, 2, 2, 0, 0), 11, 'convT 2x2 s2');
  checkAll(transposed(2, 5, 3, 6, 3, 2, 1, 1), 12, 'convT 3x3 s2 p1 op1');
  checkAll(transposed(1, 4, 3, 5, 7, 2, 3, 1), 13, 'convT 7x7 s2 p3 op1');
});

it('transposed convs with ≥ 8 output channels (the polyphase path), partial 16-channel panels', () => {
  checkAll(transposed(2, 8, 12, 6, 3, 2, 1, 1), 20, 'convT 3x3 s2 p1 op1 → 12');
  checkAll(transposed(1, 6, 9, 5, 7, 2, 3, 1), 21, 'convT 7x7 s2 p3 op1 → 9');
  checkAll(transposed(2, 10, 20, 4, 2, 2, 0, 0), 22, 'convT 2x2 s2 → 20');
  checkAll(transposed(1, 3, 33, 7, 5, 3, 2, 2), 23, 'convT 5x5 s3 p2 op2 → 33');
  checkAll(params({ N: 2, C: 8, H: 9, W: 9, K: 5, kh: 1, s: 2, p: 0 }), 24, '1x1 s2 (pixels no tap reaches)');
  checkAll(params({ N: 2, C: 32, H: 7, W: 6, K: 10, kh: 3, s: 2, p: 1, groups: 2 }), 25, 'groups 2, 16 channels each');
});

it('few input channels (pixel-vectorised path): partial vectors and chunks, odd filter counts, stride 1', () => {
  checkAll(params({ N: 3, C: 3, H: 45, W: 45, K: 5, kh: 4, s: 2, p: 1 }), 26, 'C3 4x4 s2, OW 22, K 5');
  checkAll(params({ N: 2, C: 2, H: 20, W: 37, K: 4, kh: 3, s: 1, p: 1 }), 27, 'C2 3x3 s1, OW 37, K 4');
  checkAll(params({ N: 2, C: 1, H: 64, W: 64, K: 16, kh: 4, s: 2, p: 1 }), 28, 'E1 n=2', false);
  checkAll(transposed(2, 8, 3, 11, 4, 2, 1, 1), 29, 'convT 4x4 s2 → 3 (odd width 23)');
  checkAll(transposed(2, 16, 1, 40, 4, 2, 1, 0), 30, 'convT 4x4 s2 → 1 (width 80: a full and a partial chunk)');
  checkAll(transposed(1, 4, 2, 9, 3, 2, 1, 1), 31, 'convT 3x3 s2 → 2 (classes with 2 and 1 taps)');
});

it('few input channels: 1 and 2 threads give identical results', () => {
  for (const p of [params({ N: 3, C: 1, H: 64, W: 64, K: 16, kh: 4, s: 2, p: 1 }), params({ N: 2, C: 3, H: 45, W: 45, K: 5, kh: 4, s: 2, p: 1 })]) {
    const r = rng(32);
    const x = rand(r, p.N * p.C * p.H * p.W);
    const w = rand(r, p.K * p.C * p.kh * p.kw);
    const dy = rand(r, p.N * p.K * p.OH * p.OW);
    const go = () => {
      const y = new Float32Array(p.N * p.K * p.OH * p.OW);
      const dx = new Float32Array(x.length);
      const dw = new Float32Array(w.length);
      native.conv2d(p, x, w, null, y);
      native.conv2dBackwardInput(p, dy, w, dx);
      native.conv2dBackwardWeight(p, x, dy, dw);
      return [y, dx, dw];
    };
    const one = withThreads(1, go);
    const two = withThreads(2, go);
    for (let i = 0; i < 3; i++) identical(one[i], two[i], `C${p.C} ${['y', 'dx', 'dw'][i]}`);
  }
});

it('groups and dilation', () => {
  checkAll(params({ N: 2, C: 6, H: 9, W: 9, K: 4, kh: 3, s: 1, p: 1, groups: 2 }), 14, 'groups 2');
  checkAll(params({ N: 1, C: 4, H: 8, W: 8, K: 4, kh: 3, s: 1, p: 1, groups: 4 }), 15, 'depthwise');
  checkAll(params({ N: 2, C: 3, H: 12, W: 10, K: 5, kh: 3, s: 1, p: 2, d: 2 }), 16, 'dilation 2');
});

it('large planes (single-image chunks, direct 1×1 path)', () => {
  checkAll(params({ N: 2, C: 16, H: 96, W: 96, K: 4, kh: 3, s: 1, p: 1 }), 17, '3x3 96px');
  checkAll(params({ N: 2, C: 64, H: 130, W: 130, K: 3, kh: 1, s: 1, p: 0 }), 18, '1x1 130px');
});

it('1 and 2 threads give identical results', () => {
  const p = params({ N: 5, C: 16, H: 32, W: 32, K: 32, kh: 4, s: 2, p: 1 });
  const r = rng(19);
  const x = rand(r, p.N * p.C * p.H * p.W);
  const w = rand(r, p.K * p.C * 16);
  const dy = rand(r, p.N * p.K * p.OH * p.OW);
  const go = () => {
    const y = new Float32Array(p.N * p.K * p.OH * p.OW);
    const dx = new Float32Array(x.length);
    const dw = new Float32Array(w.length);
    native.conv2d(p, x, w, null, y);
    native.conv2dBackwardInput(p, dy, w, dx);
    native.conv2dBackwardWeight(p, x, dy, dw);
    return [y, dx, dw];
  };
  const one = withThreads(1, go);
  const two = withThreads(2, go);
  for (let i = 0; i < 3; i++) identical(one[i], two[i], ['y', 'dx', 'dw'][i]);
});

run();
