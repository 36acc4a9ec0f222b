// DRAEM's synthetic anomalies (Zavrtanik et al., ICCV 2021; official code VitjanZ/DRAEM,
// data_loader.py `augment_image` and perlin.py `rand_perlin_2d_np`):
//
// 1. A Perlin-noise mask: 2-D gradient noise on a grid of 2^a × 2^b cells, a and b drawn
//    independently and uniformly from {0, …, 5} (the official perlin_scale 6, min 0; the
//    first scale runs along the rows), one random unit gradient per grid corner (angle
//    2π·U), the quintic fade 6t⁵ − 15t⁴ + 10t³, scaled by √2 so values lie in [−1, 1];
//    rotated by U(−90°, 90°) about the image centre (bilinear, zeros outside: imgaug's
//    Affine(rotate=(−90, 90)) defaults), then thresholded: mask M = [noise > 0.5].
// 2. An anomaly source: a texture (the official code uses DTD images), or, with no texture
//    folder, an image of the training set itself; resized to the image size (OpenCV
//    INTER_LINEAR, `resizeLinear`) and put through three distinct augmentations chosen at
//    random from the official ten, in the drawn order (see AUGMENTATIONS).
// 3. The blend, on the 0–1 scale: I_a = (1 − M)·I + M·((1 − β)·A + β·I), β ~ U(0, 0.8).
// 4. With probability ½ there is no anomaly: the image comes back unchanged with an all-zero
//    label (the official `no_anomaly > 0.5` branch).
//
// Returns the image (same type as the input: uint8 rounded half up, float on 0–1) and the
// label M (1 where the anomaly is, H × W float), plus `anomalous` (the official has_anomaly:
// false without an anomaly or when the rotated mask came out empty) and what was drawn.
//
// Differences from the official code, all documented: the random numbers come from the
// engine's Generator (not NumPy / torch / imgaug); the "no anomaly" decision is drawn first
// and the work skipped (the official code draws it last and discards the work: the same
// distribution); Perlin cells are located by ⌊i·r/H⌋, which equals the official tiling when
// the side is divisible by r (always, at power-of-two sides) and extends it to other sides;
// a scale larger than the image side is clamped to the side (the official code fails there);
// the augmentations follow imgaug's / Pillow's definitions with the approximations listed at
// AUGMENTATIONS.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Generator } from '../engine/random.js';
import { readFrame } from '../data/decode/index.js';
import { IMAGE_EXTENSIONS } from '../data/decode/image.js';
import { checkImage, clampByte, resizeLinear, toGrey, toRgb, toUint8, type PixelImage, type SyntheticAnomaly } from './image.js';

/** The official augmenters' names, in the official list order. */
export const AUGMENTATIONS = [
  'gammaContrast', // iaa.GammaContrast((0.5, 2.0), per_channel=True)
  'multiplyAndAddToBrightness', // iaa.MultiplyAndAddToBrightness(mul=(0.8, 1.2), add=(-30, 30)); here in YCrCb only
  'sharpness', // iaa.pillike.EnhanceSharpness() (factor U(0, 2))
  'hueAndSaturation', // iaa.AddToHueAndSaturation((-50, 50), per_channel=True)
  'solarize', // iaa.Solarize(0.5, threshold=(32, 128))
  'posterize', // iaa.Posterize() (1–8 bits)
  'invert', // iaa.Invert()
  'autocontrast', // iaa.pillike.Autocontrast() (cutoff 0–20 %)
  'equalize', // iaa.pillike.Equalize()
  'rotate', // iaa.Affine(rotate=(-45, 45))
] as const;
export type DraemAugmentation = (typeof AUGMENTATIONS)[number];

export interface DraemOptions {
  /**
   * The anomaly source: images to pick from uniformly (any size, grey or RGB, uint8 or float;
   * resized to the image's size), or 'self' (default): the image itself.
   */
  source?: readonly PixelImage[] | 'self';
  /** Perlin scale exponents a, b are drawn from {minScale, …, maxScale − 1} (official 0 and 6). */
  minScale?: number;
  maxScale?: number;
  /** Mask threshold on the noise (official 0.5). */
  threshold?: number;
  /** β ~ U(0, betaMax) (official 0.8). */
  betaMax?: number;
  /** Probability of returning the image without an anomaly (official 0.5). */
  noAnomalyProbability?: number;
  /** Rotate the noise by U(−90°, 90°) (official: yes). */
  rotateNoise?: boolean;
  /** Augmentations applied to the source (official 3 of the 10). */
  augmentations?: number;
}

