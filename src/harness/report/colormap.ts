// Heat-map rendering: a jet-like colormap blended over the grayscale input, and mask
// outlines. Everything works on plain RGB byte buffers (row-major, 3 bytes a pixel) so
// the same code serves `predict` (PNG files) and the HTML report (data: URIs).

/** Jet colormap: t in [0, 1] → [r, g, b] bytes (dark blue → cyan → yellow → dark red). */
export function jet(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const channel = (c: number) => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - c))));
  return [channel(3), channel(2), channel(1)];
}

/** An image in [-1, 1] (C × S × S, C = 1 or 3) as RGB bytes; grayscale is repeated into the 3 channels. */
export function imageToRgb(image: Float32Array, channels: number, size: number): Uint8Array {
  const px = size * size;
  if (image.length !== channels * px) throw new RangeError(`imageToRgb: image has ${image.length} values, expected ${channels} × ${size} × ${size}`);
  const out = new Uint8Array(px * 3);
  const byte = (v: number) => Math.round(Math.min(255, Math.max(0, (v + 1) * 127.5)));
  for (let i = 0; i < px; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = byte(image[(channels === 3 ? c : 0) * px + i]);
  }
  return out;
}

/** The range a set of maps is coloured over: [min, 99.5th percentile] of all values. */
export function mapRange(maps: readonly Float32Array[]): { lo: number; hi: number } {
  let n = 0;
  for (const m of maps) n += m.length;
  if (n === 0) return { lo: 0, hi: 1 };
  const all = new Float32Array(n);
  let o = 0;
  for (const m of maps) {
    all.set(m, o);
    o += m.length;
  }
  all.sort();
  const lo = all[0];
  // The top half-percent would otherwise set the scale and leave every other pixel blue.
  const hi = all[Math.min(n - 1, Math.floor(0.995 * (n - 1)))];
  return { lo, hi: hi > lo ? hi : lo + 1e-12 };
}

/** Jet colours of `map` over [lo, hi], blended with `base` (RGB bytes) at opacity `alpha`. */
export function overlay(base: Uint8Array, map: Float32Array, range: { lo: number; hi: number }, alpha = 0.5): Uint8Array {
  if (base.length !== map.length * 3) throw new RangeError('overlay: the map and the image differ in size');
  const out = new Uint8Array(base.length);
  const span = range.hi - range.lo;
  for (let i = 0; i < map.length; i++) {
    const c = jet((map[i] - range.lo) / span);
    for (let k = 0; k < 3; k++) out[i * 3 + k] = Math.round((1 - alpha) * base[i * 3 + k] + alpha * c[k]);
  }
  return out;
}

/** The heat map alone (no blending), for a colour bar or a map-only panel. */
export function heatmap(map: Float32Array, range: { lo: number; hi: number }): Uint8Array {
  const out = new Uint8Array(map.length * 3);
  const span = range.hi - range.lo;
  for (let i = 0; i < map.length; i++) out.set(jet((map[i] - range.lo) / span), i * 3);
  return out;
}

/**
 * Draws the outline of a 0/1 mask (S × S) into an RGB image upscaled by `scale`: a pixel
 * of the upscaled image is on the outline when it lies in the mask and touches a pixel
 * outside it. Done after upscaling so the line stays one pixel wide.
 */
export function drawOutline(rgb: Uint8Array, side: number, mask: Uint8Array, maskSide: number, color: [number, number, number] = [255, 255, 255]): void {
  const scale = side / maskSide;
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`drawOutline: image side ${side} is not a multiple of the mask side ${maskSide}`);
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= side || y >= side ? 0 : mask[Math.floor(y / scale) * maskSide + Math.floor(x / scale)]);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      if (!at(x, y)) continue;
      if (at(x - 1, y) && at(x + 1, y) && at(x, y - 1) && at(x, y + 1)) continue;
      rgb.set(color, (y * side + x) * 3);
    }
  }
}

/** Nearest-neighbour upscaling of RGB bytes by an integer factor (keeps pixels crisp in the report). */
export function upscale(rgb: Uint8Array, side: number, factor: number): Uint8Array {
  if (factor === 1) return rgb;
  const big = side * factor;
  const out = new Uint8Array(big * big * 3);
  for (let y = 0; y < big; y++) {
    const sy = Math.floor(y / factor);
    for (let x = 0; x < big; x++) {
      const s = (sy * side + Math.floor(x / factor)) * 3;
      const d = (y * big + x) * 3;
      out[d] = rgb[s];
      out[d + 1] = rgb[s + 1];
      out[d + 2] = rgb[s + 2];
    }
  }
  return out;
}
