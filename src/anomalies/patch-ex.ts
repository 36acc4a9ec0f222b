// patch_ex: the synthetic anomalies of the one-stage self-supervised methods (CutPaste,
// FPI, PII, NSA), as MedIAnomaly's ssl/one_stage/self_sup_data/self_sup_tasks.py makes
// them (adapted there from hmsch/natural-synthetic-anomalies). Step by step, with the
// reference's random draws in the reference's order:
//
//   0. source S = the destination D itself when `same` (or no source is given);
//   1. object masks O = medianBlur7(|mean over channels − level| > threshold) of S and D;
//   2. α ~ U(0.05, 0.95) once per call for labelMode 'continuous', else 1;
//   3. up to numPatches patches: the first always, each further one on a coin flip;
//      each patch's mask is written into the global mask G over its rectangle
//      (assignment, quirk patchMaskAssign; false = union);
//   4. binary label L = medianBlur5(mean_c |G·D − G·R| > tol);
//   5. label: binary L, continuous α·L, logistic-intensity L / (1 + e^(−k(d − x0))) with
//      d = median over a disk of radius 5 of mean_c |L·D − L·R|, or intensity d.
//
// The patch routine draws half-sizes from the Gamma law (or uniformly), looks for a source
// rectangle with enough object, optionally resizes it (NSA), looks for a destination
// with enough overlap (shift), restricts the mask to object pixels and blends: hard swap,
// convex 'uniform' blend by α, or Poisson cloning (OpenCV seamlessClone NORMAL/MIXED).
//
// Bounded rejection loops: the source and destination searches stop after
// `maxAttempts` tries (200, the reference's count, which also discards a success on the
// last try); the routine then returns no patch and the image unchanged, as do a Poisson
// mask of fewer than 50 pixels, a failed clone, and a destination range that is empty
// (where NumPy would raise). An image with no object pixel (all background) therefore
// comes back unchanged with an all-zero label; `patches[i].placed` says what happened.
import type { Generator } from '../engine/random.js';
import {
  checkImage,
  checkSameSize,
  clampByte,
  diskOffsets,
  medianBlurBinary,
  medianFilterFootprint,
  resizeLinearPlane,
  toLevels,
  type PixelImage,
  type SyntheticAnomaly,
} from './image.js';
import { gamma, normal, randint, roundHalfEven, uniform } from './sampling.js';
import { seamlessClone } from './seamless-clone.js';

/** Blend: hard swap, convex blend by α ('uniform'), Poisson NORMAL_CLONE / MIXED_CLONE, or a coin flip between the two clones ('mix'). */
export type PatchExMode = 'swap' | 'uniform' | 'normal' | 'mixed' | 'mix';
export type PatchExLabelMode = 'binary' | 'continuous' | 'logistic-intensity' | 'intensity';

export interface PatchExOptions {
  /** Use the destination as the source even when a source is given (CutPaste). Default false. */
  same?: boolean;
  /** Patches to try: the first always, each further one with probability ½. Default 3 (§6.1). */
  numPatches?: number;
  /** Blend mode. Default 'normal' (patch_ex's own default, cv2.NORMAL_CLONE). */
  mode?: PatchExMode;
  /** Half-size bounds as fractions of [height, width]: [[min, max], [min, max]]. Default [[0.03, 0.4], [0.03, 0.4]] (§6.1). */
  widthBoundsPct?: [[number, number], [number, number]];
  /** Minimum fraction of object pixels in the source patch. Default 0.7 (§6.1). */
  minObjectPct?: number;
  /** Minimum fraction of the patch's object pixels landing on destination object. Default 0.7 (§6.1). */
  minOverlapPct?: number;
  /** Paste at a random new position (true) or at the source coordinates (false). Default true. */
  shift?: boolean;
  /** Label: 'binary', 'continuous' (α inside), 'logistic-intensity', 'intensity'. Default 'binary'. */
  labelMode?: PatchExLabelMode;
  /** Background (level, threshold) pairs on the 0–255 scale, or null for no object masks. Default [[0, 20]] (§6.1). */
  skipBackground?: Array<[number, number]> | [number, number] | null;
  /** Mean absolute change (0–255 scale) a pixel needs for a positive label. Default 1. */
  tol?: number;
  /** Resample the patch at a random size (NSA). Default true (patch_ex's own default). */
  resize?: boolean;
  /** Half-size law (shape, scale, offset): (offset + Gamma(shape, scale))·size; null = uniform integer in [min, max). Default [2, 0.03, 0.05] (§6.1). */
  gammaParams?: [number, number, number] | null;
  /** Logistic label parameters (k, x0). Default [0.5, 4] (§6.1). */
  intensityLogisticParams?: [number, number];
  /** Bounds of the resize factor drawn from N(1, 0.5²). Default [0.7, 1.3]. */
  resizeBounds?: [number, number];
  /** Tries of each rejection loop before the patch is given up. Default 200 (the reference's). */
  maxAttempts?: number;
  /**
   * Quirk: later patch masks overwrite earlier ones inside their rectangle (the reference's
   * `mask[rect] = patch_mask`, zeros included). Default true; false takes the union.
   */
  patchMaskAssign?: boolean;
}