export interface DraemAnomaly extends SyntheticAnomaly {
  /** The official has_anomaly: false without an anomaly or when the mask came out empty. */
  anomalous: boolean;
  /** What was drawn (absent when no anomaly was drawn). */
  drawn?: {
    scales: [number, number];
    rotation: number;
    beta: number;
    sourceIndex: number;
    augmentations: DraemAugmentation[];
  };
}

const WHO = 'anomalies.draem';

// ---------------------------------------------------------------- Perlin noise

const fade = (t: number): number => t * t * t * (t * (t * 6 - 15) + 10);

/**
 * rand_perlin_2d_np for an H × W field on an r0 × r1 grid (r0 cells along the rows) with the
 * gradient angles given ((r0 + 1) × (r1 + 1), row-major). Values in [−1, 1].
 */
export function perlinFromAngles(height: number, width: number, r0: number, r1: number, angles: ArrayLike<number>): Float64Array {
  for (const [n, v] of [['height', height], ['width', width], ['r0', r0], ['r1', r1]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`perlin: ${n} must be a positive integer, got ${v}`);
  }
  if (angles.length !== (r0 + 1) * (r1 + 1)) throw new RangeError(`perlin: expected ${(r0 + 1) * (r1 + 1)} angles for a ${r0} × ${r1} grid, got ${angles.length}`);
  const gx = new Float64Array(angles.length);
  const gy = new Float64Array(angles.length);
  for (let k = 0; k < angles.length; k++) {
    gx[k] = Math.cos(angles[k]!);
    gy[k] = Math.sin(angles[k]!);
  }
  const out = new Float64Array(height * width);
  const stride = r1 + 1;
  for (let i = 0; i < height; i++) {
    const p = (i * r0) / height;
    const ci = Math.floor(p);
    const u = p - ci; // grid[..., 0]
    const tu = fade(u);
    for (let j = 0; j < width; j++) {
      const q = (j * r1) / width;
      const cj = Math.floor(q);
      const v = q - cj; // grid[..., 1]
      const tv = fade(v);
      const k00 = ci * stride + cj;
      const k10 = k00 + stride;
      const n00 = u * gx[k00]! + v * gy[k00]!;
      const n10 = (u - 1) * gx[k10]! + v * gy[k10]!;
      const n01 = u * gx[k00 + 1]! + (v - 1) * gy[k00 + 1]!;
      const n11 = (u - 1) * gx[k10 + 1]! + (v - 1) * gy[k10 + 1]!;
      const a = (n10 - n00) * tu + n00;
      const b = (n11 - n01) * tu + n01;
      out[i * width + j] = Math.SQRT2 * ((b - a) * tv + a);
    }
  }
  return out;
}

/** Perlin noise with gradient angles 2π·U drawn from `rng` (row-major over the grid corners). */
export function perlinNoise(height: number, width: number, r0: number, r1: number, rng: Generator): Float64Array {
  const angles = new Float64Array((r0 + 1) * (r1 + 1));
  for (let k = 0; k < angles.length; k++) angles[k] = 2 * Math.PI * rng.uniform();
  return perlinFromAngles(height, width, r0, r1, angles);
}

// ---------------------------------------------------------------- geometry

/**
 * Rotation by `degrees` about the image centre ((W − 1)/2, (H − 1)/2), bilinear, zeros
 * outside (imgaug's Affine(rotate=…) defaults: order 1, mode constant, cval 0), on an
 * interleaved H × W × C plane. Positive angles turn clockwise on screen (y points down).
 */
