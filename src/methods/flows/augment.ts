// CFlow-AD's training augmentation: torchvision RandomRotation(5) on the PIL image (nearest
// neighbour, expand false, fill 0 = black), before ToTensor and the ImageNet normalisation.
//
// Each image turns by its own angle, uniform in [−max, max] degrees (counter-clockwise for a
// positive angle), about the image centre (w/2, h/2): Pillow's affine transform maps every
// output pixel centre (x + ½, y + ½) back through the inverse rotation and takes the input pixel
// the point falls in (outside the image: the fill); rotatePlane follows its arithmetic step by
// step, so the pixels are Pillow's. Images are [-1, 1] here, so black is −1.
import type { Generator } from '../../engine/index.js';

/** The fill of the rotated-in corners: Pillow's 0 (black), in the library's [-1, 1] range. */
export const ROTATION_FILL = -1;

/** Python's round(v, 15): the double nearest the decimal rounded to 15 places. */
const round15 = (v: number): number => Number(v.toFixed(15));

/**
 * Rotates one S × S plane by `degrees` (counter-clockwise) into `out`: Pillow 9's
 * Image.rotate(angle, NEAREST, expand=False, fillcolor=fill) value for value — its shortcuts
 * for 0°, 90°, 180° and 270°, otherwise its matrix (cos and sin rounded to 15 decimals) and its
 * affine nearest-neighbour loop in 16.16 fixed point.
 */
export function rotatePlane(src: Float32Array, out: Float32Array, s: number, degrees: number, fill = ROTATION_FILL): void {
  let deg = degrees % 360; // Python's float modulo: the sign of the divisor
  if (deg !== 0 && deg < 0) deg += 360;
  if (deg === 0) {
    out.set(src.subarray(0, s * s));
    return;
  }
  if (deg === 90 || deg === 180 || deg === 270) {
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const [sx, sy] = deg === 90 ? [s - 1 - y, x] : deg === 180 ? [s - 1 - x, s - 1 - y] : [y, s - 1 - x];
        out[y * s + x] = src[sy * s + sx];
      }
    }
    return;
  }
  const angle = -(deg * (Math.PI / 180)); // math.radians
  const a = round15(Math.cos(angle));
  const b = round15(Math.sin(angle));
  const d = round15(-Math.sin(angle));
  const e = round15(Math.cos(angle));
  const centre = s / 2;
  const c = a * -centre + b * -centre + 0 + centre;
  const f = d * -centre + e * -centre + 0 + centre;
  // ImagingTransformAffine's nearest path in 16.16 fixed point (affine_fixed; taken whenever
  // the source coordinates stay within ±32768): the source point of pixel centre (½, ½), then
  // integer steps, floor by the shift. Integers here stay far below 2^53.
  const fix = (v: number): number => Math.floor(v * 65536 + 0.5);
  const a0 = fix(a);
  const a1 = fix(b);
  const a3 = fix(d);
  const a4 = fix(e);
  let a2 = fix(c + b * 0.5 + a * 0.5);
  let a5 = fix(f + e * 0.5 + d * 0.5);
  for (let y = 0; y < s; y++) {
    let xx = a2;
    let yy = a5;
    for (let x = 0; x < s; x++) {
      const xi = Math.floor(xx / 65536);
      const yi = Math.floor(yy / 65536);
      out[y * s + x] = xi >= 0 && xi < s && yi >= 0 && yi < s ? src[yi * s + xi] : fill;
      xx += a0;
      yy += a3;
    }
    a2 += a1;
    a5 += a4;
  }
}

/**
 * Rotates each of n images [n, C, S, S] by its own angle uniform in [−maxDegrees, maxDegrees]
 * (one draw per image from `g`, in image order); every channel of an image turns alike.
 * Returns a new array; maxDegrees 0 returns the input and draws nothing.
 */
export function randomRotateImages(images: Float32Array, n: number, channels: number, size: number, maxDegrees: number, g: Generator): Float32Array {
  if (maxDegrees === 0) return images;
  const plane = size * size;
  const out = new Float32Array(images.length);
  for (let i = 0; i < n; i++) {
    const deg = (g.uniform() * 2 - 1) * maxDegrees;
    for (let ch = 0; ch < channels; ch++) {
      const o = (i * channels + ch) * plane;
      rotatePlane(images.subarray(o, o + plane), out.subarray(o, o + plane), size, deg);
    }
  }
  return out;
}