/** A rectangle: rows [y0, y1), columns [x0, x1). */
export interface PatchRect {
  y0: number;
  y1: number;
  x0: number;
  x1: number;
}

export type PatchFailure = 'source' | 'destination' | 'size' | 'mask' | 'clone';

export interface PatchRecord {
  /** The drawn half-height and half-width (before the source rectangle is clipped to the image). */
  halfHeight: number;
  halfWidth: number;
  placed: boolean;
  /** Why no patch was placed: no source / destination found in maxAttempts, an empty size range, a Poisson mask under 50 pixels, a failed clone. */
  failure?: PatchFailure;
  source?: PatchRect;
  dest?: PatchRect;
  /** The resize factor drawn (NSA), before the size bounds. */
  scale?: number;
}

export interface PatchExResult extends SyntheticAnomaly {
  /** One record per patch the routine ran for (the first always, the others on a coin flip). */
  patches: PatchRecord[];
  /** The mixing factor α (1 unless labelMode is 'continuous'). */
  alpha: number;
}

/** The settings every one-stage method passes (§6.1). */
const COMMON = {
  numPatches: 3,
  widthBoundsPct: [
    [0.03, 0.4],
    [0.03, 0.4],
  ] as [[number, number], [number, number]],
  minObjectPct: 0.7,
  minOverlapPct: 0.7,
  skipBackground: [[0, 20]] as Array<[number, number]>,
  tol: 1,
  gammaParams: [2, 0.03, 0.05] as [number, number, number],
  intensityLogisticParams: [0.5, 4] as [number, number],
  resizeBounds: [0.7, 1.3] as [number, number],
};

/** The four one-stage methods' settings (methods.md §6.1). */
export const patchExPresets: Readonly<Record<'cutpaste' | 'fpi' | 'pii' | 'nsa', Readonly<PatchExOptions>>> = Object.freeze({
  /** CutPaste (one-stage): the same image, shifted, hard swap, binary label. */
  cutpaste: Object.freeze({ ...COMMON, same: true, shift: true, resize: false, mode: 'swap', labelMode: 'binary' } as PatchExOptions),
  /** FPI: another image, same coordinates, convex blend by α, label α. */
  fpi: Object.freeze({ ...COMMON, same: false, shift: false, resize: false, mode: 'uniform', labelMode: 'continuous' } as PatchExOptions),
  /** PII: another image, same coordinates, Poisson MIXED_CLONE, label α. */
  pii: Object.freeze({ ...COMMON, same: false, shift: false, resize: false, mode: 'mixed', labelMode: 'continuous' } as PatchExOptions),
  /** NSA: another image, shifted and resized, Poisson MIXED_CLONE, logistic-intensity label. */
  nsa: Object.freeze({ ...COMMON, same: false, shift: true, resize: true, mode: 'mixed', labelMode: 'logistic-intensity' } as PatchExOptions),
});

interface Resolved {
  same: boolean;
  numPatches: number;
  mode: PatchExMode;
  bounds: [[number, number], [number, number]];
  minObjectPct: number;
  minOverlapPct: number;
  shift: boolean;
  labelMode: PatchExLabelMode;
  skipBackground: Array<[number, number]> | null;
  tol: number;
  resize: boolean;
  gammaParams: [number, number, number] | null;
  logistic: [number, number];
  resizeBounds: [number, number];
  maxAttempts: number;
  assign: boolean;
}