export function rotatePlane(src: ArrayLike<number>, width: number, height: number, channels: number, degrees: number): Float64Array {
  const out = new Float64Array(width * height * channels);
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // Inverse map: the source point that lands on (x, y).
      const dx = x - cx;
      const dy = y - cy;
      const sx = cos * dx + sin * dy + cx;
      const sy = -sin * dx + cos * dy + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < channels; c++) {
        const at = (yy: number, xx: number): number => (yy >= 0 && yy < height && xx >= 0 && xx < width ? src[(yy * width + xx) * channels + c]! : 0);
        const top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx;
        const bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx;
        out[(y * width + x) * channels + c] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

/** rotatePlane on a PixelImage, same type out (uint8 rounded half up). */
export function rotateImage(img: PixelImage, degrees: number): PixelImage {
  const r = rotatePlane(img.data, img.width, img.height, img.channels, degrees);
  if (img.data instanceof Uint8Array) {
    const d = new Uint8Array(r.length);
    for (let i = 0; i < r.length; i++) d[i] = clampByte(r[i]!);
    return { width: img.width, height: img.height, channels: img.channels, data: d };
  }
  return { width: img.width, height: img.height, channels: img.channels, data: Float32Array.from(r) };
}

// ---------------------------------------------------------------- augmentations (uint8 RGB)

const uniform = (rng: Generator, lo: number, hi: number): number => lo + (hi - lo) * rng.uniform();
/** imgaug's DiscreteUniform(lo, hi): an integer in [lo, hi], both ends included. */
const discrete = (rng: Generator, lo: number, hi: number): number => lo + rng.int(hi - lo + 1);

function applyLut(d: Uint8Array, lut: ArrayLike<number>, channel = -1, channels = 3): void {
  if (channel < 0) for (let i = 0; i < d.length; i++) d[i] = lut[d[i]!]!;
  else for (let i = channel; i < d.length; i += channels) d[i] = lut[d[i]!]!;
}

/** OpenCV's 8-bit RGB ↔ YCrCb (BT.601, delta 128). */
function rgbToYcc(r: number, g: number, b: number): [number, number, number] {
  const y = 0.299 * r + 0.587 * g + 0.114 * b;
  return [y, (r - y) * 0.713 + 128, (b - y) * 0.564 + 128];
}
function yccToRgb(y: number, cr: number, cb: number): [number, number, number] {
  return [y + 1.403 * (cr - 128), y - 0.714 * (cr - 128) - 0.344 * (cb - 128), y + 1.773 * (cb - 128)];
}

/** OpenCV's 8-bit RGB → HSV (H in 0–179, S and V in 0–255), as floats before rounding. */
function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const v = Math.max(r, g, b);
  const mn = Math.min(r, g, b);
  const diff = v - mn;
  const s = v === 0 ? 0 : (255 * diff) / v;
  let h = 0;
  if (diff > 0) {
    if (v === r) h = (60 * (g - b)) / diff;
    else if (v === g) h = 120 + (60 * (b - r)) / diff;
    else h = 240 + (60 * (r - g)) / diff;
    if (h < 0) h += 360;
  }
  return [h / 2, s, v];
}
function hsvToRgb(h2: number, s: number, v: number): [number, number, number] {
  const h = ((h2 * 2) % 360) / 60;
  const sv = s / 255;
  const c = v * sv;
  const x = c * (1 - Math.abs((h % 2) - 1));
  const m = v - c;
  const [r, g, b] = h < 1 ? [c, x, 0] : h < 2 ? [x, c, 0] : h < 3 ? [0, c, x] : h < 4 ? [0, x, c] : h < 5 ? [x, 0, c] : [c, 0, x];
  return [r + m, g + m, b + m];
}

/** Pillow's ImageOps.autocontrast LUT of one band's histogram with `cutoff` percent cut at both ends. */
function autocontrastLut(hist: Int32Array, cutoff: number): Uint8Array {
  const h = hist.slice();
  if (cutoff) {
    let n = 0;
    for (let i = 0; i < 256; i++) n += h[i]!;
    let cut = Math.floor((n * cutoff) / 100);
    for (let lo = 0; lo < 256 && cut > 0; lo++) {
      if (cut > h[lo]!) {
        cut -= h[lo]!;
        h[lo] = 0;
      } else {
        h[lo] = h[lo]! - cut;
        cut = 0;
      }
    }
    cut = Math.floor((n * cutoff) / 100);
    for (let hi = 255; hi >= 0 && cut > 0; hi--) {
      if (cut > h[hi]!) {
        cut -= h[hi]!;
        h[hi] = 0;
      } else {
        h[hi] = h[hi]! - cut;
        cut = 0;
      }
    }
  }
  let lo = 0;
  while (lo < 256 && !h[lo]) lo++;
  let hi = 255;
  while (hi >= 0 && !h[hi]) hi--;
  const lut = new Uint8Array(256);
  if (hi <= lo) {
    for (let i = 0; i < 256; i++) lut[i] = i;
    return lut;
  }
  const scale = 255 / (hi - lo);
  const offset = -lo * scale;
  for (let i = 0; i < 256; i++) lut[i] = Math.max(0, Math.min(255, Math.trunc(i * scale + offset)));
  return lut;
}

