// Poisson image blending: OpenCV's seamlessClone (NORMAL_CLONE / MIXED_CLONE) on plain
// interleaved images, and the Poisson solve under it (kernel `poissonSolve`). No
// gradients. Every argument is checked here, before dispatch, so both backends refuse the
// same inputs with the same message.
//
// What OpenCV 4.6 does (modules/photo/src/seamless_cloning*.cpp), reproduced here and
// checked against cv2.seamlessClone by test/anomalies/seamless-clone.test.ts:
//  1. The mask's outer 1-pixel frame is set to 0; roi_s = the bounding box of mask ≠ 0
//     (w × h). An empty mask returns dst unchanged.
//  2. The box lands in dst at (center.x − ⌊w/2⌋, center.y − ⌊h/2⌋). OpenCV asserts when that
//     rectangle leaves dst; here it is a RangeError naming the valid centres.
//  3. patch = src inside roi_s where mask ≠ 0, else 0; D = dst's rectangle.
//  4. Forward differences gx = I[x+1] − I[x], gy = I[y+1] − I[y] of D and of the patch.
//  5. m = (the roi_s part of the mask eroded by a 7 × 7 square, i.e. 3 × 3 three times,
//     pixels outside the box counting as 0) / 255 — so a mask value of 100 weighs the
//     patch by 100/255, as in OpenCV. Guidance: normal, patch gradients × m; mixed, per
//     channel and per pixel the patch's (gx, gy) when |pgx − pgy| > |dgx − dgy| (OpenCV's
//     test, not the gradient magnitude), else D's, × m. Field G = D's gradients × (1 − m)
//     + guidance.
//  6. rhs = div G by backward differences; on the box, Σ neighbours − 4·u = rhs inside and
//     u = D on the 1-pixel frame, solved per channel (OpenCV: by a DST; here by
//     poissonSolve to ‖b − A·u‖₂ ≤ tol·‖b‖₂, default tol 1e-8, in float64).
//  7. uint8: each value goes through float32 and is clamped to [0, 255] and TRUNCATED
//     (OpenCV's static_cast, not a rounding); the frame keeps dst's values; the rest of
//     dst is unchanged. Float32 images: the float64 solution rounded to float32, not
//     clamped (the caller decides).
// Deviations: one channel is accepted (the single channel is solved as OpenCV solves each
// channel of a colour image, i.e. equal to cloning the grey image replicated into 3
// channels and keeping one); a box narrower or lower than 3 pixels (no interior) returns
// dst unchanged where OpenCV 4.6 throws; the mask must have src's size.
import { kernels } from '../../backend/registry.js';

/** An interleaved H × W × C image (structurally the anomalies module's PixelImage). */
export interface CloneImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array | Float32Array;
}

export type CloneMode = 'normal' | 'mixed';

export interface PoissonSolveOptions {
  /** Relative residual to reach, ‖b − A·u‖₂ ≤ tol·‖b‖₂; default 1e-8. */
  tol?: number;
  /** Conjugate-gradient iteration cap per channel; default 500. */
  maxIter?: number;
}

export const POISSON_DEFAULT_TOL = 1e-8;
export const POISSON_DEFAULT_MAX_ITER = 500;

export interface PoissonInfo {
  /** CG iterations per plane. */
  iterations: number[];
  /** Final true relative residual per plane. */
  residuals: number[];
}

/** Thrown when the solver stops at maxIter above its tolerance (never seen with the defaults). */
export class PoissonNotConvergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoissonNotConvergedError';
  }
}

function resolveOptions(op: string, opts: PoissonSolveOptions): { tol: number; maxIter: number } {
  const tol = opts.tol ?? POISSON_DEFAULT_TOL;
  const maxIter = opts.maxIter ?? POISSON_DEFAULT_MAX_ITER;
  if (typeof tol !== 'number' || !(tol >= 0) || !Number.isFinite(tol)) throw new RangeError(`${op}: tol must be a finite number ≥ 0, got ${String(tol)}`);
  if (typeof maxIter !== 'number' || !Number.isSafeInteger(maxIter) || maxIter < 1 || maxIter > 1_000_000) {
    throw new RangeError(`${op}: maxIter must be an integer in [1, 1000000], got ${String(maxIter)}`);
  }
  return { tol, maxIter };
}

