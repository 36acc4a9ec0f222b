// Connected components of a binary mask with 8-connectivity (pixels touching at a corner
// belong to the same region), as the MVTec AD evaluation code labels ground-truth regions
// for PRO. Regions never span images: each mask is labelled on its own.

import { isPositive } from './validate.js';

export interface Regions {
  /** Per pixel: 0 for background, 1..count for the region it belongs to. */
  labels: Int32Array;
  /** sizes[r − 1] = number of pixels of region r. */
  sizes: number[];
}

/** Labels the anomalous pixels of a row-major mask (height × width) by flood fill. */
export function labelRegions(mask: ArrayLike<number | boolean>, width: number, height: number): Regions {
  const n = width * height;
  if (mask.length !== n) throw new RangeError(`labelRegions: mask has ${mask.length} pixels, expected ${width}×${height}`);
  const labels = new Int32Array(n);
  const sizes: number[] = [];
  const stack = new Int32Array(n);
  for (let start = 0; start < n; start++) {
    if (labels[start] !== 0 || !isPositive(mask[start])) continue;
    const region = sizes.length + 1;
    let top = 0;
    let size = 0;
    stack[top++] = start;
    labels[start] = region;
    while (top > 0) {
      const p = stack[--top];
      size++;
      const y = (p / width) | 0;
      const x = p - y * width;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width || (dx === 0 && dy === 0)) continue;
          const q = yy * width + xx;
          if (labels[q] === 0 && isPositive(mask[q])) {
            labels[q] = region;
            stack[top++] = q;
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes };
}

/**
 * Resolves an image's width: given explicitly, or inferred for square images. A map
 * whose pixel count is not a perfect square needs `width`.
 */
export function imageWidth(metric: string, length: number, width: number | undefined, index: number): number {
  if (width !== undefined) {
    if (!Number.isInteger(width) || width <= 0) throw new RangeError(`${metric}: options.width must be a positive integer, got ${width}`);
    if (length % width !== 0) {
      throw new RangeError(`${metric}: maps[${index}] has ${length} pixels, not a multiple of options.width = ${width}`);
    }
    return width;
  }
  const side = Math.round(Math.sqrt(length));
  if (side * side !== length) {
    throw new RangeError(
      `${metric}: maps[${index}] has ${length} pixels, which is not a square image; pass options.width so regions can be labelled`,
    );
  }
  return side;
}