/** Pillow's ImageOps.equalize LUT of one band's histogram. */
function equalizeLut(h: Int32Array): Uint8Array {
  const lut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) lut[i] = i;
  const nonzero: number[] = [];
  for (let i = 0; i < 256; i++) if (h[i]) nonzero.push(h[i]!);
  if (nonzero.length <= 1) return lut;
  const step = Math.floor((nonzero.reduce((a, b) => a + b, 0) - nonzero[nonzero.length - 1]!) / 255);
  if (!step) return lut;
  let n = Math.floor(step / 2);
  for (let i = 0; i < 256; i++) {
    lut[i] = Math.min(255, Math.floor(n / step));
    n += h[i]!;
  }
  return lut;
}

function histogram(d: Uint8Array, channel: number, channels: number): Int32Array {
  const h = new Int32Array(256);
  for (let i = channel; i < d.length; i += channels) h[d[i]!]!++;
  return h;
}

/**
 * One augmentation on an interleaved RGB uint8 image, in place where it can be, with its
 * parameters drawn from `rng` as imgaug draws them (per image; per channel where the
 * official augmenter says per_channel=True). Approximations: MultiplyAndAddToBrightness
 * works in YCrCb only (imgaug picks one of YCrCb, HSV, HLS, Lab per image) and applies the
 * multiply before the add (imgaug's random order); AddToHueAndSaturation maps the hue value
 * from [−255, 255] to OpenCV's 0–179 hue cyclically (×180/255) and adds the saturation value
 * with clipping.
 */
export function augment(img: PixelImage & { data: Uint8Array }, op: DraemAugmentation, rng: Generator): PixelImage & { data: Uint8Array } {
  if (img.channels !== 3) throw new RangeError(`${WHO}: augmentations work on RGB images, got ${img.channels} channel(s)`);
  const d = img.data;
  const n = img.width * img.height;
  const { width: w, height: h } = img;
  switch (op) {
    case 'gammaContrast': {
      for (let c = 0; c < 3; c++) {
        const g = uniform(rng, 0.5, 2);
        const lut = new Uint8Array(256);
        for (let i = 0; i < 256; i++) lut[i] = clampByte(255 * Math.pow(i / 255, g));
        applyLut(d, lut, c);
      }
      return img;
    }
    case 'multiplyAndAddToBrightness': {
      const mul = uniform(rng, 0.8, 1.2);
      const add = uniform(rng, -30, 30);
      for (let i = 0; i < n; i++) {
        const [y, cr, cb] = rgbToYcc(d[3 * i]!, d[3 * i + 1]!, d[3 * i + 2]!);
        const y2 = clampByte(clampByte(clampByte(y) * mul) + add);
        const [r, g, b] = yccToRgb(y2, clampByte(cr), clampByte(cb));
        d[3 * i] = clampByte(r);
        d[3 * i + 1] = clampByte(g);
        d[3 * i + 2] = clampByte(b);
      }
      return img;
    }
    case 'sharpness': {
      // Pillow's ImageEnhance.Sharpness: blend of the SMOOTH-filtered image (3×3 kernel
      // [1 1 1; 1 5 1; 1 1 1]/13, border pixels kept) and the image with factor U(0, 2).
      const factor = uniform(rng, 0, 2);
      const src = d.slice();
      for (let y = 1; y < h - 1; y++) {
        for (let x = 1; x < w - 1; x++) {
          for (let c = 0; c < 3; c++) {
            let s = 4 * src[(y * w + x) * 3 + c]!;
            for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += src[((y + dy) * w + x + dx) * 3 + c]!;
            const smooth = clampByte(s / 13);
            const k = (y * w + x) * 3 + c;
            d[k] = Math.max(0, Math.min(255, Math.trunc(smooth + factor * (src[k]! - smooth))));
          }
        }
      }
      return img;
    }
    case 'hueAndSaturation': {
      const hue = discrete(rng, -50, 50);
      const sat = discrete(rng, -50, 50);
      const shift = Math.round((hue * 180) / 255);
      for (let i = 0; i < n; i++) {
        const [hh, ss, vv] = rgbToHsv(d[3 * i]!, d[3 * i + 1]!, d[3 * i + 2]!);
        const h2 = (((Math.round(hh) + shift) % 180) + 180) % 180;
        const s2 = Math.max(0, Math.min(255, Math.round(ss) + sat));
        const [r, g, b] = hsvToRgb(h2, s2, vv);
        d[3 * i] = clampByte(r);
        d[3 * i + 1] = clampByte(g);
        d[3 * i + 2] = clampByte(b);
      }
      return img;
    }
    case 'solarize': {
      const apply = rng.uniform() < 0.5;
      const threshold = uniform(rng, 32, 128);
      if (apply) for (let i = 0; i < d.length; i++) if (d[i]! >= threshold) d[i] = 255 - d[i]!;
      return img;
    }
    case 'posterize': {
      const bits = discrete(rng, 1, 8);
      const mask = (0xff << (8 - bits)) & 0xff;
      for (let i = 0; i < d.length; i++) d[i] = d[i]! & mask;
      return img;
    }
    case 'invert': {
      for (let i = 0; i < d.length; i++) d[i] = 255 - d[i]!;
      return img;
    }
    case 'autocontrast': {
      const cutoff = discrete(rng, 0, 20);
      for (let c = 0; c < 3; c++) applyLut(d, autocontrastLut(histogram(d, c, 3), cutoff), c);
      return img;
    }
    case 'equalize': {
      for (let c = 0; c < 3; c++) applyLut(d, equalizeLut(histogram(d, c, 3)), c);
      return img;
    }
    case 'rotate': {
      const r = rotatePlane(d, w, h, 3, uniform(rng, -45, 45));
      for (let i = 0; i < d.length; i++) d[i] = clampByte(r[i]!);
      return img;
    }
  }
}

