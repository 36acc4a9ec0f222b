// A decoded image before preprocessing, and the colour conversions Pillow applies when the
// reference code calls `.convert('L')` or `.convert('RGB')`.
//
// 8-bit images stay 8-bit (Uint8Array) so that conversion and resizing can follow Pillow's
// integer arithmetic exactly. Deeper sources (16-bit PNG/TIFF, DICOM, NIfTI) arrive as
// Float32Array in [0, 1]; Pillow would clip them to 8 bits, which destroys the image, so
// they take Pillow's float ('F' mode) path instead.

export interface RawImage {
  width: number;
  height: number;
  /** 1 (gray) or 3 (RGB); alpha is dropped at decode time, as Pillow's L/RGB conversions do. */
  channels: 1 | 3;
  /** Interleaved (row-major, channel last). Uint8Array: 0..255; Float32Array: 0..1. */
  data: Uint8Array | Float32Array;
}

export function checkRaw(img: RawImage): void {
  const n = img.width * img.height * img.channels;
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1) {
    throw new RangeError(`image size must be positive integers, got ${img.width}×${img.height}`);
  }
  if (img.data.length !== n) {
    throw new RangeError(`image data has ${img.data.length} values, expected ${img.width}×${img.height}×${img.channels} = ${n}`);
  }
}

/**
 * Luma of an RGB image with Pillow's weights and rounding: L = (R·19595 + G·38470 + B·7471 + 2^15) >> 16
 * for 8-bit data (Pillow's `L24`, i.e. ITU-R 601-2 0.299/0.587/0.114 in 16-bit fixed point);
 * the same weights in floating point for float data.
 */
export function toGrayPlane(img: RawImage): Uint8Array | Float32Array {
  const n = img.width * img.height;
  if (img.channels === 1) return img.data;
  const src = img.data;
  if (src instanceof Uint8Array) {
    const out = new Uint8Array(n);
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      out[i] = (src[j]! * 19595 + src[j + 1]! * 38470 + src[j + 2]! * 7471 + 0x8000) >>> 16;
    }
    return out;
  }
  const out = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[i] = src[j]! * 0.299 + src[j + 1]! * 0.587 + src[j + 2]! * 0.114;
  }
  return out;
}

/** Channel `c` of an interleaved RGB image as a plane. */
export function channelPlane(img: RawImage, c: number): Uint8Array | Float32Array {
  const n = img.width * img.height;
  if (img.channels === 1) return img.data;
  const src = img.data;
  const out = src instanceof Uint8Array ? new Uint8Array(n) : new Float32Array(n);
  for (let i = 0, j = c; i < n; i++, j += 3) out[i] = src[j]!;
  return out;
}
