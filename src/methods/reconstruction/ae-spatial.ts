// AE-Spatial (methods.md §5.5): the unified AE with a 1×1-convolution bottleneck, so z
// keeps the fm × fm grid; loss, map and score as AE (ℓ2). The released script runs the
// defaults (ls 16, h 1024); deleted per-dataset scripts used ls 1–2 with h 64.
import type { Generator, Tensor } from '../../engine/index.js';
import { SpatialAE } from '../../models/ae-variants.js';
import { registerMethod } from '../catalogue.js';
import { aeInfo, AEFamilyMethod, squaredErrorMap, unifiedAEOptions } from './ae-family.js';

export class AESpatial extends AEFamilyMethod<SpatialAE> {
  protected buildNetwork(generator: Generator): SpatialAE {
    return new SpatialAE(unifiedAEOptions(this.options, generator));
  }

  protected override loss(net: SpatialAE, x: Tensor): Tensor {
    return x.sub(this.output(net.forward(x))).square().mean();
  }

  protected scoreBatch(net: SpatialAE, x: Tensor, wantReconstructions: boolean) {
    const xhat = this.output(net.forward(x));
    return wantReconstructions ? { maps: squaredErrorMap(x, xhat), reconstructions: xhat } : { maps: squaredErrorMap(x, xhat) };
  }
}

const info = aeInfo(
  'ae-spatial',
  'AE-Spatial',
  'Autoencoder whose bottleneck is 1×1 convolutions on the s/16 grid (z is latent × s/16 × s/16); map (x − x̂)², score its mean.',
);
registerMethod({ info, create: (o) => new AESpatial(info, o) });
