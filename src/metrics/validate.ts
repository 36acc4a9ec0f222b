// Input checks shared by every metric. A metric never guesses: undefined cases (one
// class only, empty input, non-finite scores, size mismatches, non-binary labels) throw
// an error that names the metric, the argument and what to do, instead of returning a
// conventional 0.5 or a NaN that would quietly end up in a results table.

/** Scores: larger means more anomalous. Any array-like of numbers. */
export type ScoreArray = ArrayLike<number>;
/** Binary labels: 1 (or true) = anomalous (positive class), 0 (or false) = normal. */
export type LabelArray = ArrayLike<number> | ArrayLike<boolean>;
/** One score map per image, flattened row-major (H × W). */
export type ScoreMap = ArrayLike<number>;
/** One binary ground-truth mask per image, same layout as its map. */
export type MaskArray = ArrayLike<number> | ArrayLike<boolean>;

/** Throws a TypeError/RangeError whose message starts with the metric's name. */
export function fail(metric: string, message: string, kind: 'type' | 'range' = 'range'): never {
  const text = `${metric}: ${message}`;
  throw kind === 'type' ? new TypeError(text) : new RangeError(text);
}

export function checkArrayLike(metric: string, name: string, value: unknown): asserts value is ArrayLike<unknown> {
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as { length?: unknown }).length !== 'number'
  ) {
    fail(metric, `${name} must be an array or a typed array, got ${describe(value)}`, 'type');
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? (value as object).constructor?.name ?? 'an object' : typeof value;
}

/** Checks that every score is a finite number; names the first offending index. */
export function checkScores(metric: string, name: string, scores: unknown): asserts scores is ScoreArray {
  checkArrayLike(metric, name, scores);
  const s = scores as ArrayLike<unknown>;
  if (s.length === 0) fail(metric, `${name} is empty; a metric needs at least one normal and one anomalous sample`);
  for (let i = 0; i < s.length; i++) {
    const v = s[i];
    if (typeof v !== 'number') fail(metric, `${name}[${i}] is ${describe(v)}, expected a number`, 'type');
    if (!Number.isFinite(v)) {
      fail(metric, `${name}[${i}] is ${v}; scores must be finite (remove or impute non-finite scores before computing metrics)`);
    }
  }
}

/**
 * Checks binary labels and returns the number of positives. Accepts 0/1 numbers or
 * booleans; anything else (for example 0/255 masks) is refused with a hint.
 */
export function countPositives(metric: string, name: string, labels: unknown, expectedLength: number): number {
  checkArrayLike(metric, name, labels);
  const y = labels as ArrayLike<unknown>;
  if (y.length !== expectedLength) {
    fail(metric, `${name} has ${y.length} entries but the scores have ${expectedLength}; they must pair up one to one`);
  }
  let positives = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (v === 1 || v === true) positives++;
    else if (v !== 0 && v !== false) {
      fail(metric, `${name}[${i}] is ${String(v)}; labels must be 0/1 or booleans (binarise first, e.g. mask > 0)`);
    }
  }
  return positives;
}

/** Both classes must be present for any ranking or thresholded metric. */
export function requireBothClasses(metric: string, name: string, positives: number, total: number): void {
  if (positives === 0) {
    fail(metric, `${name} contain no anomalous (1) sample; ${metric} is undefined with one class only — the split needs both normal and anomalous samples`);
  }
  if (positives === total) {
    fail(metric, `${name} contain no normal (0) sample; ${metric} is undefined with one class only — the split needs both normal and anomalous samples`);
  }
}

export function isPositive(v: number | boolean): boolean {
  return v === 1 || v === true;
}

/** Checks that maps and masks pair up: same count, same length per image. */
export function checkMapsMasks(metric: string, maps: unknown, masks: unknown): void {
  checkArrayLike(metric, 'maps', maps);
  checkArrayLike(metric, 'masks', masks);
  const m = maps as ArrayLike<unknown>;
  const g = masks as ArrayLike<unknown>;
  if (m.length === 0) fail(metric, 'maps is empty; pass one score map per test image');
  if (m.length !== g.length) {
    fail(metric, `maps has ${m.length} images but masks has ${g.length}; pass one mask per map, in the same order`);
  }
  for (let i = 0; i < m.length; i++) {
    checkArrayLike(metric, `maps[${i}]`, m[i]);
    checkArrayLike(metric, `masks[${i}]`, g[i]);
    const a = (m[i] as ArrayLike<unknown>).length;
    const b = (g[i] as ArrayLike<unknown>).length;
    if (a !== b) {
      fail(metric, `maps[${i}] has ${a} pixels but masks[${i}] has ${b}; resize the mask to the map's resolution (nearest neighbour) first`);
    }
    if (a === 0) fail(metric, `maps[${i}] is empty`);
  }
}

/** Pixel-level variant of checkScores: names the image and the pixel. */
export function checkMapValues(metric: string, map: ArrayLike<number>, index: number): void {
  for (let j = 0; j < map.length; j++) {
    const v = map[j];
    if (typeof v !== 'number') fail(metric, `maps[${index}][${j}] is ${describe(v)}, expected a number`, 'type');
    if (!Number.isFinite(v)) {
      fail(metric, `maps[${index}][${j}] is ${v}; scores must be finite (remove or impute non-finite scores before computing metrics)`);
    }
  }
}

/** Counts the anomalous pixels of one mask, refusing anything but 0/1. */
export function countMaskPositives(metric: string, mask: ArrayLike<number | boolean>, index: number): number {
  let positives = 0;
  for (let j = 0; j < mask.length; j++) {
    const v = mask[j];
    if (v === 1 || v === true) positives++;
    else if (v !== 0 && v !== false) {
      fail(metric, `masks[${index}][${j}] is ${String(v)}; masks must be binary 0/1 (binarise first, e.g. mask > 0)`);
    }
  }
  return positives;
}
