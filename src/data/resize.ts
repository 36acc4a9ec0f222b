// Pillow's resampler, reimplemented so that reference runs see the reference's pixels
// (methods.md §0.2, quirk `pilResample`).
//
// Pillow resizes in two separable passes, horizontal first, then vertical. For each output
// pixel it centres the filter at in0 + (x + 0.5)·scale, widens the filter's support by
// max(1, scale) when downscaling (so BILINEAR is an antialiased triangle filter and LANCZOS
// an antialiased Lanczos-3), normalises the weights to sum to one, and for 8-bit images
// converts them to 22-bit fixed point and rounds and clips the result to 0..255 after each
// pass. Float images ('F' mode) accumulate in double and store float32 between passes.
// NEAREST is a different code path (an affine scale that samples floor((x + 0.5)·scale)).
//
// Source: Pillow src/libImaging/Resample.c (precompute_coeffs, normalize_coeffs_8bpc,
// ImagingResampleHorizontal/Vertical_8bpc and _32bpc) and Geometry.c (ImagingScaleAffine).

import sharp from 'sharp';
import type { RawImage } from './raw.js';
import { checkRaw } from './raw.js';
import type { Resample } from './types.js';

export type PilFilter = 'bilinear' | 'lanczos';
export type Plane = Uint8Array | Float32Array;

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;

function bilinearFilter(x: number): number {
  if (x < 0) x = -x;
  return x < 1 ? 1 - x : 0;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  x *= Math.PI;
  return Math.sin(x) / x;
}

function lanczosFilter(x: number): number {
  return -3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0;
}

const FILTERS: Record<PilFilter, { fn: (x: number) => number; support: number }> = {
  bilinear: { fn: bilinearFilter, support: 1 },
  lanczos: { fn: lanczosFilter, support: 3 },
};

/** Resampling weights for one axis: output x reads input [bounds[2x], bounds[2x] + bounds[2x+1]). */
export interface Coefficients {
  ksize: number;
  bounds: Int32Array;
  /** Normalised weights, outSize × ksize. */
  weights: Float64Array;
  /** The same in Pillow's 22-bit fixed point (8-bit images). */
  fixed: Int32Array;
}

const coefficientCache = new Map<string, Coefficients>();

/** Pillow's precompute_coeffs for the full box [0, inSize). Cached: datasets repeat sizes. */
export function coefficients(inSize: number, outSize: number, filter: PilFilter): Coefficients {
  const key = `${filter}:${inSize}:${outSize}`;
  const hit = coefficientCache.get(key);
  if (hit) return hit;
  const { fn, support: baseSupport } = FILTERS[filter];
  const in0 = 0;
  const scale = (inSize - in0) / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = baseSupport * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Float64Array(outSize * ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    // (int) casts truncate toward zero in C.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    const base = xx * ksize;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = fn((x + xmin - center + 0.5) * ss);
      weights[base + x] = w;
      ww += w;
    }
    if (ww !== 0) for (let x = 0; x < xmax; x++) weights[base + x] = weights[base + x]! / ww;
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  const fixed = new Int32Array(weights.length);
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    fixed[i] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
  }
  const c = { ksize, bounds, weights, fixed };
  if (coefficientCache.size > 256) coefficientCache.clear();
  coefficientCache.set(key, c);
  return c;
}

function clip8(v: number): number {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  return v >> PRECISION_BITS;
}

/**
 * Resizes one plane (row-major, width × height) with Pillow's BILINEAR or LANCZOS semantics.
 * A Uint8Array is resized in Pillow's 8-bit fixed point; a Float32Array in 'F' mode.
 */
