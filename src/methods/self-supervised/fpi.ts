// FPI, Foreign Patch Interpolation (methods.md §6.1): patch_ex from another training image at the same coordinates, convex blend by α ~ U(0.05, 0.95), label α inside the change.
// The protocol, network, transforms and quirks are shared: ./one-stage.ts.
import { registerMethod } from '../catalogue.js';
import type { MethodOptions } from '../types.js';
import { OneStageMethod, oneStageInfo } from './one-stage.js';

const info = oneStageInfo('fpi');

registerMethod({ info, create: (o: MethodOptions) => new OneStageMethod(info, o, 'fpi') });