const WHO = 'patchEx';
const MODES: readonly PatchExMode[] = ['swap', 'uniform', 'normal', 'mixed', 'mix'];
const LABEL_MODES: readonly PatchExLabelMode[] = ['binary', 'continuous', 'logistic-intensity', 'intensity'];
const KNOWN = new Set([
  'same',
  'numPatches',
  'mode',
  'widthBoundsPct',
  'minObjectPct',
  'minOverlapPct',
  'shift',
  'labelMode',
  'skipBackground',
  'tol',
  'resize',
  'gammaParams',
  'intensityLogisticParams',
  'resizeBounds',
  'maxAttempts',
  'patchMaskAssign',
]);
/** Smallest image side: below it the half-size bounds round to zero. */
export const PATCH_EX_MIN_SIDE = 8;

function finite(v: unknown, name: string, lo = -Infinity, hi = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) throw new RangeError(`${WHO}: ${name} must be a finite number in [${lo}, ${hi}], got ${String(v)}`);
  return v;
}

function resolve(o: PatchExOptions): Resolved {
  if (o === null || typeof o !== 'object') throw new TypeError(`${WHO}: options must be an object (see patchExPresets), got ${String(o)}`);
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new TypeError(`${WHO}: unknown option '${k}'; known: ${[...KNOWN].join(', ')}`);
  const mode = o.mode ?? 'normal';
  if (!MODES.includes(mode)) throw new RangeError(`${WHO}: mode must be one of ${MODES.join(', ')}, got ${String(mode)}`);
  const labelMode = o.labelMode ?? 'binary';
  if (!LABEL_MODES.includes(labelMode)) throw new RangeError(`${WHO}: labelMode must be one of ${LABEL_MODES.join(', ')}, got ${String(labelMode)}`);
  const numPatches = o.numPatches ?? COMMON.numPatches;
  if (!Number.isInteger(numPatches) || numPatches < 0 || numPatches > 1000) throw new RangeError(`${WHO}: numPatches must be an integer in [0, 1000], got ${String(numPatches)}`);
  const b = o.widthBoundsPct ?? COMMON.widthBoundsPct;
  if (!Array.isArray(b) || b.length !== 2 || !b.every((p) => Array.isArray(p) && p.length === 2)) throw new TypeError(`${WHO}: widthBoundsPct must be [[min, max], [min, max]]`);
  for (const [i, p] of b.entries()) {
    finite(p[0], `widthBoundsPct[${i}][0]`, 0, 0.5);
    finite(p[1], `widthBoundsPct[${i}][1]`, 0, 0.5);
    if (p[0] > p[1]) throw new RangeError(`${WHO}: widthBoundsPct[${i}] has min ${p[0]} > max ${p[1]}`);
  }
  let skip: Array<[number, number]> | null;
  const sb = o.skipBackground === undefined ? COMMON.skipBackground : o.skipBackground;
  if (sb === null) skip = null;
  else if (Array.isArray(sb) && sb.length === 2 && typeof sb[0] === 'number') skip = [sb as [number, number]];
  else if (Array.isArray(sb) && sb.every((p) => Array.isArray(p) && p.length === 2)) skip = sb as Array<[number, number]>;
  else throw new TypeError(`${WHO}: skipBackground must be [level, threshold], a list of them, or null`);
  if (skip) for (const [l, t] of skip) (finite(l, 'skipBackground level'), finite(t, 'skipBackground threshold', 0));
  const g = o.gammaParams === undefined ? COMMON.gammaParams : o.gammaParams;
  if (g !== null) {
    if (!Array.isArray(g) || g.length !== 3) throw new TypeError(`${WHO}: gammaParams must be [shape, scale, offset] or null`);
    finite(g[0], 'gammaParams shape', Number.MIN_VALUE);
    finite(g[1], 'gammaParams scale', Number.MIN_VALUE);
    finite(g[2], 'gammaParams offset');
  }
  const lp = o.intensityLogisticParams ?? COMMON.intensityLogisticParams;
  if (!Array.isArray(lp) || lp.length !== 2) throw new TypeError(`${WHO}: intensityLogisticParams must be [k, x0]`);
  finite(lp[0], 'intensityLogisticParams k');
  finite(lp[1], 'intensityLogisticParams x0');
  const rb = o.resizeBounds ?? COMMON.resizeBounds;
  if (!Array.isArray(rb) || rb.length !== 2) throw new TypeError(`${WHO}: resizeBounds must be [low, high]`);
  finite(rb[0], 'resizeBounds low', 0);
  finite(rb[1], 'resizeBounds high', rb[0]);
  const maxAttempts = o.maxAttempts ?? 200;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100000) throw new RangeError(`${WHO}: maxAttempts must be an integer in [1, 100000], got ${String(maxAttempts)}`);
  for (const k of ['same', 'shift', 'resize', 'patchMaskAssign'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new TypeError(`${WHO}: ${k} must be true or false, got ${String(o[k])}`);
  }
  return {
    same: o.same ?? false,
    numPatches,
    mode,
    bounds: [
      [b[0][0], b[0][1]],
      [b[1][0], b[1][1]],
    ],
    minObjectPct: finite(o.minObjectPct ?? COMMON.minObjectPct, 'minObjectPct', 0, 1),
    minOverlapPct: finite(o.minOverlapPct ?? COMMON.minOverlapPct, 'minOverlapPct', 0, 1),
    shift: o.shift ?? true,
    labelMode,
    skipBackground: skip,
    tol: finite(o.tol ?? COMMON.tol, 'tol', 0),
    resize: o.resize ?? true,
    gammaParams: g,
    logistic: [lp[0], lp[1]],
    resizeBounds: [rb[0], rb[1]],
    maxAttempts,
    assign: o.patchMaskAssign ?? true,
  };
}

