// Cosine distances between teacher and student feature maps, the quantity every
// reverse-distillation method trains on and maps with (hq-deng/RD4AD `main.py
// loss_fucntion`, `test.py cal_anomaly_map`; the same in RD++, ReContrast and anomalib):
//
// - global: g(b) = 1 − cos(vec a_b, vec b_b), vec flattening C·H·W of one sample (the loss);
// - pixel:  d(b, h, w) = 1 − cos(a[b, :, h, w], b[b, :, h, w]), cosine over channels (the map).
//
// Both are the engine's cosineDistance (one kernel each way, native where built), which
// follows PyTorch's F.cosine_similarity (eps 1e-8): each norm clamped at eps, the gradient
// taken through the clamped norm as PyTorch does.
import { cosineDistance, COSINE_EPS, Tensor } from '../../engine/index.js';

export { COSINE_EPS };

function check(op: string, a: Tensor, b: Tensor, minRank: number): void {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new TypeError(`${op}: both arguments must be Tensors`);
  if (a.ndim < minRank) throw new RangeError(`${op}: inputs need at least ${minRank} dims, got [${a.shape.join(', ')}]`);
  if (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`${op}: the two maps differ in shape: [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`);
  }
}

/** [B] = 1 − cos(vec a_b, vec b_b) over everything but dim 0; differentiable in both arguments. */
export function globalCosineDistance(a: Tensor, b: Tensor, eps = COSINE_EPS): Tensor {
  check('globalCosineDistance', a, b, 1);
  const B = a.shape[0];
  const k = B === 0 ? 0 : a.size / B;
  return cosineDistance(a.reshape([B, k]), b.reshape([B, k]), 1, eps);
}

/** [B, 1, H, W] = 1 − cos over channels (dim 1) of [B, C, H, W] maps; differentiable in both arguments. */
export function pixelCosineDistance(a: Tensor, b: Tensor, eps = COSINE_EPS): Tensor {
  check('pixelCosineDistance', a, b, 4);
  if (a.ndim !== 4) throw new RangeError(`pixelCosineDistance: inputs must be [B, C, H, W], got [${a.shape.join(', ')}]`);
  const [B, , H, W] = a.shape;
  return cosineDistance(a, b, 1, eps).reshape([B, 1, H, W]);
}
