// CutPaste, two-stage (methods.md §6.2, §7.2): ProjectionNet trained to tell the jittered
// original from CutPaste-Normal (variant 'normal', 2 classes) or from CutPaste-Normal and
// CutPaste-Scar made from the same jittered original (variant '3way', 3 classes), then the
// one-class Gaussian of its backbone embeddings (two-stage.ts). The reference script trains
// both variants; its CLI default is 3way. Which one the paper reports as "CutPaste
// (two-stage)" is not stated (methods.md §6.2).
import { registerMethod } from '../catalogue.js';
import { stringOption } from '../training/options.js';
import type { MethodInfo, MethodOptions } from '../types.js';
import { TWO_STAGE_OPTIONS, TwoStageMethod } from './two-stage.js';
import type { TwoStageVariant } from './two-stage-views.js';

export const CUTPASTE_2STAGE_OPTIONS = [
  ...TWO_STAGE_OPTIONS,
  stringOption('variant', '3way', "views: 'normal' (original, CutPaste-Normal; 2 classes) or '3way' (original, CutPaste-Normal, CutPaste-Scar; 3 classes; the reference CLI default)", ['normal', '3way']),
];

export const CUTPASTE_2STAGE_INFO: MethodInfo = {
  name: 'cutpaste-2stage',
  title: 'CutPaste (two-stage)',
  family: 'self-supervised',
  description:
    'ProjectionNet (ResNet18 from scratch) trained by SGD to classify CutPaste-Normal (and, 3-way, CutPaste-Scar) views against the jittered original; ' +
    'image score = Mahalanobis distance of the L2-normalised 512-d embedding to a Ledoit–Wolf Gaussian of the training embeddings. No pixel map',
  defaultSize: 224,
  pixelMaps: false,
  loadChannels: 3,
  options: CUTPASTE_2STAGE_OPTIONS,
};

export class CutPaste2Stage extends TwoStageMethod {
  protected get variant(): TwoStageVariant {
    return this.options.variant === 'normal' ? 'normal' : '3way';
  }
}

registerMethod({ info: CUTPASTE_2STAGE_INFO, create: (o: MethodOptions) => new CutPaste2Stage(CUTPASTE_2STAGE_INFO, o) });
