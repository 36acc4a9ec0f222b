// AE-Grad (methods.md §5.8): trained as AE (ℓ2); at test the pixel map is the magnitude of
// the gradient of the per-image mean squared error with respect to the input, flowing
// through both occurrences of x (the target and the network input), averaged over channels.
// The network runs in eval mode, where images do not interact, so one backward pass over
// the sum of per-image losses gives every image's own gradient, as batch 1 would.
import { abs, grad, mean, square, sub, type Generator, type Tensor } from '../../engine/index.js';
import { UnifiedAE } from '../../models/unified-ae.js';
import { registerMethod } from '../catalogue.js';
import { aeInfo, AEFamilyMethod, unifiedAEOptions } from './ae-family.js';

export class AEGrad extends AEFamilyMethod<UnifiedAE> {
  protected override scoreNeedsGrad = true;

  protected buildNetwork(generator: Generator): UnifiedAE {
    return new UnifiedAE(unifiedAEOptions(this.options, generator));
  }

  protected override loss(net: UnifiedAE, x: Tensor): Tensor {
    return square(sub(x, this.output(net.forward(x)))).mean();
  }

  protected scoreBatch(net: UnifiedAE, input: Tensor, wantReconstructions: boolean) {
    const x = input.detach().requiresGrad_(true);
    const xhat = this.output(net.forward(x));
    const perImage = mean(square(sub(x, xhat)), [1, 2, 3]);
    const [g] = grad(perImage.sum(), [x]);
    const maps = mean(abs(g), 1);
    return wantReconstructions ? { maps, reconstructions: xhat.detach() } : { maps };
  }
}

const info = aeInfo(
  'ae-grad',
  'AE-Grad',
  'Autoencoder trained with the mean squared error; map |∂ mean (x − x̂)² / ∂x| (through x and the network), score its mean.',
);
registerMethod({ info, create: (o) => new AEGrad(info, o) });
