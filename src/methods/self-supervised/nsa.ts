// NSA, Natural Synthetic Anomalies (methods.md §6.1): patch_ex from another training image, shifted and resized, Poisson MIXED_CLONE, logistic-intensity label.
// The protocol, network, transforms and quirks are shared: ./one-stage.ts.
import { registerMethod } from '../catalogue.js';
import type { MethodOptions } from '../types.js';
import { OneStageMethod, oneStageInfo } from './one-stage.js';

const info = oneStageInfo('nsa');

registerMethod({ info, create: (o: MethodOptions) => new OneStageMethod(info, o, 'nsa') });