/** `count` distinct augmentations in drawn order (np.random.choice(10, count, replace=False)). */
export function chooseAugmentations(rng: Generator, count = 3): DraemAugmentation[] {
  if (!Number.isInteger(count) || count < 0 || count > AUGMENTATIONS.length) throw new RangeError(`${WHO}: augmentations must be an integer in [0, ${AUGMENTATIONS.length}], got ${count}`);
  const idx = AUGMENTATIONS.map((_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(idx.length - i);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, count).map((i) => AUGMENTATIONS[i]!);
}

// ---------------------------------------------------------------- the generator

function checkNumber(name: string, v: number, lo: number, hi: number, integer = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new RangeError(`${WHO}: option ${name} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${String(v)}`);
  }
}

/** The source prepared for blending: RGB uint8 at the image's size, augmented. */
function prepareSource(src: PixelImage, img: PixelImage, ops: readonly DraemAugmentation[], rng: Generator): PixelImage & { data: Uint8Array } {
  let s = toUint8(src.channels === 3 ? src : toRgb(src));
  if (s.width !== img.width || s.height !== img.height) s = toUint8(resizeLinear(s, img.width, img.height));
  for (const op of ops) s = augment(s, op, rng);
  return s;
}

/**
 * One DRAEM synthetic anomaly on `image` (grey or RGB, uint8 0–255 or float 0–1): see the
 * top of this file. Deterministic given `rng`'s state.
 */
