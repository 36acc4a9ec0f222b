// Scoring input: a Split or a packed ImageBatch, checked against the geometry a method was
// built for, and returned as one packed [n, C, S, S] array.
import type { Split } from '../../data/types.js';
import type { ImageBatch } from '../types.js';

function isSplit(v: Split | ImageBatch): v is Split {
  return typeof (v as Split).images === 'function';
}

export function checkGeometry(method: string, what: string, got: { channels: number; size: number }, want: { channels: number; size: number }): void {
  if (got.size !== want.size) {
    throw new Error(`${method}: ${what} has ${got.size}×${got.size} images but the method was built for size ${want.size}; load the data with size ${want.size} or create the method with size ${got.size}`);
  }
  if (got.channels !== want.channels) {
    throw new Error(`${method}: ${what} has ${got.channels} channel(s) but the method was built for channels ${want.channels}; load the data with channels ${want.channels} or create the method with channels ${got.channels}`);
  }
}

/** Packs the input as one ImageBatch, after checking it. */
export async function packImages(method: string, input: Split | ImageBatch, want: { channels: number; size: number }): Promise<ImageBatch> {
  if (!input || typeof input !== 'object') throw new TypeError(`${method}.score: expected a Split or an ImageBatch { n, channels, size, images }`);
  if (isSplit(input)) {
    checkGeometry(method, `split ${input.dataset}/${input.name}`, input, want);
    return { n: input.length, channels: input.channels, size: input.size, images: await input.images() };
  }
  const { n, channels, size, images } = input;
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`${method}.score: ImageBatch.n must be a non-negative integer, got ${n}`);
  if (!(images instanceof Float32Array)) throw new TypeError(`${method}.score: ImageBatch.images must be a Float32Array`);
  checkGeometry(method, 'the image batch', { channels, size }, want);
  if (images.length !== n * channels * size * size) {
    throw new RangeError(`${method}.score: ImageBatch.images holds ${images.length} values, n·C·S·S = ${n * channels * size * size}`);
  }
  return input;
}
