// Cosine distances between teacher and student feature maps, the quantity every
// reverse-distillation method trains on and maps with (hq-deng/RD4AD `main.py
// loss_fucntion`, `test.py cal_anomaly_map`; the same in RD++, ReContrast and anomalib):
//
// - global: g(b) = 1 − cos(vec a_b, vec b_b), vec flattening C·H·W of one sample (the loss);
// - pixel:  d(b, h, w) = 1 − cos(a[b, :, h, w], b[b, :, h, w]), cosine over channels (the map).
//
// PyTorch's F.cosine_similarity (eps 1e-8): each vector is divided by max(‖v‖, eps) and the
// quotients' dot product taken; its gradient uses the clamped norm n = max(‖v‖, eps) with
// ∂n/∂v = v/n (the clamp is applied in place after the norm, so autograd differentiates the
// norm and reads the clamped value). Hence, with c = cos:
//   ∂c/∂a = b/(n_a·n_b) − c·a/n_a²,   ∂c/∂b = a/(n_a·n_b) − c·b/n_b².
// Both are one autograd node each: the dot product and the two squared norms are summed in
// float64 in one pass over the inputs, and the backward pass is one more.
import { record, Tensor } from '../../engine/index.js';

/** PyTorch's default eps of F.cosine_similarity. */
export const COSINE_EPS = 1e-8;

function check(op: string, a: Tensor, b: Tensor, minRank: number): void {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new TypeError(`${op}: both arguments must be Tensors`);
  if (a.ndim < minRank) throw new RangeError(`${op}: inputs need at least ${minRank} dims, got [${a.shape.join(', ')}]`);
  if (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`${op}: the two maps differ in shape: [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`);
  }
}

/**
 * 1 − cos between a and b viewed as [outer, k, inner], the cosine taken over k for each
 * (outer, inner) pair; returns the distances [outer·inner] with the saved per-pair values.
 */
function forward(a: Float32Array, b: Float32Array, outer: number, k: number, inner: number, eps: number) {
  const n = outer * inner;
  const out = new Float32Array(n);
  const cos = new Float64Array(n);
  const na = new Float64Array(n);
  const nb = new Float64Array(n);
  const dot = new Float64Array(inner);
  const sa = new Float64Array(inner);
  const sb = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    dot.fill(0);
    sa.fill(0);
    sb.fill(0);
    const base = o * k * inner;
    for (let c = 0; c < k; c++) {
      const row = base + c * inner;
      for (let p = 0; p < inner; p++) {
        const x = a[row + p];
        const y = b[row + p];
        dot[p] += x * y;
        sa[p] += x * x;
        sb[p] += y * y;
      }
    }
    for (let p = 0; p < inner; p++) {
      const i = o * inner + p;
      const ra = Math.max(Math.sqrt(sa[p]), eps);
      const rb = Math.max(Math.sqrt(sb[p]), eps);
      const c = dot[p] / (ra * rb);
      na[i] = ra;
      nb[i] = rb;
      cos[i] = c;
      out[i] = 1 - c;
    }
  }
  return { out, cos, na, nb };
}

/** Gradient of Σ g·(1 − cos) with respect to `x` (the other argument `y`), shape as x. */
function backward(g: Float32Array, x: Float32Array, y: Float32Array, nx: Float64Array, ny: Float64Array, cos: Float64Array, outer: number, k: number, inner: number): Float32Array {
  const dx = new Float32Array(x.length);
  const cy = new Float64Array(inner);
  const cx = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    for (let p = 0; p < inner; p++) {
      const i = o * inner + p;
      // d(1 − c)/dx = −y/(n_x n_y) + c·x/n_x²
      cy[p] = -g[i] / (nx[i] * ny[i]);
      cx[p] = (g[i] * cos[i]) / (nx[i] * nx[i]);
    }
    const base = o * k * inner;
    for (let c = 0; c < k; c++) {
      const row = base + c * inner;
      for (let p = 0; p < inner; p++) dx[row + p] = cy[p] * y[row + p] + cx[p] * x[row + p];
    }
  }
  return dx;
}

function cosineDistance(op: string, a: Tensor, b: Tensor, outer: number, k: number, inner: number, outShape: number[], eps: number): Tensor {
  const { out, cos, na, nb } = forward(a.data, b.data, outer, k, inner, eps);
  const y = Tensor.fromData(out, outShape);
  return record(y, op, [a, b], (g, needs) => [
    needs[0] ? Tensor.fromData(backward(g.data, a.data, b.data, na, nb, cos, outer, k, inner), a.shape) : null,
    needs[1] ? Tensor.fromData(backward(g.data, b.data, a.data, nb, na, cos, outer, k, inner), b.shape) : null,
  ]);
}

/** [B] = 1 − cos(vec a_b, vec b_b) over everything but dim 0; differentiable in both arguments. */
export function globalCosineDistance(a: Tensor, b: Tensor, eps = COSINE_EPS): Tensor {
  check('globalCosineDistance', a, b, 1);
  const B = a.shape[0];
  const k = B === 0 ? 0 : a.size / B;
  return cosineDistance('globalCosineDistance', a, b, B, k, 1, [B], eps);
}

/** [B, 1, H, W] = 1 − cos over channels (dim 1) of [B, C, H, W] maps; differentiable in both arguments. */
export function pixelCosineDistance(a: Tensor, b: Tensor, eps = COSINE_EPS): Tensor {
  check('pixelCosineDistance', a, b, 4);
  if (a.ndim !== 4) throw new RangeError(`pixelCosineDistance: inputs must be [B, C, H, W], got [${a.shape.join(', ')}]`);
  const [B, C, H, W] = a.shape;
  return cosineDistance('pixelCosineDistance', a, b, B, C, H * W, [B, 1, H, W], eps);
}
