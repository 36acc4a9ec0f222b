// Simple statistics of input images, the ranges a run's training images span, and the
// checks that flag an input far from them. A model scores whatever it is given: an RGB
// photo fed to a grey brain-MRI model still gets a number, and that number means nothing.
// These checks turn such cases into a warning next to the score instead of a silent,
// confident-looking result. They are coarse on purpose (a few numbers per image, saved in
// the run's calibration.json): they catch the wrong kind of image, not subtle shifts.
import type { RawImage } from '../data/raw.js';

/** Mean and standard deviation of one preprocessed image (C × S × S, values in [-1, 1]). */
export interface ImageStats {
  mean: number;
  std: number;
}

/** What the training images looked like, as ranges over the training set. */
export interface InputProfile {
  /** Channels the model takes (1 grey, 3 RGB). */
  channels: number;
  /** Training images summarised. */
  count: number;
  /** Per-image intensity mean and std (preprocessed, [-1, 1]): lowest and highest over the training images. */
  mean: { min: number; max: number };
  std: { min: number; max: number };
  /**
   * Colour fraction (see colourFraction) of training source files, before any grey
   * conversion: `sampled` files decoded; sources without colour (NIfTI, IDX, generated
   * data) count as 0 without decoding.
   */
  colour: { sampled: number; min: number; max: number };
}

/** Channel difference (out of 255) above which a pixel counts as coloured: JPEG chroma noise on a grey image stays below it. */
const COLOUR_DIFF = 24;
/** An image with at least this fraction of coloured pixels is a colour image. */
export const COLOUR_IMAGE = 0.05;
/** Training sources count as grey when none has more than this fraction of coloured pixels. */
const GREY_SOURCE = 0.01;

/**
 * Fraction of pixels whose channels differ by more than COLOUR_DIFF/255: 0 for grey
 * images (also grey images stored as RGB), large for photographs and stained slides.
 * Computed on the decoded image, before the preprocessing turns it grey.
 */
export function colourFraction(img: RawImage): number {
  if (img.channels === 1) return 0;
  const d = img.data;
  const limit = d instanceof Uint8Array ? COLOUR_DIFF : COLOUR_DIFF / 255;
  const n = img.width * img.height;
  let coloured = 0;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const r = d[j]!;
    const g = d[j + 1]!;
    const b = d[j + 2]!;
    if (Math.max(r, g, b) - Math.min(r, g, b) > limit) coloured++;
  }
  return coloured / n;
}

export function imageStats(image: ArrayLike<number>): ImageStats {
  let sum = 0;
  for (let i = 0; i < image.length; i++) sum += image[i]!;
  const mean = sum / image.length;
  let sq = 0;
  for (let i = 0; i < image.length; i++) sq += (image[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(sq / image.length) };
}

/** The profile of `n` training images packed in `images` ([n, C, S, S]) with their sources' colour fractions. */
export function inputProfile(images: Float32Array, n: number, channels: number, colour: readonly number[], sampled: number): InputProfile {
  if (n < 1) throw new RangeError('inputProfile: no training images to summarise');
  const per = images.length / n;
  const mean = { min: Infinity, max: -Infinity };
  const std = { min: Infinity, max: -Infinity };
  for (let i = 0; i < n; i++) {
    const s = imageStats(images.subarray(i * per, (i + 1) * per));
    mean.min = Math.min(mean.min, s.mean);
    mean.max = Math.max(mean.max, s.mean);
    std.min = Math.min(std.min, s.std);
    std.max = Math.max(std.max, s.std);
  }
  const c = colour.length ? colour : [0];
  return { channels, count: n, mean, std, colour: { sampled, min: Math.min(...c), max: Math.max(...c) } };
}

/**
 * How far outside a training range a value may lie before it is flagged: half the range's
 * width, at least 0.1 on the [-1, 1] intensity scale (5 % of it), so that a training set
 * of near-identical images does not flag every new one.
 */
function slack(r: { min: number; max: number }): number {
  return Math.max(0.5 * (r.max - r.min), 0.1);
}

const fmt = (x: number) => x.toFixed(2);

/** Warnings for an input with statistics `s` and colour fraction `colour`, or [] when it looks like the training images. */
export function inputWarnings(p: InputProfile, s: ImageStats, colour: number): string[] {
  const out: string[] = [];
  const sourcesGrey = p.colour.max <= GREY_SOURCE;
  const sourcesColour = p.colour.min >= COLOUR_IMAGE;
  if (sourcesGrey && colour >= COLOUR_IMAGE) {
    out.push(`colour image (${(100 * colour).toFixed(0)} % coloured pixels) but the model was trained on grey images; it was converted to grey and scored, check it is the right kind of image`);
  } else if (sourcesColour && colour < GREY_SOURCE) {
    out.push('grey image but the model was trained on colour images; check it is the right kind of image');
  }
  const w = slack(p.mean);
  if (s.mean < p.mean.min - w || s.mean > p.mean.max + w) {
    out.push(`mean intensity ${fmt(s.mean)} is far outside the training images' ${fmt(p.mean.min)} to ${fmt(p.mean.max)}`);
  }
  const v = slack(p.std);
  if (s.std < p.std.min - v || s.std > p.std.max + v) {
    out.push(`intensity spread (std) ${fmt(s.std)} is far outside the training images' ${fmt(p.std.min)} to ${fmt(p.std.max)}`);
  }
  return out;
}
