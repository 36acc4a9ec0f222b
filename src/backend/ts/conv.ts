// Direct 2-D convolution (cross-correlation, as in PyTorch) and its two gradients.
//
// All three kernels share one access pattern: for a fixed weight tap (ki, kj) the
// input pixels an output row touches are a strided run of one input row, so the
// innermost loop is a scaled add over `ow` that walks memory in order. The range
// of `oh`/`ow` whose tap lands inside the image is computed up front, which keeps
// bounds checks (zero padding) out of the inner loops. Sums accumulate in float64.
import type { Conv2dParams, F32 } from '../types.js';

/**
 * Output positions o in [0, count) whose input coordinate o·stride + offset lies in
 * [0, size): returns [lo, hi) (empty when hi ≤ lo).
 */
function validRange(count: number, stride: number, offset: number, size: number): [number, number] {
  const lo = offset >= 0 ? 0 : Math.ceil(-offset / stride);
  const hi = Math.min(count, Math.floor((size - 1 - offset) / stride) + 1);
  return [lo, hi];
}

export function conv2d(p: Conv2dParams, x: F32, w: F32, bias: F32 | null, y: F32): void {
  const { N, C, H, W, K, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, groups } = p;
  const Cg = C / groups;
  const Kg = K / groups;
  const acc = new Float64Array(OH * OW);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const g = Math.floor(k / Kg);
      acc.fill(bias ? bias[k] : 0);
      for (let cl = 0; cl < Cg; cl++) {
        const xPlane = (n * C + g * Cg + cl) * H * W;
        const wBase = (k * Cg + cl) * kh * kw;
        for (let ki = 0; ki < kh; ki++) {
          const offH = ki * dh - ph;
          const [ohLo, ohHi] = validRange(OH, sh, offH, H);
          for (let kj = 0; kj < kw; kj++) {
            const wv = w[wBase + ki * kw + kj];
            const offW = kj * dw - pw;
            const [owLo, owHi] = validRange(OW, sw, offW, W);
            for (let oh = ohLo; oh < ohHi; oh++) {
              const xRow = xPlane + (oh * sh + offH) * W + offW;
              const aRow = oh * OW;
              if (sw === 1) for (let ow = owLo; ow < owHi; ow++) acc[aRow + ow] += wv * x[xRow + ow];
              else for (let ow = owLo; ow < owHi; ow++) acc[aRow + ow] += wv * x[xRow + ow * sw];
            }
          }
        }
      }
      y.set(acc, (n * K + k) * OH * OW);
    }
  }
}

/** dx[n, c] = Σ over the group's output channels k and taps of w[k, c, ki, kj] · dy[n, k] scattered back. */
export function conv2dBackwardInput(p: Conv2dParams, dy: F32, w: F32, dx: F32): void {
  const { N, C, H, W, K, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, groups } = p;
  const Cg = C / groups;
  const Kg = K / groups;
  const acc = new Float64Array(H * W);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / Cg);
      const cl = c - g * Cg;
      acc.fill(0);
      for (let kl = 0; kl < Kg; kl++) {
        const k = g * Kg + kl;
        const dyPlane = (n * K + k) * OH * OW;
        const wBase = (k * Cg + cl) * kh * kw;
        for (let ki = 0; ki < kh; ki++) {
          const offH = ki * dh - ph;
          const [ohLo, ohHi] = validRange(OH, sh, offH, H);
          for (let kj = 0; kj < kw; kj++) {
            const wv = w[wBase + ki * kw + kj];
            const offW = kj * dw - pw;
            const [owLo, owHi] = validRange(OW, sw, offW, W);
            for (let oh = ohLo; oh < ohHi; oh++) {
              const aRow = (oh * sh + offH) * W + offW;
              const dyRow = dyPlane + oh * OW;
              if (sw === 1) for (let ow = owLo; ow < owHi; ow++) acc[aRow + ow] += wv * dy[dyRow + ow];
              else for (let ow = owLo; ow < owHi; ow++) acc[aRow + ow * sw] += wv * dy[dyRow + ow];
            }
          }
        }
      }
      dx.set(acc, (n * C + c) * H * W);
    }
  }
}

/** dw[k, cl, ki, kj] = Σ_n Σ_(oh, ow) dy[n, k, oh, ow] · x[n, c, oh·sh − ph + ki·dh, ow·sw − pw + kj·dw]. */
export function conv2dBackwardWeight(p: Conv2dParams, x: F32, dy: F32, dw: F32): void {
  const { N, C, H, W, K, OH, OW, kh, kw, sh, sw, ph, pw, dh, groups } = p;
  const dilW = p.dw;
  const Cg = C / groups;
  const Kg = K / groups;
  const taps = kh * kw;
  // The batch loop is outermost so the (n, k) gradient plane and the (n, c) input
  // plane stay in cache while every tap of their weight slice is accumulated.
  const acc = new Float64Array(K * Cg * taps);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const g = Math.floor(k / Kg);
      const dyPlane = (n * K + k) * OH * OW;
      for (let cl = 0; cl < Cg; cl++) {
        const xPlane = (n * C + g * Cg + cl) * H * W;
        const aBase = (k * Cg + cl) * taps;
        for (let ki = 0; ki < kh; ki++) {
          const offH = ki * dh - ph;
          const [ohLo, ohHi] = validRange(OH, sh, offH, H);
          for (let kj = 0; kj < kw; kj++) {
            const offW = kj * dilW - pw;
            const [owLo, owHi] = validRange(OW, sw, offW, W);
            let s = 0;
            for (let oh = ohLo; oh < ohHi; oh++) {
              const xRow = xPlane + (oh * sh + offH) * W + offW;
              const dyRow = dyPlane + oh * OW;
              if (sw === 1) for (let ow = owLo; ow < owHi; ow++) s += dy[dyRow + ow] * x[xRow + ow];
              else for (let ow = owLo; ow < owHi; ow++) s += dy[dyRow + ow] * x[xRow + ow * sw];
            }
            acc[aBase + ki * kw + kj] += s;
          }
        }
      }
    }
  }
  dw.set(acc);
}
