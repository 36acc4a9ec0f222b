// Images as the synthetic-anomaly generators see them, and the small pixel helpers
// they share: checks, dtype conversions, grey/RGB, crop, OpenCV-style bilinear
// resize, and median filters with OpenCV's / SciPy's border rules.
//
// Value scale: a Uint8Array image holds grey levels 0–255 (the reference's NumPy
// uint8 arrays). A Float32Array image holds the same picture on the 0–1 scale
// (torchvision's ToTensor), so 1.0 is white; the generators work internally on
// the 0–255 scale (`toLevels`) and hand back the input's type (`fromLevels`), so
// thresholds such as patchEx's "background level 0, threshold 20" mean the same
// on both. Float images skip the reference's uint8 quantisation steps (the floor
// of FPI's blend), except where OpenCV itself works on uint8 (Poisson cloning).

/** An image as the reference's NumPy/OpenCV arrays: interleaved H × W × C, row-major. */
export interface PixelImage {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array | Float32Array;
}

export interface SyntheticAnomaly {
  image: PixelImage;
  /** H × W label: binary or soft, per the generator */
  label: Float32Array;
}

/** Throws a named error unless `img` is a well-formed PixelImage. */
export function checkImage(img: PixelImage, who: string, what = 'image'): void {
  if (img === null || typeof img !== 'object') throw new TypeError(`${who}: ${what} must be a PixelImage { width, height, channels, data }, got ${String(img)}`);
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new RangeError(`${who}: ${what} width and height must be positive integers, got ${width} × ${height}`);
  }
  if (channels !== 1 && channels !== 3) throw new RangeError(`${who}: ${what} must have 1 (grey) or 3 (RGB) channels, got ${String(channels)}; drop alpha or convert first`);
  if (!(data instanceof Uint8Array) && !(data instanceof Float32Array)) {
    throw new TypeError(`${who}: ${what}.data must be a Uint8Array (0–255) or a Float32Array (0–1)`);
  }
  if (data.length !== width * height * channels) {
    throw new RangeError(`${who}: ${what}.data has ${data.length} values, expected width × height × channels = ${width} × ${height} × ${channels} = ${width * height * channels}`);
  }
}

/** Throws unless the two images have the same width and height (and, with `channels`, the same channel count). */
export function checkSameSize(a: PixelImage, b: PixelImage, who: string, names: [string, string], channels = true): void {
  if (a.width !== b.width || a.height !== b.height || (channels && a.channels !== b.channels)) {
    throw new RangeError(
      `${who}: ${names[0]} is ${a.width} × ${a.height} × ${a.channels} but ${names[1]} is ${b.width} × ${b.height} × ${b.channels}; ` +
        `give images of the same size${channels ? ' and channel count' : ''} (crop or resize first)`,
    );
  }
}

export function isUint8(img: PixelImage): img is PixelImage & { data: Uint8Array } {
  return img.data instanceof Uint8Array;
}

/** A new image of the given shape, zero-filled, of the same type as `like` (or uint8). */
export function blankImage(width: number, height: number, channels: 1 | 3, kind: 'uint8' | 'float32' = 'uint8'): PixelImage {
  const n = width * height * channels;
  return { width, height, channels, data: kind === 'uint8' ? new Uint8Array(n) : new Float32Array(n) };
}

export function cloneImage(img: PixelImage): PixelImage {
  return { width: img.width, height: img.height, channels: img.channels, data: img.data.slice() };
}

/**
 * The image's values on the 0–255 scale as float64: uint8 as is, float ×255, where a
 * float value within 0.001 of a grey level counts as that level (float32 cannot hold
 * k/255 exactly, and without this a float image made from a uint8 one by /255 would
 * cross thresholds such as "> 20" differently). `fromLevels` maps a level k back to
 * the same float32 value k/255.
 */
export function toLevels(img: PixelImage): Float64Array {
  const out = new Float64Array(img.data.length);
  if (img.data instanceof Uint8Array) out.set(img.data);
  else
    for (let i = 0; i < out.length; i++) {
      const v = img.data[i]! * 255;
      const r = Math.round(v);
      out[i] = Math.abs(v - r) < 1e-3 ? r : v;
    }
  return out;
}

/** Back from the 0–255 scale to the type of `like`: uint8 rounds half up and clamps (values the generators make are already integral), float divides by 255. */
export function fromLevels(levels: ArrayLike<number>, like: PixelImage, width = like.width, height = like.height, channels: 1 | 3 = like.channels): PixelImage {
  const n = width * height * channels;
  if (levels.length !== n) throw new RangeError(`fromLevels: ${levels.length} values for ${width} × ${height} × ${channels}`);
  if (like.data instanceof Uint8Array) {
    const d = new Uint8Array(n);
    for (let i = 0; i < n; i++) d[i] = clampByte(levels[i]!);
    return { width, height, channels, data: d };
  }
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = levels[i]! / 255;
  return { width, height, channels, data: d };
}