export function pilResize(src: Plane, width: number, height: number, outW: number, outH: number, filter: PilFilter): Plane {
  checkPlane(src, width, height, outW, outH);
  const is8 = src instanceof Uint8Array;
  const needH = outW !== width;
  const needV = outH !== height;
  if (!needH && !needV) return src.slice();
  const cv = coefficients(height, outH, filter);
  // Only the rows the vertical pass reads go through the horizontal pass (as in Pillow).
  const yFirst = needV ? cv.bounds[0]! : 0;
  const yLast = needV ? cv.bounds[outH * 2 - 2]! + cv.bounds[outH * 2 - 1]! : height;
  let cur: Plane = src;
  let curW = width;
  let rowOffset = 0; // rows of `cur` start at this source row
  if (needH) {
    const ch = coefficients(width, outW, filter);
    const rows = yLast - yFirst;
    const out = is8 ? new Uint8Array(outW * rows) : new Float32Array(outW * rows);
    const { ksize, bounds } = ch;
    if (is8) {
      const k = ch.fixed;
      for (let y = 0; y < rows; y++) {
        const rowIn = (y + yFirst) * width;
        const rowOut = y * outW;
        for (let xx = 0; xx < outW; xx++) {
          const xmin = bounds[xx * 2]!;
          const xmax = bounds[xx * 2 + 1]!;
          const kb = xx * ksize;
          let ss = 1 << (PRECISION_BITS - 1);
          for (let x = 0; x < xmax; x++) ss += src[rowIn + xmin + x]! * k[kb + x]!;
          out[rowOut + xx] = clip8(ss);
        }
      }
    } else {
      const k = ch.weights;
      for (let y = 0; y < rows; y++) {
        const rowIn = (y + yFirst) * width;
        const rowOut = y * outW;
        for (let xx = 0; xx < outW; xx++) {
          const xmin = bounds[xx * 2]!;
          const xmax = bounds[xx * 2 + 1]!;
          const kb = xx * ksize;
          let ss = 0;
          for (let x = 0; x < xmax; x++) ss += src[rowIn + xmin + x]! * k[kb + x]!;
          out[rowOut + xx] = ss;
        }
      }
    }
    cur = out;
    curW = outW;
    rowOffset = yFirst;
  }
  if (!needV) return cur;
  const out = is8 ? new Uint8Array(outW * outH) : new Float32Array(outW * outH);
  const { ksize, bounds } = cv;
  if (is8) {
    const k = cv.fixed;
    for (let yy = 0; yy < outH; yy++) {
      const ymin = bounds[yy * 2]! - rowOffset;
      const ymax = bounds[yy * 2 + 1]!;
      const kb = yy * ksize;
      for (let xx = 0; xx < outW; xx++) {
        let ss = 1 << (PRECISION_BITS - 1);
        for (let y = 0; y < ymax; y++) ss += cur[(y + ymin) * curW + xx]! * k[kb + y]!;
        out[yy * outW + xx] = clip8(ss);
      }
    }
  } else {
    const k = cv.weights;
    for (let yy = 0; yy < outH; yy++) {
      const ymin = bounds[yy * 2]! - rowOffset;
      const ymax = bounds[yy * 2 + 1]!;
      const kb = yy * ksize;
      for (let xx = 0; xx < outW; xx++) {
        let ss = 0;
        for (let y = 0; y < ymax; y++) ss += cur[(y + ymin) * curW + xx]! * k[kb + y]!;
        out[yy * outW + xx] = ss;
      }
    }
  }
  return out;
}

/** Source index of each output index under Pillow's NEAREST (affine scale, pixel centres). */
export function nearestIndices(inSize: number, outSize: number): Int32Array {
  const a = inSize / outSize;
  const idx = new Int32Array(outSize);
  // Pillow accumulates the position (xo += a) rather than multiplying; keep that for
  // bit-identical picks at ties.
  let xo = a * 0.5;
  for (let x = 0; x < outSize; x++) {
    const xin = xo < 0 ? -1 : Math.trunc(xo);
    idx[x] = xin < 0 ? 0 : xin >= inSize ? inSize - 1 : xin;
    xo += a;
  }
  return idx;
}

/** Pillow's NEAREST resize of one plane (used for masks). */
export function pilResizeNearest(src: Plane, width: number, height: number, outW: number, outH: number): Plane {
  checkPlane(src, width, height, outW, outH);
  if (outW === width && outH === height) return src.slice();
  const xi = nearestIndices(width, outW);
  const yi = nearestIndices(height, outH);
  const out = src instanceof Uint8Array ? new Uint8Array(outW * outH) : new Float32Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const row = yi[y]! * width;
    for (let x = 0; x < outW; x++) out[y * outW + x] = src[row + xi[x]!]!;
  }
  return out;
}

