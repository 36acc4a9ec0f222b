// Reductions over the middle axis of a dense [outer, mid, inner] view: sum, max with
// argmax, softmax and log-softmax with their backwards. Every sum accumulates in
// float64. For inner > 1 the `inner` lane is the innermost loop, so memory is read
// in order and one float64 accumulator row serves the whole slice.
import type { F32, I32, ReduceParams } from '../types.js';

export function reduceSum(p: ReduceParams, x: F32, y: F32): void {
  const { outer, mid, inner } = p;
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    const base = o * mid * inner;
    for (let m = 0; m < mid; m++) {
      const row = base + m * inner;
      for (let i = 0; i < inner; i++) acc[i] += x[row + i];
    }
    y.set(acc, o * inner);
  }
}

/** Max over mid; argmax is the first winning mid index. A NaN wins (like torch.max) at its first occurrence. */
export function reduceMax(p: ReduceParams, x: F32, y: F32, argmax: I32): void {
  const { outer, mid, inner } = p;
  for (let o = 0; o < outer; o++) {
    const base = o * mid * inner;
    for (let i = 0; i < inner; i++) {
      let best = x[base + i];
      let at = 0;
      for (let m = 1; m < mid && best === best; m++) {
        const v = x[base + m * inner + i];
        if (v > best || v !== v) {
          best = v;
          at = m;
        }
      }
      y[o * inner + i] = best;
      argmax[o * inner + i] = at;
    }
  }
}

/** Per (outer, inner) lane: the max over mid, the shift that makes exp() safe. */
function laneMax(x: F32, base: number, mid: number, inner: number, out: Float64Array): void {
  out.fill(-Infinity);
  for (let m = 0; m < mid; m++) {
    const row = base + m * inner;
    for (let i = 0; i < inner; i++) if (x[row + i] > out[i] || x[row + i] !== x[row + i]) out[i] = x[row + i];
  }
}

export function softmax(p: ReduceParams, x: F32, y: F32): void {
  const { outer, mid, inner } = p;
  const mx = new Float64Array(inner);
  const sum = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * mid * inner;
    laneMax(x, base, mid, inner, mx);
    sum.fill(0);
    for (let m = 0; m < mid; m++) {
      const row = base + m * inner;
      for (let i = 0; i < inner; i++) sum[i] += Math.exp(x[row + i] - mx[i]);
    }
    for (let m = 0; m < mid; m++) {
      const row = base + m * inner;
      for (let i = 0; i < inner; i++) y[row + i] = Math.exp(x[row + i] - mx[i]) / sum[i];
    }
  }
}

export function logSoftmax(p: ReduceParams, x: F32, y: F32): void {
  const { outer, mid, inner } = p;
  const mx = new Float64Array(inner);
  const lse = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * mid * inner;
    laneMax(x, base, mid, inner, mx);
    lse.fill(0);
    for (let m = 0; m < mid; m++) {
      const row = base + m * inner;
      for (let i = 0; i < inner; i++) lse[i] += Math.exp(x[row + i] - mx[i]);
    }
    for (let i = 0; i < inner; i++) lse[i] = mx[i] + Math.log(lse[i]);
    for (let m = 0; m < mid; m++) {
      const row = base + m * inner;
      for (let i = 0; i < inner; i++) y[row + i] = x[row + i] - lse[i];
    }
  }
}

/** dx = y · (dy − Σ_mid dy·y). */
export function softmaxBackward(p: ReduceParams, y: F32, dy: F32, dx: F32): void {
  const { outer, mid, inner } = p;
  const dot = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * mid * inner;
    dot.fill(0);
    for (let m = 0; m < mid; m++) {
      const row = base + m * inner;
      for (let i = 0; i < inner; i++) dot[i] += dy[row + i] * y[row + i];
    }
    for (let m = 0; m < mid; m++) {
      const row = base + m * inner;
      for (let i = 0; i < inner; i++) dx[row + i] = y[row + i] * (dy[row + i] - dot[i]);
    }
  }
}

/** dx = dy − exp(y) · Σ_mid dy, with y the log-probabilities. */
export function logSoftmaxBackward(p: ReduceParams, y: F32, dy: F32, dx: F32): void {
  const { outer, mid, inner } = p;
  const sum = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * mid * inner;
    sum.fill(0);
    for (let m = 0; m < mid; m++) {
      const row = base + m * inner;
      for (let i = 0; i < inner; i++) sum[i] += dy[row + i];
    }
    for (let m = 0; m < mid; m++) {
      const row = base + m * inner;
      for (let i = 0; i < inner; i++) dx[row + i] = dy[row + i] - Math.exp(y[row + i]) * sum[i];
    }
  }
}
