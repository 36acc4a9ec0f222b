// PatchCore's approximate greedy coreset: the projection and farthest-point selection.
// Every value is computed with the native kernel's float32 operations in the same order
// (Math.fround after each multiply and add; the native code uses no fused multiply-add),
// so both backends produce the same bits and select the same points.
import type { CoresetParams, CoresetProjectParams, F32, I32, U16 } from '../types.js';
import { halfToFloat } from './half.js';

const f = Math.fround;

/**
 * Σ (a − b)² over d values in float32, in the native kernel's order: 16 lane sums (lane l
 * takes t ≡ l mod 16 over full 16-blocks, then one 8-block into lanes 0–7), v_l = s_l + s_{l+8},
 * h_l = v_l + v_{l+4}, s = (h0 + h2) + (h1 + h3), then the remaining t one by one.
 */
export function coresetSqDist(x: F32, a: number, b: number, d: number, lanes = new Float32Array(16)): number {
  lanes.fill(0);
  let t = 0;
  for (; t + 16 <= d; t += 16)
    for (let l = 0; l < 16; l++) {
      const e = f(x[a + t + l] - x[b + t + l]);
      lanes[l] = lanes[l] + f(e * e);
    }
  if (t + 8 <= d) {
    for (let l = 0; l < 8; l++) {
      const e = f(x[a + t + l] - x[b + t + l]);
      lanes[l] = lanes[l] + f(e * e);
    }
    t += 8;
  }
  const h0 = f(f(lanes[0] + lanes[8]) + f(lanes[4] + lanes[12]));
  const h1 = f(f(lanes[1] + lanes[9]) + f(lanes[5] + lanes[13]));
  const h2 = f(f(lanes[2] + lanes[10]) + f(lanes[6] + lanes[14]));
  const h3 = f(f(lanes[3] + lanes[11]) + f(lanes[7] + lanes[15]));
  let s = f(f(h0 + h2) + f(h1 + h3));
  for (; t < d; t++) {
    const e = f(x[a + t] - x[b + t]);
    s = f(s + f(e * e));
  }
  return s;
}

/**
 * 1. starts > 0: minDist[i] = (mean over the start points s of √dist(i, s))² (official
 *    PatchCore: the mean Euclidean distance to 10 random points; they are not selected).
 * 2. m times: fold the newest centre into minDist (running minimum; none before the first
 *    pick unless p.newest ≥ 0), then pick the farthest point, first index on ties; it is
 *    selected and becomes the newest centre. The last pick is not folded in (a later call
 *    continues with it as p.newest).
 */
export function coresetGreedy(p: CoresetParams, points: F32, startIndices: I32, minDist: F32, selected: I32): void {
  const { n, d, m, starts } = p;
  if (n <= 0) return;
  const lanes = new Float32Array(16);
  if (starts > 0) {
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let s = 0; s < starts; s++) acc = f(acc + f(Math.sqrt(coresetSqDist(points, i * d, startIndices[s] * d, d, lanes))));
      const mean = f(acc / starts);
      minDist[i] = f(mean * mean);
    }
  }
  let newest = p.newest;
  for (let s = 0; s < m; s++) {
    let best = -Infinity;
    let pick = 0;
    for (let i = 0; i < n; i++) {
      let v = minDist[i];
      if (newest >= 0) {
        const dd = coresetSqDist(points, i * d, newest * d, d, lanes);
        if (dd < v) minDist[i] = v = dd;
      }
      if (v > best) {
        best = v;
        pick = i;
      }
    }
    selected[s] = pick;
    newest = pick;
  }
}

/**
 * coresetGreedy on half-precision points: the native kernel converts each half to float32
 * (exactly) and then runs the same arithmetic, so this is coresetGreedy on the decoded values.
 */
export function coresetGreedyHalf(p: CoresetParams, points: U16, startIndices: I32, minDist: F32, selected: I32): void {
  const values = new Float32Array(p.n * p.d);
  halfToFloat({ n: values.length }, points, values);
  coresetGreedy(p, values, startIndices, minDist, selected);
}

/** y[i, j] = Σ_t x[i, t]·wt[t, j] in float32, t ascending, each product and sum rounded. */
export function coresetProject(p: CoresetProjectParams, x: F32, wt: F32, y: F32): void {
  const { n, d, e } = p;
  const acc = new Float32Array(e);
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    for (let t = 0; t < d; t++) {
      const xv = x[i * d + t];
      const w = t * e;
      for (let j = 0; j < e; j++) acc[j] = acc[j] + f(xv * wt[w + j]);
    }
    y.set(acc, i * e);
  }
}
