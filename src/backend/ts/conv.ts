// Direct 2-D convolution (cross-correlation, as in PyTorch) and its two gradients.
//
// All three kernels share one access pattern: for a fixed weight tap (ki, kj) the
// input pixels an output row touches are a strided run of one input row, so the
// innermost loop walks `ow` through memory in order. The range of output rows and
// columns whose tap lands inside the image is computed once per call (tapRanges),
// which keeps the zero-padding bounds checks out of the inner loops. The padding still
// counts as zeros that are multiplied, as in PyTorch (0·∞ = NaN): conv-padding.ts.
//
// Channels are processed in blocks of four (output channels for the forward and the
// weight gradient, input channels for the input gradient): each value loaded in the
// inner loop then feeds four multiply-adds instead of one, which more than doubles
// the speed of plain JavaScript. A block of fewer than four (channel counts not
// divisible by four) takes the one-channel loop. Sums accumulate in float64.
import type { Conv2dParams, F32 } from '../types.js';
import { poisonForward, poisonWeightGrad } from './conv-padding.js';

const BLOCK = 4;

/**
 * For each tap t of one axis (kernel offset t·dilation − pad), the range [lo, hi) of
 * output positions o whose input coordinate o·stride + offset lies in [0, size).
 * Returned as one Int32Array [lo0, hi0, lo1, hi1, ...].
 */
function tapRanges(taps: number, dilation: number, pad: number, count: number, stride: number, size: number): Int32Array {
  const r = new Int32Array(2 * taps);
  for (let t = 0; t < taps; t++) {
    const offset = t * dilation - pad;
    const lo = offset >= 0 ? 0 : Math.ceil(-offset / stride);
    const hi = Math.min(count, Math.floor((size - 1 - offset) / stride) + 1);
    r[2 * t] = lo;
    r[2 * t + 1] = Math.max(lo, hi);
  }
  return r;
}

/** y[n, k] = bias[k] + Σ_{c in k's group, ki, kj} w[k, c, ki, kj] · x[n, c, oh·sh − ph + ki·dh, ow·sw − pw + kj·dw]. */
export function conv2d(p: Conv2dParams, x: F32, w: F32, bias: F32 | null, y: F32): void {
  const { N, C, H, W, K, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, groups } = p;
  const Cg = C / groups;
  const Kg = K / groups;
  const taps = kh * kw;
  const P = OH * OW; // one output plane
  const rh = tapRanges(kh, dh, ph, OH, sh, H);
  const rw = tapRanges(kw, dw, pw, OW, sw, W);
  const acc = new Float64Array(BLOCK * P); // planes of the block's output channels
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      for (let k0 = g * Kg; k0 < (g + 1) * Kg; k0 += BLOCK) {
        const nb = Math.min(BLOCK, (g + 1) * Kg - k0);
        for (let b = 0; b < nb; b++) acc.fill(bias ? bias[k0 + b] : 0, b * P, (b + 1) * P);
        for (let cl = 0; cl < Cg; cl++) {
          const xPlane = (n * C + g * Cg + cl) * H * W;
          const wBase = (k0 * Cg + cl) * taps; // w[k0, cl, 0, 0]; the next channel is Cg·taps further
          for (let ki = 0; ki < kh; ki++) {
            const offH = ki * dh - ph;
            for (let kj = 0; kj < kw; kj++) {
              const t = wBase + ki * kw + kj;
              const offW = kj * dw - pw;
              const owLo = rw[2 * kj];
              const owHi = rw[2 * kj + 1];
              for (let oh = rh[2 * ki]; oh < rh[2 * ki + 1]; oh++) {
                const xRow = xPlane + (oh * sh + offH) * W + offW;
                const aRow = oh * OW;
                if (nb === BLOCK) {
                  const w0 = w[t];
                  const w1 = w[t + Cg * taps];
                  const w2 = w[t + 2 * Cg * taps];
                  const w3 = w[t + 3 * Cg * taps];
                  for (let ow = owLo; ow < owHi; ow++) {
                    const xv = x[xRow + ow * sw];
                    const o = aRow + ow;
                    acc[o] += w0 * xv;
                    acc[o + P] += w1 * xv;
                    acc[o + 2 * P] += w2 * xv;
                    acc[o + 3 * P] += w3 * xv;
                  }
                } else {
                  for (let b = 0; b < nb; b++) {
                    const wv = w[t + b * Cg * taps];
                    const a0 = aRow + b * P;
                    for (let ow = owLo; ow < owHi; ow++) acc[a0 + ow] += wv * x[xRow + ow * sw];
                  }
                }
              }
            }
          }
        }
        y.set(acc.subarray(0, nb * P), (n * K + k0) * P);
      }
    }
  }
  poisonForward(p, w, y, rh, rw); // 0·∞ in the padding (see conv-padding.ts)
}

/**
 * dx[n, c] = Σ over the output channels k of c's group and every tap of w[k, c, ki, kj] ·
 * dy[n, k] scattered back to the input pixel the tap read. Also conv_transpose2d's forward.
 */