function checkPlane(src: Plane, width: number, height: number, outW: number, outH: number): void {
  for (const [name, v] of [['width', width], ['height', height], ['outW', outW], ['outH', outH]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`resize: ${name} must be a positive integer, got ${v}`);
  }
  if (src.length !== width * height) {
    throw new RangeError(`resize: plane has ${src.length} values, expected width × height = ${width * height}`);
  }
}

/** Splits an interleaved image into planes, resizes each with Pillow, and interleaves again. */
function pilResizeImage(img: RawImage, outW: number, outH: number, filter: PilFilter): RawImage {
  if (img.channels === 1) {
    return { width: outW, height: outH, channels: 1, data: pilResize(img.data, img.width, img.height, outW, outH, filter) };
  }
  const n = img.width * img.height;
  const is8 = img.data instanceof Uint8Array;
  const out = is8 ? new Uint8Array(outW * outH * 3) : new Float32Array(outW * outH * 3);
  for (let c = 0; c < 3; c++) {
    const plane = is8 ? new Uint8Array(n) : new Float32Array(n);
    for (let i = 0, j = c; i < n; i++, j += 3) plane[i] = img.data[j]!;
    const r = pilResize(plane, img.width, img.height, outW, outH, filter);
    for (let i = 0, j = c; i < r.length; i++, j += 3) out[j] = r[i]!;
  }
  return { width: outW, height: outH, channels: 3, data: out };
}

/** The sharp kernel each Pillow filter is compared with (and used for `resample: 'sharp'`). */
export const SHARP_KERNEL = { bilinear: 'linear', lanczos: 'lanczos3' } as const;

/**
 * Resizes with libvips through sharp. 8-bit stays 8-bit; float data goes through sharp as
 * 16-bit (libvips' float raw output does not survive its colourspace step), a quantisation
 * of 1/65535, far below the resampling differences measured in docs/datasets.md.
 */
export async function sharpResizeImage(
  img: RawImage,
  outW: number,
  outH: number,
  kernel: 'linear' | 'lanczos3' | 'nearest' = 'linear',
): Promise<RawImage> {
  checkRaw(img);
  const is8 = img.data instanceof Uint8Array;
  let input: Uint8Array | Uint16Array;
  if (is8) input = img.data as Uint8Array;
  else {
    input = new Uint16Array(img.data.length);
    for (let i = 0; i < input.length; i++) {
      const v = img.data[i]!;
      input[i] = v <= 0 ? 0 : v >= 1 ? 65535 : Math.round(v * 65535);
    }
  }
  const space = img.channels === 1 ? (is8 ? 'b-w' : 'grey16') : is8 ? 'srgb' : 'rgb16';
  const { data, info } = await sharp(input, { raw: { width: img.width, height: img.height, channels: img.channels } })
    .resize(outW, outH, { fit: 'fill', kernel })
    // sharp writes raw output as 8-bit sRGB unless told otherwise.
    .toColourspace(space)
    .raw({ depth: is8 ? 'uchar' : 'ushort' })
    .toBuffer({ resolveWithObject: true });
  if (info.width !== outW || info.height !== outH || info.channels !== img.channels) {
    throw new Error(`sharp returned ${info.width}×${info.height}×${info.channels}, expected ${outW}×${outH}×${img.channels}`);
  }
  if (is8) return { width: outW, height: outH, channels: img.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  const u16 = new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
  const out = new Float32Array(u16.length);
  for (let i = 0; i < u16.length; i++) out[i] = u16[i]! / 65535;
  return { width: outW, height: outH, channels: img.channels, data: out };
}

/** Resizes an image to outW × outH with the chosen resampler. */
export async function resizeImage(img: RawImage, outW: number, outH: number, resample: Resample): Promise<RawImage> {
  checkRaw(img);
  switch (resample) {
    case 'pil-bilinear':
      return pilResizeImage(img, outW, outH, 'bilinear');
    case 'pil-lanczos':
      return pilResizeImage(img, outW, outH, 'lanczos');
    case 'sharp':
      if (img.width === outW && img.height === outH) return { ...img, data: img.data.slice() };
      return sharpResizeImage(img, outW, outH, 'linear');
    default:
      throw new RangeError(`resample must be 'pil-bilinear', 'pil-lanczos' or 'sharp', got ${String(resample)}`);
  }
}
