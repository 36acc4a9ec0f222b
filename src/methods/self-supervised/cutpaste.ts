// CutPaste, one-stage (methods.md §6.1): patch_ex with the same image as source, shifted, hard swap, binary label.
// The protocol, network, transforms and quirks are shared: ./one-stage.ts.
import { registerMethod } from '../catalogue.js';
import type { MethodOptions } from '../types.js';
import { OneStageMethod, oneStageInfo } from './one-stage.js';

const info = oneStageInfo('cutpaste');

registerMethod({ info, create: (o: MethodOptions) => new OneStageMethod(info, o, 'cutpaste') });
