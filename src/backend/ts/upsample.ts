// Bilinear and nearest upsampling with PyTorch's exact index arithmetic.
//
// PyTorch computes source coordinates in float32 for float32 tensors; the tables
// below do the same (Math.fround after every operation), so that a coordinate like
// floor(dst · scale) lands on the same pixel as PyTorch's even when dst · scale is
// within float32 rounding of an integer.
import type { F32, Upsample2dParams } from '../types.js';

const f32 = Math.fround;

/** Bilinear taps along one axis: for each destination index, the two source indices and weights. */
interface LinearTaps {
  i0: Int32Array;
  i1: Int32Array;
  l0: Float32Array;
  l1: Float32Array;
}

/**
 * align_corners = true:  src = dst · (in − 1)/(out − 1)  (0 when out = 1)
 * align_corners = false: src = max(0, (dst + 0.5) · scale − 0.5), scale = in/out or 1/scale_factor
 */
function linearTaps(inSize: number, outSize: number, alignCorners: boolean, scale: number): LinearTaps {
  const t: LinearTaps = {
    i0: new Int32Array(outSize),
    i1: new Int32Array(outSize),
    l0: new Float32Array(outSize),
    l1: new Float32Array(outSize),
  };
  const s = alignCorners ? (outSize > 1 ? f32((inSize - 1) / (outSize - 1)) : 0) : f32(scale);
  for (let d = 0; d < outSize; d++) {
    let src: number;
    if (alignCorners) src = f32(s * d);
    else {
      src = f32(f32(s * f32(d + 0.5)) - 0.5);
      if (src < 0) src = 0;
    }
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
    const l1 = f32(src - i0);
    t.i0[d] = i0;
    t.i1[d] = i1;
    t.l1[d] = l1;
    t.l0[d] = f32(1 - l1);
  }
  return t;
}

/**
 * Nearest source index per destination: min(floor(dst · scale), in − 1), in float32 like
 * PyTorch, including its two exact shortcuts (same size: identity; double size: dst/2),
 * which win over the scale even when a user-given scale factor disagrees slightly.
 */
function nearestTaps(inSize: number, outSize: number, scale: number): Int32Array {
  const t = new Int32Array(outSize);
  const s = f32(scale);
  for (let d = 0; d < outSize; d++) {
    if (outSize === inSize) t[d] = d;
    else if (outSize === 2 * inSize) t[d] = d >> 1;
    else t[d] = Math.min(Math.floor(f32(d * s)), inSize - 1);
  }
  return t;
}

export function upsampleBilinear2d(p: Upsample2dParams, x: F32, y: F32): void {
  const { N, C, H, W, OH, OW, alignCorners, scaleH, scaleW } = p;
  const th = linearTaps(H, OH, alignCorners, scaleH);
  const tw = linearTaps(W, OW, alignCorners, scaleW);
  for (let nc = 0; nc < N * C; nc++) {
    const xPlane = nc * H * W;
    const yPlane = nc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const r0 = xPlane + th.i0[oh] * W;
      const r1 = xPlane + th.i1[oh] * W;
      const a0 = th.l0[oh];
      const a1 = th.l1[oh];
      const yRow = yPlane + oh * OW;
      for (let ow = 0; ow < OW; ow++) {
        const c0 = tw.i0[ow];
        const c1 = tw.i1[ow];
        const b0 = tw.l0[ow];
        const b1 = tw.l1[ow];
        y[yRow + ow] = a0 * (b0 * x[r0 + c0] + b1 * x[r0 + c1]) + a1 * (b0 * x[r1 + c0] + b1 * x[r1 + c1]);
      }
    }
  }
}

export function upsampleBilinear2dBackward(p: Upsample2dParams, dy: F32, dx: F32): void {
  const { N, C, H, W, OH, OW, alignCorners, scaleH, scaleW } = p;
  const th = linearTaps(H, OH, alignCorners, scaleH);
  const tw = linearTaps(W, OW, alignCorners, scaleW);
  const acc = new Float64Array(H * W);
  for (let nc = 0; nc < N * C; nc++) {
    acc.fill(0);
    const yPlane = nc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const r0 = th.i0[oh] * W;
      const r1 = th.i1[oh] * W;
      const a0 = th.l0[oh];
      const a1 = th.l1[oh];
      const yRow = yPlane + oh * OW;
      for (let ow = 0; ow < OW; ow++) {
        const g = dy[yRow + ow];
        const c0 = tw.i0[ow];
        const c1 = tw.i1[ow];
        const b0 = tw.l0[ow];
        const b1 = tw.l1[ow];
        acc[r0 + c0] += a0 * b0 * g;
        acc[r0 + c1] += a0 * b1 * g;
        acc[r1 + c0] += a1 * b0 * g;
        acc[r1 + c1] += a1 * b1 * g;
      }
    }
    dx.set(acc, nc * H * W);
  }
}

export function upsampleNearest2d(p: Upsample2dParams, x: F32, y: F32): void {
  const { N, C, H, W, OH, OW, scaleH, scaleW } = p;
  const rows = nearestTaps(H, OH, scaleH);
  const cols = nearestTaps(W, OW, scaleW);
  for (let nc = 0; nc < N * C; nc++) {
    const xPlane = nc * H * W;
    const yPlane = nc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const xRow = xPlane + rows[oh] * W;
      const yRow = yPlane + oh * OW;
      for (let ow = 0; ow < OW; ow++) y[yRow + ow] = x[xRow + cols[ow]];
    }
  }
}

export function upsampleNearest2dBackward(p: Upsample2dParams, dy: F32, dx: F32): void {
  const { N, C, H, W, OH, OW, scaleH, scaleW } = p;
  const rows = nearestTaps(H, OH, scaleH);
  const cols = nearestTaps(W, OW, scaleW);
  const acc = new Float64Array(H * W);
  for (let nc = 0; nc < N * C; nc++) {
    acc.fill(0);
    const yPlane = nc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const aRow = rows[oh] * W;
      const yRow = yPlane + oh * OW;
      for (let ow = 0; ow < OW; ow++) acc[aRow + cols[ow]] += dy[yRow + ow];
    }
    dx.set(acc, nc * H * W);
  }
}