/** Object mask of an image on the 0–255 scale: medianBlur7 of ∧ over pairs of |mean_c − level| > threshold. */
function objectMask(levels: Float64Array, W: number, H: number, C: number, pairs: Array<[number, number]>): Uint8Array {
  const m = new Uint8Array(W * H);
  for (let p = 0; p < W * H; p++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += levels[p * C + c]!;
    const mean = s / C;
    let on = 1;
    for (const [level, threshold] of pairs) if (!(Math.abs(mean - level) > threshold)) on = 0;
    m[p] = on;
  }
  return medianBlurBinary(m, W, H, 7);
}

/** Summed-area table of a 0/1 plane, (H + 1) × (W + 1). */
function integral(m: Uint8Array, W: number, H: number): Int32Array {
  const s = new Int32Array((W + 1) * (H + 1));
  for (let y = 0; y < H; y++) {
    let row = 0;
    for (let x = 0; x < W; x++) {
      row += m[y * W + x]!;
      s[(y + 1) * (W + 1) + x + 1] = s[y * (W + 1) + x + 1]! + row;
    }
  }
  return s;
}

function rectSum(s: Int32Array, W: number, r: PatchRect): number {
  const w1 = W + 1;
  return s[r.y1 * w1 + r.x1]! - s[r.y0 * w1 + r.x1]! - s[r.y1 * w1 + r.x0]! + s[r.y0 * w1 + r.x0]!;
}

interface Ctx {
  o: Resolved;
  W: number;
  H: number;
  C: number;
  /** Source on the 0–255 scale. */
  S: Float64Array;
  OS: Uint8Array | null;
  OD: Uint8Array | null;
  OSsum: Int32Array | null;
  alpha: number;
  float: boolean;
}

interface PatchOut {
  R: Float64Array;
  rect: PatchRect;
  m: Uint8Array;
}

