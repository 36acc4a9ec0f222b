// torchvision 0.14 ColorJitter, seeded: the whole-image jitter of the two-stage pipeline
// (methods.md §3.3) and the patch jitter of CutPaste / AnatPaste (§7.2–7.3).
//
// Draws, in torchvision's order: a random permutation of the four adjustments, then a
// factor for each one that is enabled: brightness, contrast, saturation ~ U(1 − v, 1 + v)
// (clamped at 0), hue ~ U(−v, v). The adjustments then run in the permuted order.
//
// uint8 images follow torchvision's PIL path (the reference jitters Pillow images):
//   brightness  Image.blend(black, img, f)                  (float blend, truncated)
//   contrast    blend(L-mean image, img, f), mean = int(mean(L) + 0.5)
//   saturation  blend(img.convert('L') as RGB, img, f)     (grey images: unchanged)
//   hue         HSV with Pillow's 8-bit conversions, H += uint8(h·255) mod 256 (grey: unchanged)
// float (0–1) images follow torchvision's tensor path (clamped float blends, grey
// 0.2989/0.587/0.114, float HSV, h ← (h + f) mod 1).
import type { Generator } from '../engine/random.js';
import { checkImage, type PixelImage } from './image.js';

export interface ColorJitterOptions {
  /** v or [min, max] of the brightness factor; v gives [max(0, 1 − v), 1 + v]. 0 disables it. */
  brightness?: number | [number, number];
  contrast?: number | [number, number];
  saturation?: number | [number, number];
  /** v or [min, max] with −0.5 ≤ min ≤ max ≤ 0.5; v gives [−v, v]. 0 disables it. */
  hue?: number | [number, number];
}

export interface ColorJitterDraw {
  order: number[];
  brightness: number | null;
  contrast: number | null;
  saturation: number | null;
  hue: number | null;
}

function range(v: number | [number, number] | undefined, name: string, hue: boolean): [number, number] | null {
  if (v === undefined) return null;
  let r: [number, number];
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`colorJitter: ${name} must be a non-negative number or [min, max], got ${v}`);
    r = hue ? [-v, v] : [Math.max(0, 1 - v), 1 + v];
  } else if (Array.isArray(v) && v.length === 2 && v.every(Number.isFinite) && v[0] <= v[1]) r = [v[0], v[1]];
  else throw new RangeError(`colorJitter: ${name} must be a number or [min, max] with min ≤ max, got ${JSON.stringify(v)}`);
  if (hue && (r[0] < -0.5 || r[1] > 0.5)) throw new RangeError(`colorJitter: hue must lie in [−0.5, 0.5], got [${r[0]}, ${r[1]}]`);
  if (!hue && r[0] < 0) throw new RangeError(`colorJitter: ${name} must be non-negative, got [${r[0]}, ${r[1]}]`);
  const centre = hue ? 0 : 1;
  return r[0] === centre && r[1] === centre ? null : r;
}

/** The random part of ColorJitter (torchvision's get_params): the order and the factors. */
export function colorJitterDraw(rng: Generator, options: ColorJitterOptions): ColorJitterDraw {
  const b = range(options.brightness, 'brightness', false);
  const c = range(options.contrast, 'contrast', false);
  const s = range(options.saturation, 'saturation', false);
  const h = range(options.hue, 'hue', true);
  const order = rng.shuffle([0, 1, 2, 3]) as number[];
  const u = (r: [number, number] | null): number | null => (r ? Math.fround(r[0] + (r[1] - r[0]) * rng.uniformFloat32()) : null);
  return { order, brightness: u(b), contrast: u(c), saturation: u(s), hue: u(h) };
}

/** ColorJitter(brightness, contrast, saturation, hue) on a grey or RGB image; a new image of the same type. */
export function colorJitter(img: PixelImage, rng: Generator, options: ColorJitterOptions = { brightness: 0.1, contrast: 0.1, saturation: 0.1, hue: 0.1 }): PixelImage {
  checkImage(img, 'colorJitter');
  return applyColorJitter(img, colorJitterDraw(rng, options));
}

/** Applies a drawn jitter (deterministic). */
export function applyColorJitter(img: PixelImage, d: ColorJitterDraw): PixelImage {
  let out: PixelImage = { ...img, data: img.data.slice() };
  for (const k of d.order) {
    if (k === 0 && d.brightness !== null) out = brightness(out, d.brightness);
    else if (k === 1 && d.contrast !== null) out = contrast(out, d.contrast);
    else if (k === 2 && d.saturation !== null) out = saturation(out, d.saturation);
    else if (k === 3 && d.hue !== null) out = hue(out, d.hue);
  }
  return out;
}

/** Pillow's ImagingBlend on bytes: (float)(a + α(b − a)), ≤ 0 → 0, ≥ 255 → 255, else truncated. */
function blendByte(a: number, b: number, alpha: number): number {
  const t = Math.fround(a + Math.fround(alpha * (b - a)));
  return t <= 0 ? 0 : t >= 255 ? 255 : Math.trunc(t);
}

