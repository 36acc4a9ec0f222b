// Cosine distance over the middle axis of [outer, mid, inner]: the twin of
// native/cpu/cosine.cc, the same float64 operations in the same order (8 interleaved lanes
// per chunk of COSINE_CHUNK when inner = 1, one running sum per i otherwise), hence the same
// bits.
import type { CosineParams, F32 } from '../types.js';

/** Elements of mid summed per partial when inner = 1 (native kCosineChunk). */
export const COSINE_CHUNK = 32768;

function finish(dot: number, sa: number, sb: number, eps: number, d: F32, stats: F32, k: number): void {
  const na = Math.max(Math.sqrt(sa), eps);
  const nb = Math.max(Math.sqrt(sb), eps);
  const c = dot / (na * nb);
  d[k] = 1 - c;
  stats[3 * k] = c;
  stats[3 * k + 1] = na;
  stats[3 * k + 2] = nb;
}

export function cosineDistance(p: CosineParams, a: F32, b: F32, d: F32, stats: F32): void {
  const { outer: O, mid: M, inner: I, eps } = p;
  if (O === 0 || I === 0) return;
  if (I === 1) {
    const chunks = Math.max(1, Math.ceil(M / COSINE_CHUNK));
    const dot = new Float64Array(8), sa = new Float64Array(8), sb = new Float64Array(8);
    for (let o = 0; o < O; o++) {
      let t0 = 0, t1 = 0, t2 = 0;
      for (let c = 0; c < chunks; c++) {
        const m0 = o * M + c * COSINE_CHUNK;
        const n = Math.min(COSINE_CHUNK, M - c * COSINE_CHUNK);
        dot.fill(0);
        sa.fill(0);
        sb.fill(0);
        let m = 0;
        for (; m + 8 <= n; m += 8) {
          for (let j = 0; j < 8; j++) {
            const x = a[m0 + m + j], y = b[m0 + m + j];
            dot[j] += x * y;
            sa[j] += x * x;
            sb[j] += y * y;
          }
        }
        let s0 = 0, s1 = 0, s2 = 0;
        for (let j = 0; j < 8; j++) {
          s0 += dot[j];
          s1 += sa[j];
          s2 += sb[j];
        }
        for (; m < n; m++) {
          const x = a[m0 + m], y = b[m0 + m];
          s0 += x * y;
          s1 += x * x;
          s2 += y * y;
        }
        t0 += s0;
        t1 += s1;
        t2 += s2;
      }
      finish(t0, t1, t2, eps, d, stats, o);
    }
    return;
  }
  const dot = new Float64Array(I), sa = new Float64Array(I), sb = new Float64Array(I);
  for (let o = 0; o < O; o++) {
    dot.fill(0);
    sa.fill(0);
    sb.fill(0);
    for (let m = 0; m < M; m++) {
      const row = (o * M + m) * I;
      for (let i = 0; i < I; i++) {
        const x = a[row + i], y = b[row + i];
        dot[i] += x * y;
        sa[i] += x * x;
        sb[i] += y * y;
      }
    }
    for (let i = 0; i < I; i++) finish(dot[i], sa[i], sb[i], eps, d, stats, o * I + i);
  }
}

export function cosineDistanceBackward(p: CosineParams, a: F32, b: F32, stats: F32, dd: F32, da: F32 | null, db: F32 | null): void {
  const { outer: O, mid: M, inner: I } = p;
  if (O === 0 || I === 0 || M === 0 || (!da && !db)) return;
  // Per (o, i): kx = −dd/(n_a·n_b) multiplies the other argument, ka = dd·cos/n_a², kb = dd·cos/n_b².
  const n = O * I;
  const kx = new Float64Array(n), ka = new Float64Array(n), kb = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const g = dd[k], c = stats[3 * k], na = stats[3 * k + 1], nb = stats[3 * k + 2];
    kx[k] = -g / (na * nb);
    ka[k] = (g * c) / (na * na);
    kb[k] = (g * c) / (nb * nb);
  }
  for (let o = 0; o < O; o++) {
    for (let m = 0; m < M; m++) {
      const row = (o * M + m) * I;
      const base = o * I;
      for (let i = 0; i < I; i++) {
        const x = kx[base + i], ai = a[row + i], bi = b[row + i];
        if (da) da[row + i] = x * bi + ka[base + i] * ai;
        if (db) db[row + i] = x * ai + kb[base + i] * bi;
      }
    }
  }
}