/** The reference's `_patch_ex`: one patch on R (0–255 scale). Returns null (and fills rec) when no patch is placed. */
function patchOnce(ctx: Ctx, R: Float64Array, rng: Generator, rec: PatchRecord): PatchOut | null {
  const { o, W, H, C, S, OS, OD } = ctx;
  const skip = OS !== null && OD !== null;
  const minH = roundHalfEven(o.bounds[0][0] * H);
  const maxH = roundHalfEven(o.bounds[0][1] * H);
  const minW = roundHalfEven(o.bounds[1][0] * W);
  const maxW = roundHalfEven(o.bounds[1][1] * W);
  let hh: number;
  let hw: number;
  if (o.gammaParams) {
    const [shape, scale, lower] = o.gammaParams;
    hh = Math.trunc(Math.min(maxH, Math.max(minH, (lower + gamma(rng, shape, scale)) * H)));
    hw = Math.trunc(Math.min(maxW, Math.max(minW, (lower + gamma(rng, shape, scale)) * W)));
  } else {
    if (maxH <= minH || maxW <= minW) return fail(rec, 'size');
    hh = randint(rng, minH, maxH);
    hw = randint(rng, minW, maxW);
  }
  rec.halfHeight = hh;
  rec.halfWidth = hw;

  // c. source rectangle
  if (H - minH <= minH || W - minW <= minW) return fail(rec, 'size'); // NumPy would raise here
  let src: PatchRect | null = null;
  for (let attempts = 1; ; attempts++) {
    const cr = randint(rng, minH, H - minH);
    const cc = randint(rng, minW, W - minW);
    const r: PatchRect = { y0: Math.max(0, cr - hh), y1: Math.min(H, cr + hh), x0: Math.max(0, cc - hw), x1: Math.min(W, cc + hw) };
    const area = (r.y1 - r.y0) * (r.x1 - r.x0);
    const found = area > 0 && (!skip || rectSum(ctx.OSsum!, W, r) / area > o.minObjectPct);
    if (attempts === o.maxAttempts) break; // the reference gives up on the last try even when it fits
    if (found) {
      src = r;
      break;
    }
  }
  if (!src) return fail(rec, 'source');
  rec.source = src;
  let h = src.y1 - src.y0;
  let w = src.x1 - src.x0;
  // d. the patch (0–255 scale) and its mask
  let P: Float64Array = new Float64Array(h * w * C);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < C; c++) P[(y * w + x) * C + c] = S[((src.y0 + y) * W + src.x0 + x) * C + c]!;
  let m = new Uint8Array(h * w).fill(1);
  // e. resize (NSA)
  if (o.resize) {
    const scale = Math.min(o.resizeBounds[1], Math.max(o.resizeBounds[0], normal(rng, 1, 0.5)));
    rec.scale = scale;
    let nh = Math.min(maxH, Math.max(minH, scale * h));
    const nw = Math.min(maxW, Math.max(minW, Math.trunc((nh / h) * w)));
    nh = Math.min(maxH, Math.max(minH, Math.trunc((nw / w) * h)));
    if (nh < 1 || nw < 1) return fail(rec, 'size');
    P = resizeLinearPlane(P, w, h, C, nw, nh);
    if (!ctx.float) for (let i = 0; i < P.length; i++) P[i] = clampByte(P[i]!); // cv2.resize on uint8
    m = new Uint8Array(nh * nw).fill(1); // bilinear resize of ones
    h = nh;
    w = nw;
  }
  // f. the patch's own object mask
  let OP: Uint8Array | null = null;
  if (skip) {
    const cropO = new Uint8Array((src.y1 - src.y0) * (src.x1 - src.x0));
    const sw = src.x1 - src.x0;
    for (let y = src.y0; y < src.y1; y++) for (let x = src.x0; x < src.x1; x++) cropO[(y - src.y0) * sw + x - src.x0] = OS![y * W + x]!;
    if (o.resize) {
      const r = resizeLinearPlane(cropO, sw, src.y1 - src.y0, 1, w, h);
      OP = new Uint8Array(r.length);
      for (let i = 0; i < r.length; i++) OP[i] = clampByte(r[i]!);
    } else OP = cropO;
  }
  // g. destination
  let dst: PatchRect = src;
  if (o.shift) {
    const lowR = (h >> 1) + 1;
    const highR = H - (h >> 1) - 1;
    const lowC = (w >> 1) + 1;
    const highC = W - (w >> 1) - 1;
    if (highR <= lowR || highC <= lowC) return fail(rec, 'size'); // NumPy would raise here
    let sumOP = 0;
    if (OP) for (let i = 0; i < OP.length; i++) sumOP += OP[i]!;
    let found: PatchRect | null = null;
    for (let attempts = 1; ; attempts++) {
      const cr = randint(rng, lowR, highR);
      const cc = randint(rng, lowC, highC);
      const r: PatchRect = { y0: cr - (h >> 1), y1: cr + ((h + 1) >> 1), x0: cc - (w >> 1), x1: cc + ((w + 1) >> 1) };
      let ok = true;
      if (skip) {
        let both = 0;
        for (let y = 0; y < h; y++) {
          const row = (r.y0 + y) * W + r.x0;
          for (let x = 0; x < w; x++) if (OD![row + x]! && OP![y * w + x]! && m[y * w + x]!) both++;
        }
        ok = sumOP / (h * w) > o.minObjectPct && both / sumOP > o.minOverlapPct; // 0/0 is NaN: rejected, as in NumPy
      }
      if (attempts === o.maxAttempts) break;
      if (ok) {
        found = r;
        break;
      }
    }
    if (!found) return fail(rec, 'destination');
    dst = found;
  }
  rec.dest = dst;
  // h. restrict the mask to object pixels of the patch or the destination
  if (skip) {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) m[y * w + x]! &= OP![y * w + x]! | OD![(dst.y0 + y) * W + dst.x0 + x]!;
  }
  // i. blend
  const mode = o.mode; // 'mix' was resolved once per call, before any other draw
  const out = R.slice();
  if (mode === 'swap') {
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        if (!m[y * w + x]) continue;
        const base = ((dst.y0 + y) * W + dst.x0 + x) * C;
        for (let c = 0; c < C; c++) out[base + c] = P[(y * w + x) * C + c]!;
      }
  } else if (mode === 'uniform') {
    const a = ctx.alpha;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const fm = a * m[y * w + x]!;
        const base = ((dst.y0 + y) * W + dst.x0 + x) * C;
        for (let c = 0; c < C; c++) {
          const before = out[base + c]!;
          out[base + c] = before - fm * before + fm * P[(y * w + x) * C + c]!;
        }
      }
    if (!ctx.float) for (let i = 0; i < out.length; i++) out[i] = Math.floor(out[i]!); // np.uint8(np.floor(·)) over the whole image
  } else {
    const q = Math.min(255, Math.ceil(ctx.alpha * 255));
    const M = new Uint8Array(h * w);
    let positive = 0;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        if (y === 0 || x === 0 || y === h - 1 || x === w - 1) continue; // zero border
        const i = y * w + x;
        const on = skip ? m[i]! | (1 - OP![i]! & (1 - OD![(dst.y0 + y) * W + dst.x0 + x]!)) : m[i]!;
        M[i] = on ? q : 0;
        if (M[i]) positive++;
      }
    if (positive < 50) return fail(rec, 'mask');
    const center = { x: dst.x1 - (w >> 1), y: dst.y0 + (h >> 1) };
    // uint8 images clone on uint8 as the reference does; float ones on float (0–1), unquantised
    const asImage = (a: Float64Array, width: number, height: number): PixelImage => {
      if (ctx.float) {
        const f = new Float32Array(a.length);
        for (let i = 0; i < a.length; i++) f[i] = a[i]! / 255;
        return { width, height, channels: C as 1 | 3, data: f };
      }
      const u = new Uint8Array(a.length);
      for (let i = 0; i < a.length; i++) u[i] = clampByte(a[i]!);
      return { width, height, channels: C as 1 | 3, data: u };
    };
    const before = asImage(R, W, H);
    let cloned: PixelImage;
    try {
      cloned = seamlessClone(asImage(P, w, h), before, { width: w, height: h, channels: 1, data: M }, center, mode === 'normal' ? 'normal' : 'mixed');
    } catch (e) {
      // The reference catches cv2.error (the mask's box leaving the image) and returns no patch.
      if (e instanceof RangeError) return fail(rec, 'clone');
      throw e;
    }
    const scale = ctx.float ? 255 : 1;
    for (let i = 0; i < out.length; i++) if (cloned.data[i] !== before.data[i]) out[i] = cloned.data[i]! * scale;
  }
  rec.placed = true;
  return { R: out, rect: dst, m };
}

