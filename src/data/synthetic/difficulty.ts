// Lesion difficulty: one number in [0, 1] that lowers lesion contrast and size
// together (0 = large and bright, 1 = small and faint). Named levels are points
// on that scale.

export type DifficultyName = 'easy' | 'medium' | 'hard';
export type Difficulty = DifficultyName | number;

export const DIFFICULTY_LEVELS: Readonly<Record<DifficultyName, number>> = {
  easy: 0.15,
  medium: 0.5,
  hard: 0.85,
};

export function difficultyValue(d: Difficulty | undefined): number {
  if (d === undefined) return DIFFICULTY_LEVELS.medium;
  if (typeof d === 'string') {
    if (d in DIFFICULTY_LEVELS) return DIFFICULTY_LEVELS[d as DifficultyName];
    throw new RangeError(`difficulty must be 'easy', 'medium', 'hard' or a number in [0, 1], got '${d}'`);
  }
  if (typeof d !== 'number' || !(d >= 0 && d <= 1)) {
    throw new RangeError(`difficulty must be 'easy', 'medium', 'hard' or a number in [0, 1], got ${String(d)}`);
  }
  return d;
}
