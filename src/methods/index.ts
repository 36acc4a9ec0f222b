// Methods: the registry (list, create by name, load a saved one) and the shared pieces a
// method implementation builds on.
export { methods, createMethod, loadMethod, registerMethod } from './registry.js';
export { referenceEpochs } from './reconstruction/options.js';
export type * from './types.js';
export type { BuiltinMethodOptions, MethodName, MethodOptionsMap } from './options-map.js';
export type { OptionsOf, OptionValue } from './training/options.js';