/**
 * Solves Σ_{4-neighbours} x_q − 4·x_p = rhs_p at the interior of each of `planes` height × width
 * grids of x (frame = Dirichlet values, interior = initial guess, overwritten), in place.
 * Grids under 3 × 3 have no interior and are left as they are. Throws PoissonNotConvergedError
 * when a plane stops above tol.
 */
export function poissonSolve(rhs: Float64Array, x: Float64Array, planes: number, height: number, width: number, opts: PoissonSolveOptions = {}): PoissonInfo {
  const op = 'poissonSolve';
  for (const [name, v] of [['planes', planes], ['height', height], ['width', width]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${op}: ${name} must be an integer ≥ 0, got ${String(v)}`);
  }
  const n = planes * height * width;
  if (!Number.isSafeInteger(n) || n > 2 ** 31) throw new RangeError(`${op}: ${planes} × ${height} × ${width} values are too many (at most 2^31)`);
  if (!(rhs instanceof Float64Array) || rhs.length !== n) throw new RangeError(`${op}: rhs must be a Float64Array of planes × height × width = ${n} values`);
  if (!(x instanceof Float64Array) || x.length !== n) throw new RangeError(`${op}: x must be a Float64Array of planes × height × width = ${n} values`);
  const { tol, maxIter } = resolveOptions(op, opts);
  for (let k = 0; k < n; k++) {
    if (!Number.isFinite(rhs[k]) || !Number.isFinite(x[k])) {
      throw new RangeError(`${op}: ${Number.isFinite(rhs[k]) ? 'x' : 'rhs'} holds ${Number.isFinite(rhs[k]) ? x[k] : rhs[k]} at index ${k}; the equations need finite values`);
    }
  }
  const info = new Float64Array(2 * planes);
  if (planes > 0 && height >= 3 && width >= 3) kernels().poissonSolve({ planes, height, width, tol, maxIter }, rhs, x, info);
  const out: PoissonInfo = { iterations: [], residuals: [] };
  for (let c = 0; c < planes; c++) {
    out.iterations.push(info[2 * c]);
    out.residuals.push(info[2 * c + 1]);
    if (!(info[2 * c + 1] <= tol)) {
      throw new PoissonNotConvergedError(`${op}: plane ${c} stopped at relative residual ${info[2 * c + 1]} after ${info[2 * c]} iterations, above tol ${tol}; raise maxIter or tol`);
    }
  }
  return out;
}

export interface SeamlessCloneResult {
  /** dst with the blended rectangle: same size, channels and type as dst. */
  data: Uint8Array | Float32Array;
  /** The solved rectangle in dst (its 1-pixel frame keeps dst's values); width 0 when nothing was solved. */
  roi: { x: number; y: number; width: number; height: number };
  /** The bounding box of the mask in src. */
  sourceRoi: { x: number; y: number; width: number; height: number };
  /** [channels, roi.height, roi.width] float64 solution before clamping and rounding (frame = dst). */
  solution: Float64Array;
  /** [channels, roi.height, roi.width] the divergence of the guidance field (the equations' rhs; frame unused). */
  rhs: Float64Array;
  iterations: number[];
  residuals: number[];
}

function checkImage(img: CloneImage, op: string, what: string): void {
  if (img === null || typeof img !== 'object') throw new TypeError(`${op}: ${what} must be an image { width, height, channels, data }, got ${String(img)}`);
  const { width, height, channels, data } = img;
  if (!Number.isSafeInteger(width) || width < 1 || !Number.isSafeInteger(height) || height < 1) {
    throw new RangeError(`${op}: ${what} width and height must be positive integers, got ${String(width)} × ${String(height)}`);
  }
  if (!(data instanceof Uint8Array) && !(data instanceof Float32Array)) throw new TypeError(`${op}: ${what}.data must be a Uint8Array or a Float32Array`);
  if (width * height * channels > 2 ** 31) throw new RangeError(`${op}: ${what} is too large (${width} × ${height} × ${channels} values, at most 2^31)`);
  if (data.length !== width * height * channels) {
    throw new RangeError(`${op}: ${what}.data has ${data.length} values, expected width × height × channels = ${width} × ${height} × ${channels}`);
  }
}

/** The 7 × 7 erosion (min) of a w × h uint8 map, pixels outside counting as 0. */
function erode7(m: Uint8Array, w: number, h: number): Uint8Array {
  const R = 3;
  const tmp = new Uint8Array(w * h);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 255;
      for (let dx = -R; dx <= R; dx++) {
        const xx = x + dx;
        v = Math.min(v, xx < 0 || xx >= w ? 0 : m[y * w + xx]);
      }
      tmp[y * w + x] = v;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 255;
      for (let dy = -R; dy <= R; dy++) {
        const yy = y + dy;
        v = Math.min(v, yy < 0 || yy >= h ? 0 : tmp[yy * w + x]);
      }
      out[y * w + x] = v;
    }
  }
  return out;
}

/**
 * cv2.seamlessClone(src, dst, mask, (center.x, center.y), NORMAL_CLONE | MIXED_CLONE) with
 * OpenCV 4.6's rules (see the top of this file); src and dst of the same channel count (1 or
 * 3) and type, mask one uint8 channel of src's size.
 */
export function seamlessClone(
  src: CloneImage,
  dst: CloneImage,
  mask: CloneImage,
  center: { x: number; y: number },
  mode: CloneMode,
  opts: PoissonSolveOptions = {},
): SeamlessCloneResult {
  const op = 'seamlessClone';
  checkImage(src, op, 'src');
  checkImage(dst, op, 'dst');
  checkImage(mask, op, 'mask');
  if (src.channels !== 1 && src.channels !== 3) throw new RangeError(`${op}: src must have 1 or 3 channels, got ${String(src.channels)}`);
  if (dst.channels !== src.channels) throw new RangeError(`${op}: src has ${src.channels} channel(s) but dst has ${String(dst.channels)}; convert one (grey ↔ RGB) first`);
  if ((src.data instanceof Uint8Array) !== (dst.data instanceof Uint8Array)) throw new TypeError(`${op}: src and dst must have the same type (both Uint8Array or both Float32Array)`);
  if (mask.channels !== 1 || !(mask.data instanceof Uint8Array)) throw new TypeError(`${op}: mask must be one uint8 channel (non-zero = inside), got ${String(mask.channels)} channel(s) of ${mask.data?.constructor?.name}`);
  if (mask.width !== src.width || mask.height !== src.height) {
    throw new RangeError(`${op}: mask is ${mask.width} × ${mask.height} but src is ${src.width} × ${src.height}; the mask must have src's size`);
  }
  if (center === null || typeof center !== 'object' || !Number.isSafeInteger(center.x) || !Number.isSafeInteger(center.y)) {
    throw new RangeError(`${op}: center must be { x, y } with integer pixel coordinates (OpenCV's Point), got ${JSON.stringify(center)}`);
  }
  if (mode !== 'normal' && mode !== 'mixed') throw new RangeError(`${op}: mode must be 'normal' or 'mixed' (NORMAL_CLONE / MIXED_CLONE), got ${String(mode)}`);
  resolveOptions(op, opts);
  for (const [img, what] of [[src, 'src'], [dst, 'dst']] as const) {
    if (img.data instanceof Float32Array) {
      for (let k = 0; k < img.data.length; k++) {
        if (!Number.isFinite(img.data[k])) throw new RangeError(`${op}: ${what}.data holds ${img.data[k]} at index ${k}; images must be finite`);
      }
    }
  }

  // 1. Bounding box of the mask with its frame ignored.
  const W = mask.width;
  const H = mask.height;
  const md = mask.data as Uint8Array;
  let x0 = W, y0 = H, x1 = -1, y1 = -1;
  for (let y = 1; y < H - 1; y++) {
    for (let x = 1; x < W - 1; x++) {
      if (md[y * W + x] !== 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  const C = src.channels;
  const empty: SeamlessCloneResult = {
    data: dst.data.slice(),
    roi: { x: 0, y: 0, width: 0, height: 0 },
    sourceRoi: { x: 0, y: 0, width: 0, height: 0 },
    solution: new Float64Array(0),
    rhs: new Float64Array(0),
    iterations: [],
    residuals: [],
  };
  if (x1 < 0) return empty;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  // 2. Placement (OpenCV: p − size/2 with C integer division; sizes are positive).
  const dx0 = center.x - Math.floor(w / 2);
  const dy0 = center.y - Math.floor(h / 2);
  if (dx0 < 0 || dy0 < 0 || dx0 + w > dst.width || dy0 + h > dst.height) {
    throw new RangeError(
      `${op}: the mask's ${w} × ${h} bounding box centred at (${center.x}, ${center.y}) covers x ${dx0}…${dx0 + w - 1}, y ${dy0}…${dy0 + h - 1}, ` +
        `outside dst (${dst.width} × ${dst.height}); OpenCV refuses this too. Give a center with x in [${Math.floor(w / 2)}, ${dst.width - w + Math.floor(w / 2)}] ` +
        `and y in [${Math.floor(h / 2)}, ${dst.height - h + Math.floor(h / 2)}]${w > dst.width || h > dst.height ? ' (none exists: the box is larger than dst; crop the mask)' : ''}`,
    );
  }
  const roi = { x: dx0, y: dy0, width: w, height: h };
  const sourceRoi = { x: x0, y: y0, width: w, height: h };
  if (w < 3 || h < 3) return { ...empty, roi: { ...roi, width: 0, height: 0 }, sourceRoi };

  // 3. Mask box, eroded weights, patch and destination rectangles (planar float64).
  const mroi = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mroi[y * w + x] = md[(y0 + y) * W + (x0 + x)];
  const er = erode7(mroi, w, h);
  const hw = w * h;
  const D = new Float64Array(C * hw);
  const S = new Float64Array(C * hw);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inside = mroi[y * w + x] !== 0;
      const di = ((dy0 + y) * dst.width + (dx0 + x)) * C;
      const si = ((y0 + y) * src.width + (x0 + x)) * C;
      for (let c = 0; c < C; c++) {
        D[c * hw + y * w + x] = dst.data[di + c];
        S[c * hw + y * w + x] = inside ? src.data[si + c] : 0;
      }
    }
  }
  // 4–5. The guidance field G (only where the interior's divergence reads it: x ≤ w − 2, y ≤ h − 2).
  const Gx = new Float64Array(C * hw);
  const Gy = new Float64Array(C * hw);
  const mixed = mode === 'mixed';
  for (let c = 0; c < C; c++) {
    const o = c * hw;
    for (let y = 0; y < h - 1; y++) {
      for (let x = 0; x < w - 1; x++) {
        const k = o + y * w + x;
        const m = er[y * w + x] / 255;
        const inv = (255 - er[y * w + x]) / 255;
        const dgx = D[k + 1] - D[k];
        const dgy = D[k + w] - D[k];
        let px = S[k + 1] - S[k];
        let py = S[k + w] - S[k];
        if (mixed && !(Math.abs(px - py) > Math.abs(dgx - dgy))) {
          px = dgx;
          py = dgy;
        }
        Gx[k] = dgx * inv + px * m;
        Gy[k] = dgy * inv + py * m;
      }
    }
  }
  // 6. rhs = div G (backward differences) at the interior; solve with the frame from D.
  const rhs = new Float64Array(C * hw);
  for (let c = 0; c < C; c++) {
    const o = c * hw;
    for (let y = 1; y < h - 1; y++) {
      for (let x = 1; x < w - 1; x++) {
        const k = o + y * w + x;
        rhs[k] = Gx[k] - Gx[k - 1] + (Gy[k] - Gy[k - w]);
      }
    }
  }
  const solution = D.slice();
  const info = poissonSolve(rhs, solution, C, h, w, opts);
  // 7. Write back the interior; the frame and the rest keep dst's values.
  const out = dst.data.slice();
  const u8 = out instanceof Uint8Array;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const di = ((dy0 + y) * dst.width + (dx0 + x)) * C;
      for (let c = 0; c < C; c++) {
        const v = Math.fround(solution[c * hw + y * w + x]);
        out[di + c] = u8 ? (v < 0 ? 0 : v > 255 ? 255 : Math.trunc(v)) : v;
      }
    }
  }
  return { data: out, roi, sourceRoi, solution, rhs, iterations: info.iterations, residuals: info.residuals };
}
