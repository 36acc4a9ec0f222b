// AE-U (methods.md §5.12): the unified AE with twice the output channels, read as the
// reconstruction x̂ and a per-pixel log-variance s; loss mean of e^(−s)·(x − x̂)² + s; map
// mean over channels of e^(−s)·(x − x̂)²; score its mean.
import { exp, mean, neg, slice, square, sub, type Generator, type Tensor } from '../../engine/index.js';
import { UnifiedAE } from '../../models/unified-ae.js';
import { registerMethod } from '../catalogue.js';
import { aeInfo, AEFamilyMethod, unifiedAEOptions } from './ae-family.js';

export class AEU extends AEFamilyMethod<UnifiedAE> {
  protected buildNetwork(generator: Generator): UnifiedAE {
    const c = this.options.channels as number;
    return new UnifiedAE({ ...unifiedAEOptions(this.options, generator), outChannels: 2 * c });
  }

  /** x → { x̂, s = log σ², e^(−s)·(x − x̂)² }. */
  private run(net: UnifiedAE, x: Tensor): { xhat: Tensor; logVar: Tensor; weighted: Tensor } {
    const c = this.options.channels as number;
    const out = net.forward(x);
    const xhat = this.output(slice(out, 1, 0, c));
    const logVar = slice(out, 1, c, 2 * c);
    return { xhat, logVar, weighted: exp(neg(logVar)).mul(square(sub(x, xhat))) };
  }

  protected override loss(net: UnifiedAE, x: Tensor) {
    const r = this.run(net, x);
    return { loss: r.weighted.add(r.logVar).mean(), terms: { rec: square(sub(x, r.xhat)).mean(), logVar: r.logVar.mean() } };
  }

  protected scoreBatch(net: UnifiedAE, x: Tensor, wantReconstructions: boolean) {
    const r = this.run(net, x);
    const maps = mean(r.weighted, 1);
    return wantReconstructions ? { maps, reconstructions: r.xhat } : { maps };
  }
}

const info = aeInfo(
  'aeu',
  'AE-U',
  'Autoencoder that also predicts a per-pixel log-variance s; loss e^(−s)(x − x̂)² + s; map e^(−s)(x − x̂)², score its mean.',
);
registerMethod({ info, create: (o) => new AEU(info, o) });