export function conv2dBackwardInput(p: Conv2dParams, dy: F32, w: F32, dx: F32): void {
  const { N, C, H, W, K, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, groups } = p;
  const Cg = C / groups;
  const Kg = K / groups;
  const taps = kh * kw;
  const P = H * W; // one input plane
  const rh = tapRanges(kh, dh, ph, OH, sh, H);
  const rw = tapRanges(kw, dw, pw, OW, sw, W);
  const acc = new Float64Array(BLOCK * P); // planes of the block's input channels
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      for (let c0 = g * Cg; c0 < (g + 1) * Cg; c0 += BLOCK) {
        const nb = Math.min(BLOCK, (g + 1) * Cg - c0);
        const cl0 = c0 - g * Cg;
        acc.fill(0, 0, nb * P);
        for (let k = g * Kg; k < (g + 1) * Kg; k++) {
          const dyPlane = (n * K + k) * OH * OW;
          const wBase = (k * Cg + cl0) * taps; // w[k, cl0, 0, 0]; the next channel is taps further
          for (let ki = 0; ki < kh; ki++) {
            const offH = ki * dh - ph;
            for (let kj = 0; kj < kw; kj++) {
              const t = wBase + ki * kw + kj;
              const offW = kj * dw - pw;
              const owLo = rw[2 * kj];
              const owHi = rw[2 * kj + 1];
              for (let oh = rh[2 * ki]; oh < rh[2 * ki + 1]; oh++) {
                const aRow = (oh * sh + offH) * W + offW;
                const dyRow = dyPlane + oh * OW;
                if (nb === BLOCK) {
                  const w0 = w[t];
                  const w1 = w[t + taps];
                  const w2 = w[t + 2 * taps];
                  const w3 = w[t + 3 * taps];
                  for (let ow = owLo; ow < owHi; ow++) {
                    const g0 = dy[dyRow + ow];
                    const o = aRow + ow * sw;
                    acc[o] += w0 * g0;
                    acc[o + P] += w1 * g0;
                    acc[o + 2 * P] += w2 * g0;
                    acc[o + 3 * P] += w3 * g0;
                  }
                } else {
                  for (let b = 0; b < nb; b++) {
                    const wv = w[t + b * taps];
                    const a0 = aRow + b * P;
                    for (let ow = owLo; ow < owHi; ow++) acc[a0 + ow * sw] += wv * dy[dyRow + ow];
                  }
                }
              }
            }
          }
        }
        dx.set(acc.subarray(0, nb * P), (n * C + c0) * P);
      }
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
  const P = OH * OW;
  const rh = tapRanges(kh, dh, ph, OH, sh, H);
  const rw = tapRanges(kw, dilW, pw, OW, sw, W);
  // The batch loop is outermost so the block's gradient planes and the input plane
  // stay in cache while every tap of their weight slice is accumulated.
  const acc = new Float64Array(K * Cg * taps);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      for (let k0 = g * Kg; k0 < (g + 1) * Kg; k0 += BLOCK) {
        const nb = Math.min(BLOCK, (g + 1) * Kg - k0);
        const dyPlane = (n * K + k0) * P; // dy[n, k0]; the next channel is P further
        for (let cl = 0; cl < Cg; cl++) {
          const xPlane = (n * C + g * Cg + cl) * H * W;
          const aBase = (k0 * Cg + cl) * taps; // dw[k0, cl, 0, 0]; the next channel is Cg·taps further
          for (let ki = 0; ki < kh; ki++) {
            const offH = ki * dh - ph;
            for (let kj = 0; kj < kw; kj++) {
              const offW = kj * dilW - pw;
              const owLo = rw[2 * kj];
              const owHi = rw[2 * kj + 1];
              const t = aBase + ki * kw + kj;
              if (nb === BLOCK) {
                let s0 = 0;
                let s1 = 0;
                let s2 = 0;
                let s3 = 0;
                for (let oh = rh[2 * ki]; oh < rh[2 * ki + 1]; oh++) {
                  const xRow = xPlane + (oh * sh + offH) * W + offW;
                  const dyRow = dyPlane + oh * OW;
                  for (let ow = owLo; ow < owHi; ow++) {
                    const xv = x[xRow + ow * sw];
                    const o = dyRow + ow;
                    s0 += dy[o] * xv;
                    s1 += dy[o + P] * xv;
                    s2 += dy[o + 2 * P] * xv;
                    s3 += dy[o + 3 * P] * xv;
                  }
                }
                acc[t] += s0;
                acc[t + Cg * taps] += s1;
                acc[t + 2 * Cg * taps] += s2;
                acc[t + 3 * Cg * taps] += s3;
              } else {
                for (let b = 0; b < nb; b++) {
                  let s = 0;
                  for (let oh = rh[2 * ki]; oh < rh[2 * ki + 1]; oh++) {
                    const xRow = xPlane + (oh * sh + offH) * W + offW;
                    const dyRow = dyPlane + b * P + oh * OW;
                    for (let ow = owLo; ow < owHi; ow++) s += dy[dyRow + ow] * x[xRow + ow * sw];
                  }
                  acc[t + b * Cg * taps] += s;
                }
              }
            }
          }
        }
      }
    }
  }
  dw.set(acc);
  poisonWeightGrad(p, dy, dw, rh, rw); // 0·∞ in the padding (see conv-padding.ts)
}
