// CutPaste-Normal and CutPaste-Scar of the two-stage methods (methods.md §7.2), as
// MedIAnomaly's ssl/two_stage/anatpaste.py makes them on Pillow images (adapted there from
// Runinho/pytorch-cutpaste), with the reference's draws in the reference's order.
//
// Axes: the reference names Pillow's size[0] (the width) `h` and size[1] `w`, so its
// "row" draws are bounded by the width and its "column" draws by the height. Both are
// kept: on the square 224 × 224 images it runs on this changes nothing; on other shapes
// the result is what the reference would do (a patch may be clipped at the border).
//
// Labels: Normal marks the pasted rectangle (clipped to the image); Scar marks the pixels
// the rotated patch's alpha channel covers. Grey and RGB, uint8 (Pillow semantics) and
// float (the same geometry; the float ColorJitter path).
import type { Generator } from '../engine/random.js';
import { checkImage, type PixelImage, type SyntheticAnomaly } from './image.js';
import { colorJitter } from './jitter.js';
import { roundHalfEven, uniform } from './sampling.js';

export interface CutPasteNormalOptions {
  /** Patch area as a fraction of the image, [min, max]. Default [0.02, 0.15]. */
  areaRatio?: [number, number];
  /** Aspect drawn log-uniformly in [a, 1/a]. Default 0.3. */
  aspectRatio?: number;
  /** ColorJitter strength on the patch (brightness, contrast, saturation, hue), null for none. Default 0.1. */
  colorJitter?: number | null;
}

export interface CutPasteScarOptions {
  /** Width range [min, max] in pixels (real-valued). Default [2, 16]. */
  width?: [number, number];
  /** Height range [min, max] in pixels. Default [10, 25]. */
  height?: [number, number];
  /** Rotation range in degrees. Default [−45, 45]. */
  rotation?: [number, number];
  colorJitter?: number | null;
}

export interface CutPasteResult extends SyntheticAnomaly {
  /** The rectangle cut (x, y, width, height) and where its (rotated) copy went. */
  from: { x: number; y: number; width: number; height: number };
  to: { x: number; y: number; width: number; height: number };
}

function pair(v: unknown, name: string, who: string, lo = -Infinity): [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || v[0] > v[1] || v[0] < lo) {
    throw new RangeError(`${who}: ${name} must be [min, max] with ${lo === -Infinity ? '' : `${lo} ≤ `}min ≤ max, got ${JSON.stringify(v)}`);
  }
  return [v[0], v[1]];
}

function checkRng(rng: Generator, who: string): void {
  if (!rng || typeof (rng as Generator).uniform !== 'function') throw new TypeError(`${who}: rng must be the engine's seeded Generator (new Generator(seed))`);
}

function jitterStrength(v: unknown, who: string): number | null {
  if (v === null) return null;
  if (v === undefined) return 0.1;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 0.5) throw new RangeError(`${who}: colorJitter must be null or a number in [0, 0.5], got ${String(v)}`);
  return v;
}

/** Pillow's crop with a box already rounded: outside pixels are 0. */
export function cropZero(img: PixelImage, x0: number, y0: number, x1: number, y1: number): PixelImage {
  const w = Math.max(0, x1 - x0);
  const h = Math.max(0, y1 - y0);
  const C = img.channels;
  const d = img.data instanceof Uint8Array ? new Uint8Array(w * h * C) : new Float32Array(w * h * C);
  for (let y = 0; y < h; y++) {
    const sy = y0 + y;
    if (sy < 0 || sy >= img.height) continue;
    for (let x = 0; x < w; x++) {
      const sx = x0 + x;
      if (sx < 0 || sx >= img.width) continue;
      for (let c = 0; c < C; c++) d[(y * w + x) * C + c] = img.data[(sy * img.width + sx) * C + c]!;
    }
  }
  return { width: w, height: h, channels: C, data: d };
}