export function draem(image: PixelImage, rng: Generator, options: DraemOptions = {}): DraemAnomaly {
  checkImage(image, WHO);
  const minScale = options.minScale ?? 0;
  const maxScale = options.maxScale ?? 6;
  const threshold = options.threshold ?? 0.5;
  const betaMax = options.betaMax ?? 0.8;
  const pNone = options.noAnomalyProbability ?? 0.5;
  const nAug = options.augmentations ?? 3;
  checkNumber('minScale', minScale, 0, 30, true);
  checkNumber('maxScale', maxScale, minScale + 1, 31, true);
  checkNumber('threshold', threshold, -1, 1);
  checkNumber('betaMax', betaMax, 0, 1);
  checkNumber('noAnomalyProbability', pNone, 0, 1);
  checkNumber('augmentations', nAug, 0, AUGMENTATIONS.length, true);
  const source = options.source ?? 'self';
  if (source !== 'self') {
    if (!Array.isArray(source) || source.length === 0) {
      throw new RangeError(`${WHO}: option source must be 'self' or a non-empty array of PixelImages; give at least one source image`);
    }
  }
  const { width: w, height: h, channels: C } = image;
  const n = w * h;
  const label = new Float32Array(n);
  const same = (): DraemAnomaly => ({ image: { width: w, height: h, channels: C, data: image.data.slice() }, label, anomalous: false });
  if (rng.uniform() < pNone) return same();

  const sourceIndex = source === 'self' ? 0 : rng.int(source.length);
  const src = source === 'self' ? image : source[sourceIndex]!;
  checkImage(src, WHO, `source[${sourceIndex}]`);
  const augmentations = chooseAugmentations(rng, nAug);
  const aug = prepareSource(src, image, augmentations, rng);
  const a = 2 ** (minScale + rng.int(maxScale - minScale));
  const b = 2 ** (minScale + rng.int(maxScale - minScale));
  const r0 = Math.min(a, h);
  const r1 = Math.min(b, w);
  let noise = perlinNoise(h, w, r0, r1, rng);
  const rotation = options.rotateNoise === false ? 0 : uniform(rng, -90, 90);
  if (options.rotateNoise !== false) noise = rotatePlane(noise, w, h, 1, rotation);
  const beta = rng.uniform() * betaMax;

  let count = 0;
  for (let i = 0; i < n; i++) if (noise[i]! > threshold) (label[i] = 1), count++;
  const anomalySource = C === 3 ? aug : toGrey(aug);
  const A = anomalySource.data as Uint8Array;
  const out = image.data instanceof Uint8Array ? new Uint8Array(n * C) : new Float32Array(n * C);
  const isByte = image.data instanceof Uint8Array;
  const I = image.data;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) {
      const k = i * C + c;
      if (!label[i]) {
        out[k] = I[k]!;
        continue;
      }
      const v = isByte ? I[k]! / 255 : I[k]!;
      const blended = (1 - beta) * (A[k]! / 255) + beta * v;
      out[k] = isByte ? clampByte(blended * 255) : blended;
    }
  }
  return {
    image: { width: w, height: h, channels: C, data: out },
    label,
    anomalous: count > 0,
    drawn: { scales: [r0, r1], rotation, beta, sourceIndex, augmentations },
  };
}

// ---------------------------------------------------------------- texture folders

async function walkImages(dir: string, root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`${WHO}: cannot read the texture folder ${root}: ${reason}`, { cause: err });
  }
  const visible = entries.filter((e) => !e.name.startsWith('.')).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const out: string[] = [];
  for (const e of visible) {
    if ((e.isFile() || e.isSymbolicLink()) && IMAGE_EXTENSIONS.some((x) => e.name.toLowerCase().endsWith(x))) out.push(join(dir, e.name));
  }
  for (const e of visible) if (e.isDirectory()) out.push(...(await walkImages(join(dir, e.name), root)));
  return out;
}

export interface TextureOptions {
  /** Resize every texture to size × size on load (OpenCV INTER_LINEAR), as the generator would anyway. */
  size?: number;
  /** Called after each decoded file (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * The anomaly-source textures of a folder (DTD's layout: images in subfolders; any depth
 * here), in name order, decoded with the library's image decoder (PNG, JPEG, TIFF, WebP, GIF)
 * and kept as RGB uint8, resized to `size` when given. A folder without images is an error
 * naming it.
 */
export async function loadTextures(folder: string, opts: TextureOptions = {}): Promise<PixelImage[]> {
  if (typeof folder !== 'string' || folder === '') throw new TypeError(`${WHO}: the texture folder must be a path, got ${JSON.stringify(folder)}`);
  const files = await walkImages(folder, folder);
  if (files.length === 0) {
    throw new Error(`${WHO}: the texture folder ${folder} holds no image files (${IMAGE_EXTENSIONS.join(', ')}, searched in subfolders too); give a folder of texture images such as DTD's images/`);
  }
  const out: PixelImage[] = [];
  for (let i = 0; i < files.length; i++) {
    const raw = await readFrame(files[i]!, 'image', 0);
    let img: PixelImage = toUint8(raw.channels === 3 ? raw : toRgb(raw));
    if (opts.size !== undefined) img = resizeLinear(img, opts.size, opts.size);
    out.push(img);
    opts.onProgress?.(i + 1, files.length);
  }
  return out;
}
