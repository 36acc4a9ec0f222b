// The engine's public surface: tensors, autograd, random numbers, every op, the
// backend switch and the profiler.
export { Tensor, cpuStorage } from './tensor.js';
export type { Storage, CpuStorage } from './tensor.js';
export { Node, noGrad, enableGrad, isGradEnabled, setGradEnabled, grad, record } from './autograd.js';
export type { BackwardFn } from './autograd.js';
export { Generator, manualSeed, defaultGenerator } from './random.js';
export type { GeneratorState } from './random.js';
export * from './creation.js';
export { add, sub, mul, div, pow, maximum, minimum, neg, exp, log, sqrt, abs, square, reciprocal, clamp, unaryOp } from './ops/elementwise.js';
export * from './ops/activation.js';
export * from './ops/reduce.js';
export * from './ops/shape.js';
export * from './ops/linear.js';
export * from './ops/conv.js';
export * from './ops/norm.js';
export * from './ops/pool.js';
export * from './ops/upsample.js';
export * from './ops/pad.js';
export * from './ops/loss.js';
export * from './ops/dropout.js';
export { gaussianMomentsAccumulate, choleskyInverse, mahalanobisBatch, NotPositiveDefiniteError } from './ops/linalg.js';
export { adamUpdate, sgdUpdate, type AdamUpdate, type SgdUpdate } from './ops/optim.js';
export { knnSearch, knnSearchHalf, coresetProject, coresetGreedy, coresetGreedyHalf, rowSquaredNorms, checkFinite, type KnnResult, type KnnSearchOptions, type CoresetStepOptions } from './ops/knn.js';
export { halfFromFloat, halfToFloat, firstNonFiniteHalf, HALF_MAX } from './ops/half.js';
export { seamlessClone as seamlessCloneOp, poissonSolve, PoissonNotConvergedError, POISSON_DEFAULT_TOL, POISSON_DEFAULT_MAX_ITER, type CloneImage, type CloneMode, type PoissonSolveOptions, type PoissonInfo, type SeamlessCloneResult } from './ops/poisson.js';
export { profile } from './profile.js';
export type { ProfileRow } from './profile.js';
export { backends, setBackend, currentBackend } from '../backend/registry.js';
