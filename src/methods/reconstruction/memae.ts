// MemAE (methods.md §5.10): the unified AE with a 25-slot memory between z and the decoder
// MLP (hard-shrinkage addressing, λ 0.0025); loss (x − x̂)² + 0.0002 · the mean entropy of
// the addressing weights; map and score as AE (ℓ2).
import { log, mean, mul, sum, type Generator, type Tensor } from '../../engine/index.js';
import { MemAE } from '../../models/ae-variants.js';
import { registerMethod } from '../catalogue.js';
import { integerOption, numberOption } from '../training/options.js';
import { aeInfo, AEFamilyMethod, squaredErrorMap, unifiedAEOptions } from './ae-family.js';
import type { LossOutput } from '../training/trainer.js';

/** Mean over samples of −Σ_i ŵ_i log(ŵ_i + 1e-12), ŵ [B, slots]. */
export function addressingEntropy(att: Tensor): Tensor {
  return mean(sum(mul(att, log(att.add(1e-12))), 1)).neg();
}

export class MemAEMethod extends AEFamilyMethod<MemAE> {
  protected buildNetwork(generator: Generator): MemAE {
    return new MemAE({
      ...unifiedAEOptions(this.options, generator),
      slots: this.options.memSlots as number,
      shrinkThreshold: this.options.shrinkThreshold as number,
    });
  }

  protected override loss(net: MemAE, x: Tensor): LossOutput {
    const r = net.run(x);
    const rec = x.sub(this.output(r.reconstruction)).square().mean();
    const entropy = addressingEntropy(r.attention);
    return { loss: rec.add(entropy.mul(this.options.entropyWeight as number)), terms: { rec, entropy } };
  }

  protected scoreBatch(net: MemAE, x: Tensor, wantReconstructions: boolean) {
    const xhat = this.output(net.forward(x));
    const maps = squaredErrorMap(x, xhat);
    return wantReconstructions ? { maps, reconstructions: xhat } : { maps };
  }
}

/** Options memae adds to the unified AE's. */
export const MEMAE_OPTIONS = [
  integerOption('memSlots', 25, 'memory slots', { min: 1 }),
  numberOption('shrinkThreshold', 0.0025, 'hard-shrinkage threshold λ of the addressing weights (0 disables shrinkage)', { min: 0, max: 1 }),
  numberOption('entropyWeight', 0.0002, 'weight of the addressing entropy in the loss', { min: 0 }),
];

const info = aeInfo(
  'memae',
  'MemAE',
  'Autoencoder reading its latent code from a learned memory (25 slots, hard shrinkage); loss (x − x̂)² + 0.0002·entropy; map (x − x̂)², score its mean.',
  MEMAE_OPTIONS,
);
registerMethod({ info, create: (o) => new MemAEMethod(info, o) });
