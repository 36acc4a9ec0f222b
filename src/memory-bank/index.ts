// The memory bank of feature-reference methods: an exact kNN index, PatchCore's greedy
// coreset, and the memory plan that refuses a bank too big before it is built.
export { KnnIndex } from './knn-index.js';
export type { KnnStorage, KnnIndexOptions } from './knn-index.js';
export { coreset, coresetAsync, coresetEstimate } from './coreset.js';
export type { CoresetOptions, CoresetProgress, CoresetEstimate, CoresetStart, CoresetPrecision } from './coreset.js';
export { planMemoryBank, formatBytes } from './plan.js';
export type { MemoryBankPlan, MemoryBankPlanInput } from './plan.js';
export type { KnnResult } from '../engine/index.js';