/** Round half up and clamp to 0–255 (NaN → 0). */
export function clampByte(v: number): number {
  if (!(v > 0)) return 0;
  if (v >= 255) return 255;
  return Math.floor(v + 0.5);
}

/** uint8 copy of any image: uint8 as is, float ×255 rounded and clamped. */
export function toUint8(img: PixelImage): PixelImage & { data: Uint8Array } {
  if (img.data instanceof Uint8Array) return { width: img.width, height: img.height, channels: img.channels, data: img.data.slice() };
  const d = new Uint8Array(img.data.length);
  for (let i = 0; i < d.length; i++) d[i] = clampByte(img.data[i]! * 255);
  return { width: img.width, height: img.height, channels: img.channels, data: d };
}

/** Float32 (0–1) copy of any image. */
export function toFloat32(img: PixelImage): PixelImage & { data: Float32Array } {
  if (img.data instanceof Float32Array) return { width: img.width, height: img.height, channels: img.channels, data: img.data.slice() };
  const d = new Float32Array(img.data.length);
  for (let i = 0; i < d.length; i++) d[i] = img.data[i]! / 255;
  return { width: img.width, height: img.height, channels: img.channels, data: d };
}

/** Mean over channels, H × W (the reference's `ima.mean(axis=-1)`), on the image's own scale. */
export function channelMean(img: PixelImage): Float64Array {
  const { width, height, channels, data } = img;
  const n = width * height;
  const out = new Float64Array(n);
  if (channels === 1) {
    for (let i = 0; i < n; i++) out[i] = data[i]!;
  } else {
    for (let i = 0; i < n; i++) out[i] = (data[3 * i]! + data[3 * i + 1]! + data[3 * i + 2]!) / 3;
  }
  return out;
}

/**
 * Grey version: 1 channel as is; RGB with Pillow's `convert('L')` weights
 * (L = (R·19595 + G·38470 + B·7471 + 0x8000) >> 16 on uint8; R·0.299 + G·0.587 + B·0.114 on float).
 */
export function toGrey(img: PixelImage): PixelImage {
  if (img.channels === 1) return cloneImage(img);
  const n = img.width * img.height;
  const s = img.data;
  if (s instanceof Uint8Array) {
    const d = new Uint8Array(n);
    for (let i = 0; i < n; i++) d[i] = (s[3 * i]! * 19595 + s[3 * i + 1]! * 38470 + s[3 * i + 2]! * 7471 + 0x8000) >>> 16;
    return { width: img.width, height: img.height, channels: 1, data: d };
  }
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = s[3 * i]! * 0.299 + s[3 * i + 1]! * 0.587 + s[3 * i + 2]! * 0.114;
  return { width: img.width, height: img.height, channels: 1, data: d };
}

/** RGB version: grey replicated to three channels; RGB copied. */
export function toRgb(img: PixelImage): PixelImage {
  if (img.channels === 3) return cloneImage(img);
  const n = img.width * img.height;
  const d = img.data instanceof Uint8Array ? new Uint8Array(3 * n) : new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    const v = img.data[i]!;
    d[3 * i] = v;
    d[3 * i + 1] = v;
    d[3 * i + 2] = v;
  }
  return { width: img.width, height: img.height, channels: 3, data: d };
}

/** Rows [y0, y1) × columns [x0, x1), clipped to the image; same type. */
export function crop(img: PixelImage, x0: number, y0: number, x1: number, y1: number): PixelImage {
  const ax = Math.max(0, Math.min(img.width, x0));
  const bx = Math.max(ax, Math.min(img.width, x1));
  const ay = Math.max(0, Math.min(img.height, y0));
  const by = Math.max(ay, Math.min(img.height, y1));
  const w = bx - ax;
  const h = by - ay;
  const C = img.channels;
  const d = img.data instanceof Uint8Array ? new Uint8Array(w * h * C) : new Float32Array(w * h * C);
  for (let y = 0; y < h; y++) d.set(img.data.subarray(((ay + y) * img.width + ax) * C, ((ay + y) * img.width + bx) * C), y * w * C);
  return { width: w, height: h, channels: C, data: d };
}

/** Linear-interpolation taps of OpenCV's INTER_LINEAR for one axis: pixel centres aligned, edges clamped. */
function linearTaps(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; w1: Float64Array } {
  const scale = inSize / outSize;
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let f = (o + 0.5) * scale - 0.5;
    let s = Math.floor(f);
    f -= s;
    if (s < 0) {
      s = 0;
      f = 0;
    }
    if (s >= inSize - 1) {
      s = inSize - 1;
      f = 0;
    }
    i0[o] = s;
    i1[o] = Math.min(s + 1, inSize - 1);
    w1[o] = f;
  }
  return { i0, i1, w1 };
}

/**
 * OpenCV `cv2.resize(..., interpolation=INTER_LINEAR)` semantics on an interleaved
 * H × W × C plane: half-pixel-aligned sampling, no antialiasing, edges clamped.
 * Computed in float64; uint8 output rounds half up (OpenCV's fixed-point path can
 * differ by one grey level).
 */
