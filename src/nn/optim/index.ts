export { Optimizer, type OptimizerStateDict, type ParamGroup, type ParamGroupInput, type ParamState } from './optimizer.js';
export { Adam, type AdamOptions } from './adam.js';
export { AdamW } from './adamw.js';
export { SGD, type SgdOptions } from './sgd.js';
export { CosineAnnealingLR, CosineAnnealingWarmRestarts, LRScheduler } from './lr-scheduler.js';
export { clipGradNorm } from './clip-grad.js';
export { ParameterEMA, type ParameterEMAState } from './ema.js';
