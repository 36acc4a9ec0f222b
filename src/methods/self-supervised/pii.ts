// PII, Poisson Image Interpolation (methods.md §6.1): patch_ex from another training image at the same coordinates, Poisson MIXED_CLONE, label α inside the change.
// The protocol, network, transforms and quirks are shared: ./one-stage.ts.
import { registerMethod } from '../catalogue.js';
import type { MethodOptions } from '../types.js';
import { OneStageMethod, oneStageInfo } from './one-stage.js';

const info = oneStageInfo('pii');

registerMethod({ info, create: (o: MethodOptions) => new OneStageMethod(info, o, 'pii') });
