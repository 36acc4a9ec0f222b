// Zero padding as PyTorch defines it: the padded input exists, so a tap that lands in
// the padding still multiplies its zero. That only matters when the other factor is not
// finite (0·∞ = NaN, 0·NaN = NaN), and the main loops in conv.ts skip padded taps for
// speed; these passes put the NaNs back, touching only the non-finite values.
//   - forward: a non-finite weight tap poisons every output whose window puts that tap
//     in the padding;
//   - weight gradient: a non-finite output gradient poisons every tap that, for that
//     output pixel, reads the padding.
// The input gradient (and so the transposed conv) scatters only real output positions
// (col2im in PyTorch): no padded zero is multiplied there, and nothing to fix.
import type { Conv2dParams, F32 } from '../types.js';

/** True when the tap with range [lo, hi) of output positions misses the input at `o`. */
const outside = (r: Int32Array, t: number, o: number) => o < r[2 * t] || o >= r[2 * t + 1];

/** y[n, k, oh, ow] = NaN where a non-finite w[k, cl, ki, kj] reads the padding. */
export function poisonForward(p: Conv2dParams, w: F32, y: F32, rh: Int32Array, rw: Int32Array): void {
  const { N, C, K, OH, OW, kh, kw, groups } = p;
  const Cg = C / groups;
  const taps = kh * kw;
  const P = OH * OW;
  for (let k = 0; k < K; k++) {
    for (let cl = 0; cl < Cg; cl++) {
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          if (Number.isFinite(w[(k * Cg + cl) * taps + ki * kw + kj])) continue;
          for (let oh = 0; oh < OH; oh++) {
            const rowOut = outside(rh, ki, oh);
            for (let ow = 0; ow < OW; ow++) {
              if (!rowOut && !outside(rw, kj, ow)) continue;
              for (let n = 0; n < N; n++) y[(n * K + k) * P + oh * OW + ow] = NaN;
            }
          }
        }
      }
    }
  }
}

/** dw[k, cl, ki, kj] = NaN where a non-finite dy[n, k, oh, ow] meets a padded tap. */
export function poisonWeightGrad(p: Conv2dParams, dy: F32, dw: F32, rh: Int32Array, rw: Int32Array): void {
  const { N, C, K, OH, OW, kh, kw, groups } = p;
  const Cg = C / groups;
  const taps = kh * kw;
  const P = OH * OW;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      for (let o = 0; o < P; o++) {
        if (Number.isFinite(dy[(n * K + k) * P + o])) continue;
        const oh = Math.floor(o / OW);
        const ow = o - oh * OW;
        for (let ki = 0; ki < kh; ki++) {
          for (let kj = 0; kj < kw; kj++) {
            if (!outside(rh, ki, oh) && !outside(rw, kj, ow)) continue;
            for (let cl = 0; cl < Cg; cl++) dw[(k * Cg + cl) * taps + ki * kw + kj] = NaN;
          }
        }
      }
    }
  }
}
