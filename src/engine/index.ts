// The engine's public surface: tensors, autograd, random numbers and every op.
export { Tensor, cpuStorage } from './tensor.js';
export type { Storage, CpuStorage } from './tensor.js';
export { Node, noGrad, enableGrad, isGradEnabled, setGradEnabled, grad, record } from './autograd.js';
export type { BackwardFn } from './autograd.js';
export { Generator, manualSeed, defaultGenerator } from './random.js';
export type { GeneratorState } from './random.js';
export * from './creation.js';
export * from './ops/elementwise.js';
export * from './ops/activation.js';
export * from './ops/reduce.js';
export * from './ops/shape.js';
export * from './ops/linear.js';
export { profile } from './profile.js';
export { backends, setBackend, currentBackend } from '../backend/registry.js';
