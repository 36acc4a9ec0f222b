// Batch and group normalisation: statistics, the affine apply, and the gradients.
//
// Statistics use two passes (mean, then Σ(x − mean)²) with float64 accumulation:
// E[x²] − E[x]² cancels catastrophically for inputs with a large mean, which image
// intensities and post-ReLU activations often have.
import type { ChannelParams, F32, GroupNormParams } from '../types.js';

/** Per-channel mean and biased variance over N × HW. */
export function batchNormStats(p: ChannelParams, x: F32, mean: F32, variance: F32): void {
  const { N, C, HW } = p;
  const count = N * HW;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) s += x[base + i];
    }
    const mu = s / count;
    let ss = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) {
        const d = x[base + i] - mu;
        ss += d * d;
      }
    }
    mean[c] = mu;
    variance[c] = ss / count;
  }
}

export function batchNormApply(
  p: ChannelParams,
  x: F32,
  mean: F32,
  invstd: F32,
  gamma: F32 | null,
  beta: F32 | null,
  y: F32,
): void {
  const { N, C, HW } = p;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * HW;
      const mu = mean[c];
      const scale = invstd[c] * (gamma ? gamma[c] : 1);
      const shift = beta ? beta[c] : 0;
      for (let i = 0; i < HW; i++) y[base + i] = (x[base + i] - mu) * scale + shift;
    }
  }
}

/**
 * batchNormApply then ReLU, element by element with the same arithmetic, so its values are
 * exactly those of the two kernels in sequence (NaN passes through, as in relu). In place
 * (y = x) is fine: each element is read before it is written.
 */
export function batchNormApplyRelu(
  p: ChannelParams,
  x: F32,
  mean: F32,
  invstd: F32,
  gamma: F32 | null,
  beta: F32 | null,
  y: F32,
): void {
  batchNormApply(p, x, mean, invstd, gamma, beta, y);
  const n = p.N * p.C * p.HW;
  for (let i = 0; i < n; i++) if (!(y[i] > 0) && y[i] === y[i]) y[i] = 0;
}

/**
 * With x̂ = (x − mean)·invstd and per-channel sums over the M = N·HW elements:
 *   dbeta = Σ dy, dgamma = Σ dy·x̂,
 *   training: dx = gamma·invstd · (dy − dbeta/M − x̂·dgamma/M)
 *   eval:     dx = gamma·invstd · dy
 */
export function batchNormBackward(
  p: ChannelParams & { training: boolean },
  x: F32,
  dy: F32,
  mean: F32,
  invstd: F32,
  gamma: F32 | null,
  dx: F32,
  dgamma: F32 | null,
  dbeta: F32 | null,
): void {
  const { N, C, HW, training } = p;
  const M = N * HW;
  for (let c = 0; c < C; c++) {
    const mu = mean[c];
    const is = invstd[c];
    let sumDy = 0;
    let sumDyXmu = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) {
        sumDy += dy[base + i];
        sumDyXmu += dy[base + i] * (x[base + i] - mu);
      }
    }
    // PyTorch's order: dgamma = Σ dy·(x − mean) · invstd (invstd applied once, outside the sum).
    const sumDyXhat = sumDyXmu * is;
    if (dbeta) dbeta[c] = sumDy;
    if (dgamma) dgamma[c] = sumDyXhat;
    const k = is * (gamma ? gamma[c] : 1);
    if (!training) {
      // Eval mode is exactly dx = γ·invstd·dy (no 0·x̂ term for an infinite x to make NaN).
      for (let n = 0; n < N; n++) {
        const base = (n * C + c) * HW;
        for (let i = 0; i < HW; i++) dx[base + i] = k * dy[base + i];
      }
      continue;
    }
    const meanDy = sumDy / M;
    const meanDyXhat = sumDyXhat / M;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) {
        const xhat = (x[base + i] - mu) * is;
        dx[base + i] = k * (dy[base + i] - meanDy - xhat * meanDyXhat);
      }
    }
  }
}

/** Statistics per (n, g) over the group's C/G channels × HW; mean and invstd are [N, G]. */
export function groupNormForward(
  p: GroupNormParams,
  x: F32,
  gamma: F32 | null,
  beta: F32 | null,
  y: F32,
  mean: F32,
  invstd: F32,
): void {
  const { N, C, HW, G, eps } = p;
  const Cg = C / G;
  const count = Cg * HW;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      // A group's channels are contiguous: one run of Cg·HW values.
      const base = (n * C + g * Cg) * HW;
      let s = 0;
      for (let i = 0; i < count; i++) s += x[base + i];
      const mu = s / count;
      let ss = 0;
      for (let i = 0; i < count; i++) {
        const d = x[base + i] - mu;
        ss += d * d;
      }
      const is = 1 / Math.sqrt(ss / count + eps);
      mean[n * G + g] = mu;
      invstd[n * G + g] = is;
      for (let cl = 0; cl < Cg; cl++) {
        const c = g * Cg + cl;
        const scale = is * (gamma ? gamma[c] : 1);
        const shift = beta ? beta[c] : 0;
        const row = base + cl * HW;
        for (let i = 0; i < HW; i++) y[row + i] = (x[row + i] - mu) * scale + shift;
      }
    }
  }
}

/**
 * Per (n, g), with ĝ = dy·gamma_c and x̂ = (x − mean)·invstd over the group's M elements:
 *   dx = invstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ·x̂));
 * per channel over n and HW: dgamma = Σ dy·x̂, dbeta = Σ dy.
 */
export function groupNormBackward(
  p: GroupNormParams,
  x: F32,
  dy: F32,
  mean: F32,
  invstd: F32,
  gamma: F32 | null,
  dx: F32,
  dgamma: F32 | null,
  dbeta: F32 | null,
): void {
  const { N, C, HW, G } = p;
  const Cg = C / G;
  const count = Cg * HW;
  const dg = new Float64Array(C);
  const db = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const base = (n * C + g * Cg) * HW;
      const mu = mean[n * G + g];
      const is = invstd[n * G + g];
      let sumG = 0;
      let sumGXhat = 0;
      for (let cl = 0; cl < Cg; cl++) {
        const c = g * Cg + cl;
        const gm = gamma ? gamma[c] : 1;
        const row = base + cl * HW;
        let sDy = 0;
        let sDyXhat = 0;
        for (let i = 0; i < HW; i++) {
          const xhat = (x[row + i] - mu) * is;
          sDy += dy[row + i];
          sDyXhat += dy[row + i] * xhat;
        }
        db[c] += sDy;
        dg[c] += sDyXhat;
        sumG += gm * sDy;
        sumGXhat += gm * sDyXhat;
      }
      const meanG = sumG / count;
      const meanGXhat = sumGXhat / count;
      for (let cl = 0; cl < Cg; cl++) {
        const c = g * Cg + cl;
        const gm = gamma ? gamma[c] : 1;
        const row = base + cl * HW;
        for (let i = 0; i < HW; i++) {
          const xhat = (x[row + i] - mu) * is;
          dx[row + i] = is * (gm * dy[row + i] - meanG - xhat * meanGXhat);
        }
      }
    }
  }
  if (dgamma) dgamma.set(dg.subarray(0, C));
  if (dbeta) dbeta.set(db.subarray(0, C));
}
