// The ts twin of the native inference path for 4×4 stride-2 convs (conv2dEval): the exact
// direct convolution (conv2d, or conv2dBackwardInput for the transposed layer) followed by
// the per-channel scale, shift and ReLU. Its "packed" filters are a plain copy of w.
import type { Conv2dParams, F32 } from '../types.js';
import { conv2d, conv2dBackwardInput } from './conv.js';

function checkGeometry(p: Conv2dParams, kernel: string): void {
  const ok = p.kh === 4 && p.kw === 4 && p.sh === 2 && p.sw === 2 && p.ph === 1 && p.pw === 1 && p.dh === 1 && p.dw === 1 && p.groups === 1;
  if (!ok) throw new RangeError(`${kernel}: only 4×4 kernels with stride 2, padding 1, dilation 1 and groups 1`);
}

export function conv2dEvalPack(p: Conv2dParams & { transposed: boolean }, w: F32, u: F32): void {
  checkGeometry(p, 'conv2dEvalPack');
  u.fill(0);
  u.set(w);
}

export function conv2dEval(p: Conv2dParams & { transposed: boolean; relu: boolean }, x: F32, _w: F32, u: F32, scale: F32 | null, shift: F32 | null, y: F32): void {
  checkGeometry(p, 'conv2dEval');
  const w = u.subarray(0, p.K * p.C * 16);
  if (p.transposed) conv2dBackwardInput(p, x, w, y);
  else conv2d(p, x, w, null, y);
  const [N, K, P] = p.transposed ? [p.N, p.C, p.H * p.W] : [p.N, p.K, p.OH * p.OW];
  if (!scale && !shift && !p.relu) return;
  for (let n = 0; n < N; n++)
    for (let k = 0; k < K; k++) {
      const s = scale ? scale[k] : 1;
      const b = shift ? shift[k] : 0;
      const o = (n * K + k) * P;
      for (let i = o; i < o + P; i++) {
        let v = y[i];
        if (scale) v = Math.fround(v * s);
        if (shift) v = Math.fround(v + b);
        y[i] = p.relu && v < 0 ? 0 : v;
      }
    }
}