function fail(rec: PatchRecord, why: PatchFailure): null {
  rec.placed = false;
  rec.failure = why;
  return null;
}

/**
 * patch_ex (methods.md §7.1): pastes or blends up to `numPatches` random patches of
 * `src` (or of `dst` itself) into a copy of `dst` and returns it with its H × W label.
 * Images are uint8 (0–255) or float (0–1), grey or RGB; `src` must match `dst`'s size
 * and channels. Poisson modes clone uint8 images on uint8 (as OpenCV does) and float
 * images on float. See the file header for the bounded loops and
 * their fallback (no patch, image unchanged).
 */
export function patchEx(dst: PixelImage, src: PixelImage | null | undefined, options: PatchExOptions, rng: Generator): PatchExResult {
  checkImage(dst, WHO, 'dst');
  if (src !== null && src !== undefined) {
    checkImage(src, WHO, 'src');
    checkSameSize(dst, src, WHO, ['dst', 'src']);
    if ((src.data instanceof Uint8Array) !== (dst.data instanceof Uint8Array)) throw new TypeError(`${WHO}: dst is ${dst.data.constructor.name} but src is ${src.data.constructor.name}; give both as uint8 or both as float`);
  }
  if (!rng || typeof (rng as Generator).uniform !== 'function') throw new TypeError(`${WHO}: rng must be the engine's seeded Generator (new Generator(seed))`);
  const o = resolve(options ?? {});
  if (o.mode === 'mix') o.mode = rng.int(2) === 0 ? 'normal' : 'mixed'; // the reference's first draw
  const { width: W, height: H, channels: C } = dst;
  if (W < PATCH_EX_MIN_SIDE || H < PATCH_EX_MIN_SIDE) throw new RangeError(`${WHO}: dst is ${W} × ${H}; patches need an image of at least ${PATCH_EX_MIN_SIDE} × ${PATCH_EX_MIN_SIDE} (resize it first)`);
  const float = dst.data instanceof Float32Array;
  const D = toLevels(dst);
  const S = o.same || !src ? D : toLevels(src);
  const OS = o.skipBackground ? objectMask(S, W, H, C, o.skipBackground) : null;
  const OD = o.skipBackground ? (S === D ? OS : objectMask(D, W, H, C, o.skipBackground)) : null;
  const alpha = o.labelMode === 'continuous' ? uniform(rng, 0.05, 0.95) : 1;
  const ctx: Ctx = { o, W, H, C, S, OS, OD, OSsum: OS ? integral(OS, W, H) : null, alpha, float };

  const G = new Uint8Array(W * H);
  let R = D;
  const patches: PatchRecord[] = [];
  for (let i = 0; i < o.numPatches; i++) {
    if (i > 0 && rng.int(2) === 0) continue;
    const rec: PatchRecord = { halfHeight: 0, halfWidth: 0, placed: false };
    patches.push(rec);
    const res = patchOnce(ctx, R, rng, rec);
    if (!res) continue;
    R = res.R;
    const { rect, m } = res;
    const w = rect.x1 - rect.x0;
    for (let y = rect.y0; y < rect.y1; y++)
      for (let x = rect.x0; x < rect.x1; x++) {
        const v = m[(y - rect.y0) * w + x - rect.x0]!;
        G[y * W + x] = o.assign ? v : G[y * W + x]! | v;
      }
  }

  // Step 4: binary label from the pixels that changed under the global mask.
  const n = W * H;
  const diff = new Float64Array(n); // mean over channels of |D − R|
  for (let p = 0; p < n; p++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.abs(D[p * C + c]! - R[p * C + c]!);
    diff[p] = s / C;
  }
  const Lraw = new Uint8Array(n);
  for (let p = 0; p < n; p++) Lraw[p] = G[p] && diff[p]! > o.tol ? 1 : 0;
  const L = medianBlurBinary(Lraw, W, H, 5);

  // Step 5: the label.
  const label = new Float32Array(n);
  if (o.labelMode === 'binary') for (let p = 0; p < n; p++) label[p] = L[p]!;
  else if (o.labelMode === 'continuous') for (let p = 0; p < n; p++) label[p] = L[p]! * alpha;
  else {
    const d = new Float64Array(n);
    for (let p = 0; p < n; p++) d[p] = L[p] ? diff[p]! : 0;
    const logistic = o.labelMode === 'logistic-intensity';
    const med = medianFilterFootprint(d, W, H, diskOffsets(5), logistic ? L : undefined);
    const [k, x0] = o.logistic;
    if (logistic) for (let p = 0; p < n; p++) label[p] = L[p] ? logisticLabel(med[p]!, k, x0) : 0;
    else for (let p = 0; p < n; p++) label[p] = med[p]!;
  }

  const image: PixelImage = { width: W, height: H, channels: C, data: float ? new Float32Array(R.length) : new Uint8Array(R.length) };
  if (float) for (let i = 0; i < R.length; i++) image.data[i] = R[i]! / 255;
  else for (let i = 0; i < R.length; i++) image.data[i] = clampByte(R[i]!);
  return { image, label, patches, alpha };
}

/** The logistic-intensity label of a pixel inside the binary label: 1 / (1 + e^(−k(d − x0))). */
export function logisticLabel(d: number, k: number, x0: number): number {
  return 1 / (1 + Math.exp(-k * (d - x0)));
}
