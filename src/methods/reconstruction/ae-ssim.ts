// AE-SSIM (methods.md §5.3): the unified AE trained on 1 − SSIM over the valid window map;
// the pixel map is 1 − SSIM upsampled bilinearly (align_corners false) to the input size
// and averaged over channels; the image score is the mean of that upsampled map.
import { interpolate, mean, type Generator, type Tensor } from '../../engine/index.js';
import { UnifiedAE } from '../../models/unified-ae.js';
import { registerMethod } from '../catalogue.js';
import { booleanOption } from '../training/options.js';
import { aeInfo, AEFamilyMethod, unifiedAEOptions } from './ae-family.js';
import { ssimMap } from './ssim.js';

export class AESSIM extends AEFamilyMethod<UnifiedAE> {
  protected buildNetwork(generator: Generator): UnifiedAE {
    return new UnifiedAE(unifiedAEOptions(this.options, generator));
  }

  protected override loss(net: UnifiedAE, x: Tensor): Tensor {
    // Training always uses the valid map, as the reference; the quirk only shapes the score map.
    return ssimMap(x, this.output(net.forward(x)), true).neg().add(1).mean();
  }

  protected scoreBatch(net: UnifiedAE, x: Tensor, wantReconstructions: boolean) {
    const xhat = this.output(net.forward(x));
    const valid = this.options.ssimValidWindow !== false;
    let dissim = ssimMap(x, xhat, valid).neg().add(1);
    if (valid) dissim = interpolate(dissim, { size: x.shape[2], mode: 'bilinear', alignCorners: false });
    const maps = mean(dissim, 1);
    return wantReconstructions ? { maps, reconstructions: xhat } : { maps };
  }
}

/** Options ae-ssim adds to the unified AE's. */
export const AE_SSIM_OPTIONS = [booleanOption('ssimValidWindow', true, 'quirk ssimValidWindow: score map from valid windows, bilinearly upsampled (reference); false: zero-padded same-size windows')];

const info = aeInfo(
  'ae-ssim',
  'AE-SSIM',
  'Autoencoder trained with 1 − SSIM (11-tap Gaussian, σ 1.5, valid windows); map 1 − SSIM upsampled to the input size, score its mean.',
  AE_SSIM_OPTIONS,
);
registerMethod({ info, create: (o) => new AESSIM(info, o) });