/** Pillow's L of an RGB pixel. */
function lumaByte(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

function tensorGrey(r: number, g: number, b: number): number {
  return Math.fround(Math.fround(Math.fround(0.2989 * r) + Math.fround(0.587 * g)) + Math.fround(0.114 * b));
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

/** torchvision's tensor _blend: clamp(r·a + (1 − r)·b, 0, 1). */
function blendFloat(a: number, b: number, ratio: number): number {
  return Math.fround(clamp01(ratio * a + (1 - ratio) * b));
}

function brightness(img: PixelImage, f: number): PixelImage {
  const d = img.data;
  if (d instanceof Uint8Array) for (let i = 0; i < d.length; i++) d[i] = blendByte(0, d[i]!, f);
  else for (let i = 0; i < d.length; i++) d[i] = blendFloat(d[i]!, 0, f);
  return img;
}

function contrast(img: PixelImage, f: number): PixelImage {
  const d = img.data;
  const n = img.width * img.height;
  const C = img.channels;
  if (d instanceof Uint8Array) {
    let s = 0;
    for (let p = 0; p < n; p++) s += C === 3 ? lumaByte(d[3 * p]!, d[3 * p + 1]!, d[3 * p + 2]!) : d[p]!;
    const mean = Math.trunc(s / n + 0.5);
    for (let i = 0; i < d.length; i++) d[i] = blendByte(mean, d[i]!, f);
  } else {
    let s = 0;
    for (let p = 0; p < n; p++) s += C === 3 ? tensorGrey(d[3 * p]!, d[3 * p + 1]!, d[3 * p + 2]!) : d[p]!;
    const mean = Math.fround(s / n);
    for (let i = 0; i < d.length; i++) d[i] = blendFloat(d[i]!, mean, f);
  }
  return img;
}

function saturation(img: PixelImage, f: number): PixelImage {
  if (img.channels === 1) return img; // Pillow: L → L → blend of equal images; torchvision tensors: returned as is
  const d = img.data;
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    const r = d[3 * p]!;
    const g = d[3 * p + 1]!;
    const b = d[3 * p + 2]!;
    if (d instanceof Uint8Array) {
      const l = lumaByte(r, g, b);
      d[3 * p] = blendByte(l, r, f);
      d[3 * p + 1] = blendByte(l, g, f);
      d[3 * p + 2] = blendByte(l, b, f);
    } else {
      const l = tensorGrey(r, g, b);
      d[3 * p] = blendFloat(r, l, f);
      d[3 * p + 1] = blendFloat(g, l, f);
      d[3 * p + 2] = blendFloat(b, l, f);
    }
  }
  return img;
}

const clip8 = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : v);

/** Pillow's rgb2hsv on one pixel (Convert.c), bytes in and out. */
export function rgbToHsvByte(r: number, g: number, b: number): [number, number, number] {
  const maxc = Math.max(r, g, b);
  const minc = Math.min(r, g, b);
  if (maxc === minc) return [0, 0, maxc];
  const cr = maxc - minc;
  const s = Math.fround(cr / maxc);
  const rc = Math.fround((maxc - r) / cr);
  const gc = Math.fround((maxc - g) / cr);
  const bc = Math.fround((maxc - b) / cr);
  let h: number;
  if (r === maxc) h = Math.fround(bc - gc);
  else if (g === maxc) h = Math.fround(2 + rc - bc); // double arithmetic, stored in a float
  else h = Math.fround(4 + gc - rc);
  h = Math.fround((h / 6 + 1) % 1);
  return [clip8(Math.trunc(h * 255)), clip8(Math.trunc(s * 255)), maxc];
}

/** Pillow's hsv2rgb on one pixel (Convert.c). */
export function hsvToRgbByte(h: number, s: number, v: number): [number, number, number] {
  if (s === 0) return [v, v, v];
  const i = Math.floor((h * 6) / 255);
  const f = Math.fround((h * 6) / 255 - i);
  const fs = Math.fround(s / 255);
  // C's round(): half away from zero
  const rnd = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));
  const p = clip8(rnd(v * (1 - fs)));
  const q = clip8(rnd(v * (1 - Math.fround(fs * f)))); // float × float in C
  const t = clip8(rnd(v * (1 - fs * (1 - f))));
  switch (i % 6) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}

function hue(img: PixelImage, f: number): PixelImage {
  if (img.channels === 1) return img; // grey: torchvision returns it unchanged
  const d = img.data;
  const n = img.width * img.height;
  if (d instanceof Uint8Array) {
    // np.uint8(hue_factor * 255): the C cast, wrapping negative values modulo 256
    const shift = ((Math.trunc(f * 255) % 256) + 256) % 256;
    for (let p = 0; p < n; p++) {
      const [h, s, v] = rgbToHsvByte(d[3 * p]!, d[3 * p + 1]!, d[3 * p + 2]!);
      const [r, g, b] = hsvToRgbByte((h + shift) & 255, s, v);
      d[3 * p] = r;
      d[3 * p + 1] = g;
      d[3 * p + 2] = b;
    }
    return img;
  }
  for (let p = 0; p < n; p++) {
    const r = d[3 * p]!;
    const g = d[3 * p + 1]!;
    const b = d[3 * p + 2]!;
    const maxc = Math.max(r, g, b);
    const minc = Math.min(r, g, b);
    const cr = maxc - minc;
    const eq = maxc === minc;
    const s = cr / (eq ? 1 : maxc);
    const div = eq ? 1 : cr;
    const rc = (maxc - r) / div;
    const gc = (maxc - g) / div;
    const bc = (maxc - b) / div;
    let h = maxc === r ? bc - gc : maxc === g ? 2 + rc - bc : 4 + gc - rc;
    h = (((h / 6 + 1) % 1) + f) % 1;
    if (h < 0) h += 1;
    const i6 = Math.floor(h * 6);
    const fr = h * 6 - i6;
    const pp = clamp01(maxc * (1 - s));
    const qq = clamp01(maxc * (1 - s * fr));
    const tt = clamp01(maxc * (1 - s * (1 - fr)));
    const v = maxc;
    const rgb = [
      [v, tt, pp],
      [qq, v, pp],
      [pp, v, tt],
      [pp, qq, v],
      [tt, pp, v],
      [v, pp, qq],
    ][((i6 % 6) + 6) % 6]!;
    d[3 * p] = rgb[0]!;
    d[3 * p + 1] = rgb[1]!;
    d[3 * p + 2] = rgb[2]!;
  }
  return img;
}
