// The ts twin of the native inference linear layer (linearEval): x · wᵀ summed in float64,
// then the per-feature scale, shift and ReLU. It reads w itself; its "packed" weight is a
// plain copy of w that nothing reads.
import type { F32, LinearEvalParams } from '../types.js';

export function linearEvalPack(p: LinearEvalParams, w: F32, u: F32): void {
  u.fill(0);
  u.set(w.subarray(0, p.out * p.in));
}

export function linearEval(p: LinearEvalParams & { relu: boolean }, x: F32, w: F32, _u: F32, scale: F32 | null, shift: F32 | null, y: F32): void {
  for (let n = 0; n < p.N; n++) {
    const xo = n * p.in;
    for (let o = 0; o < p.out; o++) {
      const wo = o * p.in;
      let s = 0;
      for (let k = 0; k < p.in; k++) s += x[xo + k] * w[wo + k];
      let v = Math.fround(s);
      if (scale) v = Math.fround(v * scale[o]);
      if (shift) v = Math.fround(v + shift[o]);
      y[n * p.out + o] = p.relu && v < 0 ? 0 : v;
    }
  }
}
