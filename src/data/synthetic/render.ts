// What a generator returns, and the difficulty → lesion scaling shared by both
// generators (so 'hard' means the same thing for brains and chests).

/** One rendered image: single channel, size × size, values in [-1, 1]. */
export interface Rendered {
  image: Float32Array;
  /** Lesion mask (0/1), null for a normal image. */
  mask: Uint8Array | null;
  /** The organ the lesions live in (brain parenchyma, visible lung fields), 0/1. */
  region: Uint8Array;
}

/** Lesion contrast multiplier: 1 at difficulty 0, falling linearly to 0.15 at difficulty 1. */
export function lesionContrastScale(difficulty: number): number {
  return 1 - 0.85 * difficulty;
}

/** Lesion radius multiplier: 1 at difficulty 0, falling linearly to 0.4 at difficulty 1. */
export function lesionSizeScale(difficulty: number): number {
  return 1 - 0.6 * difficulty;
}
