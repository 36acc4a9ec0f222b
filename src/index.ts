// medianomaly — the public API, and nothing else.
//
//   engine:   tensors, autograd, ops, random numbers, backends, profiler
//   nn:       modules, layers, init, optimizers (also as `optim`), safetensors
//   datasets: loaders and built-in synthetic datasets
//   metrics:  image and pixel metrics, thresholds
export * from './engine/index.js';
export * as nn from './nn/index.js';
export * as optim from './nn/optim/index.js';
export * as datasets from './data/index.js';
export * as metrics from './metrics/index.js';
export { version } from './version.js';
