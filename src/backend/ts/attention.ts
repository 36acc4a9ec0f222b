// Scaled dot-product attention: the twin of native/cpu/attention.cc, step for step (the
// products through the ts gemm, which sums in float64, so results agree with native within
// float32 rounding, not bit for bit).
import type { AttentionParams, F32, GemmParams } from '../types.js';
import { gemm } from './gemm.js';

function gp(M: number, N: number, K: number, transA: boolean, transB: boolean, alpha = 1): GemmParams {
  return { M, N, K, transA, transB, alpha, beta: 0 };
}

/**
 * Rows of w: w_j = exp(s_j − max s) / Σ exp(s − max s); the sum in 8 double lanes (element
 * j into lane j mod 8), the lanes added in order, then the tail (native: exp vectorised).
 */
function softmaxRows(s: F32, rows: number, n: number): void {
  const lane = new Float64Array(8);
  for (let i = 0; i < rows; i++) {
    const o = i * n;
    let m = s[o];
    for (let j = 1; j < n; j++) m = Math.max(m, s[o + j]);
    lane.fill(0);
    let j = 0;
    for (; j + 8 <= n; j += 8) {
      for (let l = 0; l < 8; l++) {
        const e = Math.fround(Math.exp(Math.fround(s[o + j + l] - m)));
        s[o + j + l] = e;
        lane[l] += e;
      }
    }
    let sum = 0;
    for (let l = 0; l < 8; l++) sum += lane[l];
    for (; j < n; j++) {
      const e = Math.fround(Math.exp(Math.fround(s[o + j] - m)));
      s[o + j] = e;
      sum += e;
    }
    const inv = Math.fround(1 / sum);
    for (let k = 0; k < n; k++) s[o + k] = s[o + k] * inv;
  }
}

export function attentionForward(p: AttentionParams, q: F32, k: F32, v: F32, out: F32, w: F32): void {
  const { batch: B, lq: Lq, lk: Lk, d: D, dv: Dv, scale } = p;
  if (B <= 0 || Lq <= 0) return;
  if (Lk <= 0) {
    out.fill(0, 0, B * Lq * Dv);
    return;
  }
  const scaleF = Math.fround(scale);
  for (let b = 0; b < B; b++) {
    const qb = q.subarray(b * Lq * D, (b + 1) * Lq * D);
    const kb = k.subarray(b * Lk * D, (b + 1) * Lk * D);
    const vb = v.subarray(b * Lk * Dv, (b + 1) * Lk * Dv);
    const wb = w.subarray(b * Lq * Lk, (b + 1) * Lq * Lk);
    gemm(gp(Lq, Lk, D, false, true, scaleF), qb, kb, wb); // S = scale · Q Kᵀ
    softmaxRows(wb, Lq, Lk);
    gemm(gp(Lq, Dv, Lk, false, false), wb, vb, out.subarray(b * Lq * Dv, (b + 1) * Lq * Dv)); // out = w V
  }
}

export function attentionBackward(p: AttentionParams, q: F32, k: F32, v: F32, w: F32, dout: F32, dq: F32 | null, dk: F32 | null, dv: F32 | null): void {
  const { batch: B, lq: Lq, lk: Lk, d: D, dv: Dv, scale } = p;
  if (B <= 0) return;
  if (Lq <= 0 || Lk <= 0) {
    dq?.fill(0, 0, B * Lq * D);
    dk?.fill(0, 0, B * Lk * D);
    dv?.fill(0, 0, B * Lk * Dv);
    return;
  }
  const scaleF = Math.fround(scale);
  const ds = dq || dk ? new Float32Array(Lq * Lk) : null;
  for (let b = 0; b < B; b++) {
    const qb = q.subarray(b * Lq * D, (b + 1) * Lq * D);
    const kb = k.subarray(b * Lk * D, (b + 1) * Lk * D);
    const vb = v.subarray(b * Lk * Dv, (b + 1) * Lk * Dv);
    const wb = w.subarray(b * Lq * Lk, (b + 1) * Lq * Lk);
    const gb = dout.subarray(b * Lq * Dv, (b + 1) * Lq * Dv);
    if (dv) gemm(gp(Lk, Dv, Lq, true, false), wb, gb, dv.subarray(b * Lk * Dv, (b + 1) * Lk * Dv)); // dv = wᵀ dout
    if (!ds) continue;
    gemm(gp(Lq, Lk, Dv, false, true), gb, vb, ds); // dw = dout Vᵀ
    for (let i = 0; i < Lq; i++) {
      // dS = scale · w ⊙ (dw − Σ_row dw ⊙ w)
      const o = i * Lk;
      let acc = 0;
      for (let j = 0; j < Lk; j++) acc += ds[o + j] * wb[o + j];
      const rs = Math.fround(acc);
      for (let j = 0; j < Lk; j++) ds[o + j] = Math.fround(scaleF * Math.fround(wb[o + j] * Math.fround(ds[o + j] - rs)));
    }
    if (dq) gemm(gp(Lq, D, Lk, false, false), ds, kb, dq.subarray(b * Lq * D, (b + 1) * Lq * D)); // dq = dS K
    if (dk) gemm(gp(Lk, D, Lq, true, false), ds, qb, dk.subarray(b * Lk * D, (b + 1) * Lk * D)); // dk = dSᵀ Q
  }
}