export function resizeLinearPlane(src: ArrayLike<number>, width: number, height: number, channels: number, outW: number, outH: number): Float64Array {
  const out = new Float64Array(outW * outH * channels);
  const tx = linearTaps(width, outW);
  const ty = linearTaps(height, outH);
  for (let y = 0; y < outH; y++) {
    const r0 = ty.i0[y]! * width;
    const r1 = ty.i1[y]! * width;
    const fy = ty.w1[y]!;
    for (let x = 0; x < outW; x++) {
      const c0 = tx.i0[x]!;
      const c1 = tx.i1[x]!;
      const fx = tx.w1[x]!;
      for (let c = 0; c < channels; c++) {
        const a = src[(r0 + c0) * channels + c]! * (1 - fx) + src[(r0 + c1) * channels + c]! * fx;
        const b = src[(r1 + c0) * channels + c]! * (1 - fx) + src[(r1 + c1) * channels + c]! * fx;
        out[(y * outW + x) * channels + c] = a * (1 - fy) + b * fy;
      }
    }
  }
  return out;
}

/** `resizeLinearPlane` on a PixelImage, same type out (uint8 rounded half up, float on the 0–1 scale). */
export function resizeLinear(img: PixelImage, outW: number, outH: number): PixelImage {
  if (!Number.isInteger(outW) || outW < 1 || !Number.isInteger(outH) || outH < 1) throw new RangeError(`resizeLinear: output size must be positive integers, got ${outW} × ${outH}`);
  const r = resizeLinearPlane(img.data, img.width, img.height, img.channels, outW, outH);
  if (img.data instanceof Uint8Array) {
    const d = new Uint8Array(r.length);
    for (let i = 0; i < r.length; i++) d[i] = clampByte(r[i]!);
    return { width: outW, height: outH, channels: img.channels, data: d };
  }
  return { width: outW, height: outH, channels: img.channels, data: Float32Array.from(r) };
}

/**
 * OpenCV `medianBlur(mask, k)` on a 0/1 uint8 plane (border replicated): the
 * median of a binary window is its majority, so a box count does it exactly.
 */
export function medianBlurBinary(mask: Uint8Array, width: number, height: number, k: number): Uint8Array {
  if (!Number.isInteger(k) || k < 1 || k % 2 === 0) throw new RangeError(`medianBlurBinary: kernel size must be an odd positive integer, got ${k}`);
  const r = (k - 1) / 2;
  const half = (k * k - 1) / 2; // median is 1 when more than half of the window is 1
  // Summed-area table over the replicated-border image.
  const W = width + 2 * r;
  const H = height + 2 * r;
  const sat = new Int32Array((W + 1) * (H + 1));
  for (let y = 0; y < H; y++) {
    const sy = Math.min(height - 1, Math.max(0, y - r));
    let row = 0;
    for (let x = 0; x < W; x++) {
      const sx = Math.min(width - 1, Math.max(0, x - r));
      row += mask[sy * width + sx]! ? 1 : 0;
      sat[(y + 1) * (W + 1) + x + 1] = sat[y * (W + 1) + x + 1]! + row;
    }
  }
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // window rows [y, y + k), cols [x, x + k) in padded coordinates
      const s = sat[(y + k) * (W + 1) + x + k]! - sat[y * (W + 1) + x + k]! - sat[(y + k) * (W + 1) + x]! + sat[y * (W + 1) + x]!;
      out[y * width + x] = s > half ? 1 : 0;
    }
  }
  return out;
}

/** Offsets of scikit-image's `disk(radius)` footprint (x² + y² ≤ r²). */
export function diskOffsets(radius: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let dy = -radius; dy <= radius; dy++) for (let dx = -radius; dx <= radius; dx++) if (dx * dx + dy * dy <= radius * radius) out.push([dy, dx]);
  return out;
}

/**
 * SciPy `ndimage.median_filter(x, footprint, mode='nearest')` (what scikit-image's
 * `filters.median` runs since 0.19): per pixel, the element of rank ⌊n/2⌋ of the
 * n footprint values, borders replicated. `only` (optional) limits the work to
 * pixels where it is non-zero; the others are left at 0.
 */
export function medianFilterFootprint(x: ArrayLike<number>, width: number, height: number, offsets: Array<[number, number]>, only?: Uint8Array): Float64Array {
  const n = offsets.length;
  const buf = new Float64Array(n);
  const out = new Float64Array(width * height);
  const rank = n >> 1;
  for (let y = 0; y < height; y++) {
    for (let xx = 0; xx < width; xx++) {
      if (only && !only[y * width + xx]) continue;
      for (let k = 0; k < n; k++) {
        const [dy, dx] = offsets[k]!;
        const sy = Math.min(height - 1, Math.max(0, y + dy));
        const sx = Math.min(width - 1, Math.max(0, xx + dx));
        buf[k] = x[sy * width + sx]!;
      }
      buf.sort();
      out[y * width + xx] = buf[rank]!;
    }
  }
  return out;
}
