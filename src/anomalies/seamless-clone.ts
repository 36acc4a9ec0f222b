// Poisson image blending with OpenCV's seamlessClone semantics (NORMAL_CLONE / MIXED_CLONE):
// the reference's PII and NSA paste patches with cv2.seamlessClone(..., MIXED_CLONE).
//
// Arguments mean what OpenCV's do: `src` holds the patch, `mask` (one uint8 channel, src's
// size, non-zero = inside; its outer 1-pixel frame is ignored) selects it, and `center` is
// where the centre of the mask's bounding box lands in `dst`: the box's top-left corner goes to
// (center.x − ⌊w/2⌋, center.y − ⌊h/2⌋). The whole bounding box is re-solved (its 1-pixel frame
// keeps dst's values); the guidance field is src's gradients (normal) or, per pixel and
// channel, OpenCV's choice between src's and dst's (mixed), weighted by the mask eroded by
// 3 pixels over 255. src/engine/ops/poisson.ts lists every rule and the two deviations.
//
// Solver: conjugate gradient with a multigrid V-cycle preconditioner (kernel poissonSolve,
// native or ts), float64, stopped at relative residual ‖b − A·u‖₂ ≤ 1e-8·‖b‖₂ (OpenCV solves
// the same equations exactly in float32 by a DST). Measured against cv2 4.6 on 10 fixture
// cases: mean absolute difference over the box ≤ 0.002 grey levels, max 1 (a value within
// float32 rounding of an integer, truncated the other way) — test/anomalies/seamless-clone.test.ts.
// Speed at 224 px (bench/poisson.ts, 2-vCPU VM): about OpenCV's (0.7–1.4×) on the native kernel.
//
// Types: uint8 images (0–255) give uint8 results, clamped and truncated as OpenCV does.
// Float32 images (0–1) are solved as the same picture (the equations are linear) and the
// result is clamped to [0, 1] without quantisation. Grey (1 channel) is solved as OpenCV
// solves each channel of a colour image. A box that leaves dst is a RangeError (OpenCV
// asserts); a box under 3 pixels wide or high has no interior and returns a copy of dst.
import { seamlessClone as seamlessCloneOp, type CloneMode, type PoissonSolveOptions } from '../engine/ops/poisson.js';
import { checkImage, type PixelImage } from './image.js';

export type SeamlessCloneMode = CloneMode;

export interface SeamlessCloneDetails {
  image: PixelImage;
  /** The re-solved rectangle in dst (width 0 when nothing was solved). */
  roi: { x: number; y: number; width: number; height: number };
  /** [channels, roi.height, roi.width] float64 solution before clamping and rounding, on the image's own scale. */
  solution: Float64Array;
  /** [channels, roi.height, roi.width] the equations' right-hand side (divergence of the guidance field). */
  rhs: Float64Array;
  iterations: number[];
  /** Final relative residual ‖b − A·u‖₂ / ‖b‖₂ per channel. */
  residuals: number[];
}

/** seamlessClone with the float solution, rectangle, residuals and iteration counts. */
export function seamlessCloneDetailed(
  src: PixelImage,
  dst: PixelImage,
  mask: PixelImage,
  center: { x: number; y: number },
  mode: SeamlessCloneMode,
  options: PoissonSolveOptions = {},
): SeamlessCloneDetails {
  const who = 'seamlessClone';
  checkImage(src, who, 'src');
  checkImage(dst, who, 'dst');
  checkImage(mask, who, 'mask');
  const r = seamlessCloneOp(src, dst, mask, center, mode, options);
  let data = r.data;
  if (data instanceof Float32Array) {
    for (let k = 0; k < data.length; k++) data[k] = data[k] < 0 ? 0 : data[k] > 1 ? 1 : data[k];
  }
  data = data as Uint8Array | Float32Array;
  return {
    image: { width: dst.width, height: dst.height, channels: dst.channels, data },
    roi: r.roi,
    solution: r.solution,
    rhs: r.rhs,
    iterations: r.iterations,
    residuals: r.residuals,
  };
}

/**
 * cv2.seamlessClone(src, dst, mask, (center.x, center.y), NORMAL_CLONE | MIXED_CLONE): a new
 * image of dst's size and type with src's masked patch blended in by Poisson editing.
 */
export function seamlessClone(
  src: PixelImage,
  dst: PixelImage,
  mask: PixelImage,
  center: { x: number; y: number },
  mode: SeamlessCloneMode,
): PixelImage {
  return seamlessCloneDetailed(src, dst, mask, center, mode).image;
}
