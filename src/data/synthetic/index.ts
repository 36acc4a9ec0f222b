// Built-in synthetic medical datasets: brain MRI slices with tumours and chest
// X-rays with consolidations, generated from a seed, so that every method can be
// run and tested on a fresh machine without downloading anything. They are test
// beds, not substitutes for the real datasets (see docs/synthetic.md).
//
// `synthetic` is the list of catalogue entries (the name the catalogue imports);
// `syntheticDataset(name, options)` builds one dataset directly.

export { syntheticEntries as synthetic, syntheticDataset, DEFAULT_COUNTS, type SyntheticCounts, type SyntheticOptions } from './dataset.js';
export { SYNTHETIC_NAMES, GENERATORS, renderItem, type SyntheticName, type Stream, type Generator } from './generators.js';
export { DIFFICULTY_LEVELS, difficultyValue, type Difficulty, type DifficultyName } from './difficulty.js';
export type { Rendered } from './render.js';
export { Rng } from './rng.js';