/** Pastes `patch` at (x, y) (clipped) where `alpha` (patch-sized, or null = everywhere) is non-zero; marks the label. */
function pasteInto(out: PixelImage, label: Float32Array, patch: PixelImage, x: number, y: number, alpha: Uint8Array | null): void {
  const C = out.channels;
  for (let py = 0; py < patch.height; py++) {
    const oy = y + py;
    if (oy < 0 || oy >= out.height) continue;
    for (let px = 0; px < patch.width; px++) {
      const ox = x + px;
      if (ox < 0 || ox >= out.width) continue;
      if (alpha && !alpha[py * patch.width + px]) continue;
      for (let c = 0; c < C; c++) out.data[(oy * out.width + ox) * C + c] = patch.data[(py * patch.width + px) * C + c]!;
      label[oy * out.width + ox] = 1;
    }
  }
}

/** The patch size of CutPaste-Normal / AnatPaste: area ~ U(a0, a1)·W·H, aspect log-uniform in [r, 1/r]; draws in the reference's order. */
export function drawCutSize(rng: Generator, W: number, H: number, areaRatio: [number, number], aspectRatio: number): { cutW: number; cutH: number } {
  const area = uniform(rng, areaRatio[0], areaRatio[1]) * W * H;
  // torch: log of a float32 tensor, uniform_ in float32, exp in float32
  const lo = Math.fround(Math.log(Math.fround(aspectRatio)));
  const hi = Math.fround(Math.log(Math.fround(1 / aspectRatio)));
  const aspect = Math.fround(Math.exp(Math.fround(lo + (hi - lo) * rng.uniformFloat32())));
  return { cutW: roundHalfEven(Math.sqrt(area * aspect)), cutH: roundHalfEven(Math.sqrt(area / aspect)) };
}

/** CutPaste-Normal (§7.2): a jittered rectangle of the image pasted elsewhere in it. */
export function normal(image: PixelImage, rng: Generator, options: CutPasteNormalOptions = {}): CutPasteResult {
  const who = 'cutpaste.normal';
  checkImage(image, who);
  checkRng(rng, who);
  const areaRatio = pair(options.areaRatio ?? [0.02, 0.15], 'areaRatio', who, 0);
  if (areaRatio[1] > 1) throw new RangeError(`${who}: areaRatio must lie in [0, 1], got ${JSON.stringify(areaRatio)}`);
  const aspectRatio = options.aspectRatio ?? 0.3;
  if (typeof aspectRatio !== 'number' || !(aspectRatio > 0) || aspectRatio > 1) throw new RangeError(`${who}: aspectRatio must be in (0, 1], got ${String(aspectRatio)}`);
  const jitter = jitterStrength(options.colorJitter, who);
  const W = image.width;
  const H = image.height;
  const { cutW, cutH } = drawCutSize(rng, W, H, areaRatio, aspectRatio);
  // the reference's h = size[0] (width), w = size[1] (height)
  const fromY = Math.trunc(uniform(rng, 0, W - cutH));
  const fromX = Math.trunc(uniform(rng, 0, H - cutW));
  let patch = cropZero(image, fromX, fromY, fromX + cutW, fromY + cutH);
  if (jitter !== null && patch.width > 0 && patch.height > 0) patch = colorJitter(patch, rng, { brightness: jitter, contrast: jitter, saturation: jitter, hue: jitter });
  const toY = Math.trunc(uniform(rng, 0, W - cutH));
  const toX = Math.trunc(uniform(rng, 0, H - cutW));
  const out: PixelImage = { ...image, data: image.data.slice() };
  const label = new Float32Array(W * H);
  pasteInto(out, label, patch, toX, toY, null);
  return { image: out, label, from: { x: fromX, y: fromY, width: cutW, height: cutH }, to: { x: toX, y: toY, width: cutW, height: cutH } };
}

/**
 * Pillow's Image.rotate(angle, NEAREST, expand=True) of a patch with an alpha plane
 * (RGBA): the output size, then the affine map in Pillow's 16.16 fixed point
 * (Geometry.c affine_fixed); pixels mapped from outside are transparent.
 */
