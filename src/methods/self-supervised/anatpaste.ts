// AnatPaste (methods.md §6.2, §7.3): ProjectionNet trained to tell the jittered original
// from an AnatPaste view (a jittered patch blended, through a blurred ellipse or rectangle,
// into the anatomy mask found by CLAHE + Otsu thresholding), then the one-class Gaussian of
// its backbone embeddings (two-stage.ts). Quirks of the generator: anatPasteDarkRegion (the
// mask is 0 < CLAHE ≤ Otsu, the reference's comparison with a boolean array) and
// anatPasteEmptyRange255 (an empty mask draws the centre from {0..254}).
import { registerMethod } from '../catalogue.js';
import { booleanOption } from '../training/options.js';
import type { MethodInfo, MethodOptions } from '../types.js';
import { TWO_STAGE_OPTIONS, TwoStageMethod } from './two-stage.js';
import type { TwoStageVariant } from './two-stage-views.js';

export const ANATPASTE_OPTIONS = [
  ...TWO_STAGE_OPTIONS,
  booleanOption('anatPasteDarkRegion', true, 'quirk anatPasteDarkRegion: the anatomy mask is 0 < CLAHE ≤ Otsu, the dark non-zero pixels, as the reference computes it (false: CLAHE > Otsu)'),
  booleanOption('anatPasteEmptyRange255', true, 'quirk anatPasteEmptyRange255: with an empty anatomy mask the paste centre is uniform in {0..254} as the reference (false: {0..W−1})'),
];

export const ANATPASTE_INFO: MethodInfo = {
  name: 'anatpaste',
  title: 'AnatPaste',
  family: 'self-supervised',
  description:
    'ProjectionNet (ResNet18 from scratch) trained by SGD to classify AnatPaste views (a jittered patch blended into the CLAHE/Otsu anatomy mask) against the jittered original; ' +
    'image score = Mahalanobis distance of the L2-normalised 512-d embedding to a Ledoit–Wolf Gaussian of the training embeddings. No pixel map',
  defaultSize: 224,
  loadChannels: 3,
  pixelMaps: false,
  options: ANATPASTE_OPTIONS,
};

export class AnatPasteMethod extends TwoStageMethod {
  protected get variant(): TwoStageVariant {
    return 'anatpaste';
  }
}

registerMethod({ info: ANATPASTE_INFO, create: (o: MethodOptions) => new AnatPasteMethod(ANATPASTE_INFO, o) });
