// medianomaly — the public API, and nothing else.
//
//   engine:   tensors, autograd, ops, random numbers, backends, profiler
//   nn:       modules, layers, init, optimizers (also as `optim`), safetensors
//   datasets: loaders and built-in synthetic datasets
//   metrics:  image and pixel metrics, thresholds
//   stats:    streaming per-position Gaussians, Ledoit–Wolf, Mahalanobis distances
//   memory bank: exact kNN index (KnnIndex), greedy coreset, memory plan
//   methods:  the Method registry (createMethod, loadMethod, methods.list())
//   harness:  run folders, evaluate, off-main-thread fit/test, benchmarks, reports
//   weights:  ImageNet backbone weights: restricted .pth reader, import/check, fetch, cache
//   anomalies: synthetic-anomaly generators (patchEx, CutPaste, AnatPaste, DRAEM, Poisson seamlessClone)
export * from './engine/index.js';
export * as nn from './nn/index.js';
export * as optim from './nn/optim/index.js';
export * as datasets from './data/index.js';
export * as metrics from './metrics/index.js';
export * as stats from './stats/index.js';
export { backbones, toBackboneInput, type Backbone, type BackboneLayer, type BackboneName } from './models/backbones/index.js';
export { KnnIndex, coreset, coresetAsync, coresetEstimate, planMemoryBank } from './memory-bank/index.js';
export type { CoresetOptions, CoresetProgress, CoresetEstimate, CoresetStart, CoresetPrecision, MemoryBankPlan, MemoryBankPlanInput, KnnStorage, KnnIndexOptions } from './memory-bank/index.js';
export { methods, createMethod, loadMethod, registerMethod, referenceEpochs } from './methods/index.js';
export type * from './methods/types.js';
export type { BuiltinMethodOptions, MethodName, MethodOptionsMap, OptionsOf, OptionValue } from './methods/index.js';
export { evaluate, fitInWorker, testInWorker, runInWorker } from './harness/index.js';
export * as harness from './harness/index.js';
export * as weights from './weights/index.js';
export * as anomalies from './anomalies/index.js';
export { version } from './version.js';