export function rotateExpand(patch: PixelImage, degrees: number): { image: PixelImage; alpha: Uint8Array } {
  const w = patch.width;
  const h = patch.height;
  const C = patch.channels;
  const angleMod = ((degrees % 360) + 360) % 360;
  if (angleMod === 0 || w === 0 || h === 0) return { image: { ...patch, data: patch.data.slice() }, alpha: new Uint8Array(w * h).fill(255) };
  const ang = -(angleMod * Math.PI) / 180;
  const r15 = (v: number): number => Number(v.toFixed(15));
  const m = [r15(Math.cos(ang)), r15(Math.sin(ang)), 0, r15(-Math.sin(ang)), r15(Math.cos(ang)), 0];
  const tf = (x: number, y: number): [number, number] => [m[0]! * x + m[1]! * y + m[2]!, m[3]! * x + m[4]! * y + m[5]!];
  const cx = w / 2;
  const cy = h / 2;
  [m[2], m[5]] = tf(-cx, -cy);
  m[2]! += cx;
  m[5]! += cy;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [x, y] of [
    [0, 0],
    [w, 0],
    [w, h],
    [0, h],
  ] as const) {
    const [tx, ty] = tf(x, y);
    xs.push(tx);
    ys.push(ty);
  }
  const nw = Math.ceil(Math.max(...xs)) - Math.floor(Math.min(...xs));
  const nh = Math.ceil(Math.max(...ys)) - Math.floor(Math.min(...ys));
  [m[2], m[5]] = tf(-(nw - w) / 2, -(nh - h) / 2);
  const FIX = (v: number): number => Math.floor(v * 65536 + 0.5);
  const a0 = FIX(m[0]!);
  const a1 = FIX(m[1]!);
  const a3 = FIX(m[3]!);
  const a4 = FIX(m[4]!);
  let a2 = FIX(m[0]! * 0.5 + m[1]! * 0.5 + m[2]!);
  let a5 = FIX(m[3]! * 0.5 + m[4]! * 0.5 + m[5]!);
  const data = patch.data instanceof Uint8Array ? new Uint8Array(nw * nh * C) : new Float32Array(nw * nh * C);
  const alpha = new Uint8Array(nw * nh);
  for (let y = 0; y < nh; y++) {
    let xx = a2;
    let yy = a5;
    for (let x = 0; x < nw; x++) {
      const xin = Math.floor(xx / 65536);
      const yin = Math.floor(yy / 65536);
      if (xin >= 0 && xin < w && yin >= 0 && yin < h) {
        for (let c = 0; c < C; c++) data[(y * nw + x) * C + c] = patch.data[(yin * w + xin) * C + c]!;
        alpha[y * nw + x] = 255;
      }
      xx += a0;
      yy += a3;
    }
    a2 += a1;
    a5 += a4;
  }
  return { image: { width: nw, height: nh, channels: C, data }, alpha };
}

/** CutPaste-Scar (§7.2): a thin jittered strip, rotated, pasted through its alpha. */
export function scar(image: PixelImage, rng: Generator, options: CutPasteScarOptions = {}): CutPasteResult {
  const who = 'cutpaste.scar';
  checkImage(image, who);
  checkRng(rng, who);
  const wr = pair(options.width ?? [2, 16], 'width', who, 0);
  const hr = pair(options.height ?? [10, 25], 'height', who, 0);
  const rr = pair(options.rotation ?? [-45, 45], 'rotation', who);
  const jitter = jitterStrength(options.colorJitter, who);
  const W = image.width;
  const H = image.height;
  const cutW = uniform(rng, wr[0], wr[1]);
  const cutH = uniform(rng, hr[0], hr[1]);
  const fromY = Math.trunc(uniform(rng, 0, W - cutH));
  const fromX = Math.trunc(uniform(rng, 0, H - cutW));
  // Pillow rounds a real crop box (half to even)
  const x0 = roundHalfEven(fromX);
  const y0 = roundHalfEven(fromY);
  let patch = cropZero(image, x0, y0, roundHalfEven(fromX + cutW), roundHalfEven(fromY + cutH));
  if (jitter !== null && patch.width > 0 && patch.height > 0) patch = colorJitter(patch, rng, { brightness: jitter, contrast: jitter, saturation: jitter, hue: jitter });
  const deg = uniform(rng, rr[0], rr[1]);
  const rot = rotateExpand(patch, deg);
  const toY = Math.trunc(uniform(rng, 0, W - rot.image.width));
  const toX = Math.trunc(uniform(rng, 0, H - rot.image.height));
  const out: PixelImage = { ...image, data: image.data.slice() };
  const label = new Float32Array(W * H);
  pasteInto(out, label, rot.image, toX, toY, rot.alpha);
  return { image: out, label, from: { x: x0, y: y0, width: patch.width, height: patch.height }, to: { x: toX, y: toY, width: rot.image.width, height: rot.image.height } };
}
