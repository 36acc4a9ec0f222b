// AE (ℓ2) and AE-ℓ1 (methods.md §5.1, §5.2): the unified AE trained on a pixel loss; the
// pixel map is the same error, averaged over channels, and the image score its mean.
import { registerMethod } from '../catalogue.js';
import { aeInfo, PixelLossAE } from './ae-family.js';

const ae = aeInfo('ae', 'AE (ℓ2)', 'Unified autoencoder trained with the mean squared error; map (x − x̂)², score its mean.');
registerMethod({ info: ae, create: (o) => new PixelLossAE(ae, o, 'l2') });

const aeL1 = aeInfo('ae-l1', 'AE-ℓ1', 'Unified autoencoder trained with the mean absolute error; map |x − x̂|, score its mean.');
registerMethod({ info: aeL1, create: (o) => new PixelLossAE(aeL1, o, 'l1') });
