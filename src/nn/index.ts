// The nn layer: modules, layers, initialisation, optimizers and safetensors checkpoints.
export { Module, type LoadResult, type StateEntry, type StateValue, type StoredDtype } from './module.js';
export * as init from './init.js';
export { type RandomSource } from './init.js';
export { Sequential } from './layers/container.js';
export { Conv2d, ConvTranspose2d, type Conv2dOptions, type ConvTranspose2dOptions, type Pair, type PaddingMode } from './layers/conv.js';
export { Linear } from './layers/linear.js';
export { BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, type BatchNormOptions } from './layers/norm.js';
export { LeakyReLU, ReLU, Sigmoid, SiLU, Swish, Tanh } from './layers/activation.js';
export { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from './layers/pooling.js';
export { Dropout, Dropout2d, Flatten, Identity, Upsample, type UpsampleOptions } from './layers/misc.js';
export { AllInOneBlock, SequenceINN, GLOBAL_SCALE_INIT, type AllInOneBlockOptions, type ClampForm } from './layers/flow.js';
export * from './optim/index.js';
export * from './safetensors.js';
