// Constrained AE (methods.md §5.9): in training the reconstruction goes through the encoder
// and the whole bottleneck again; the loss adds mean (z − z_rec)² to the ℓ2 term. At test
// a single pass; map and score as AE (ℓ2).
//
// Quirk constrainedAeSecondPassBn (default true): as in the reference, the second pass runs
// every BN layer in training mode, including the decoder MLP's (the reference's bottleneck
// also decodes z_rec, unused), so running statistics are updated a second time, with
// statistics of reconstructions. false: the second pass still normalises with batch
// statistics but leaves the running statistics as the first pass set them.
import { noGrad, type Generator, type Tensor } from '../../engine/index.js';
import { BatchNorm1d, BatchNorm2d } from '../../nn/layers/norm.js';
import { UnifiedAE } from '../../models/unified-ae.js';
import { registerMethod } from '../catalogue.js';
import { booleanOption } from '../training/options.js';
import { aeInfo, AEFamilyMethod, squaredErrorMap, unifiedAEOptions } from './ae-family.js';
import type { LossOutput } from '../training/trainer.js';

/** Copies of every BN running statistic of `net`, and a function that puts them back. */
function snapshotRunningStats(net: UnifiedAE): () => void {
  const saved: Array<[Float32Array, Float32Array]> = [];
  for (const m of net.modules()) {
    if (m instanceof BatchNorm1d || m instanceof BatchNorm2d) {
      for (const t of [m.runningMean, m.runningVar, m.numBatchesTracked]) if (t) saved.push([t.data, t.data.slice()]);
    }
  }
  return () => {
    for (const [live, copy] of saved) live.set(copy);
  };
}

export class ConstrainedAE extends AEFamilyMethod<UnifiedAE> {
  protected buildNetwork(generator: Generator): UnifiedAE {
    return new UnifiedAE(unifiedAEOptions(this.options, generator));
  }

  protected override loss(net: UnifiedAE, x: Tensor): LossOutput {
    const z = net.encode(x);
    const xhat = this.output(net.decode(z));
    const secondPassBn = this.options.constrainedAeSecondPassBn !== false;
    const restore = secondPassBn ? null : snapshotRunningStats(net);
    const zRec = net.encode(xhat);
    // The reference's bottleneck also decodes z_rec; only its BN side effect matters.
    if (secondPassBn) noGrad(() => net.decMlp.forward(zRec.detach()));
    restore?.();
    const rec = x.sub(xhat).square().mean();
    const latent = z.sub(zRec).square().mean();
    return { loss: rec.add(latent), terms: { rec, latent } };
  }

  protected scoreBatch(net: UnifiedAE, x: Tensor, wantReconstructions: boolean) {
    const xhat = this.output(net.forward(x));
    const maps = squaredErrorMap(x, xhat);
    return wantReconstructions ? { maps, reconstructions: xhat } : { maps };
  }
}

/** Options constrained-ae adds to the unified AE's. */
export const CONSTRAINED_AE_OPTIONS = [booleanOption('constrainedAeSecondPassBn', true, 'quirk constrainedAeSecondPassBn: the z_rec pass also updates BN running statistics (reference); false keeps them from the first pass')];

const info = aeInfo(
  'constrained-ae',
  'Constrained AE',
  'Autoencoder whose reconstruction is encoded again; loss (x − x̂)² + (z − z_rec)²; map (x − x̂)², score its mean.',
  CONSTRAINED_AE_OPTIONS,
);
registerMethod({ info, create: (o) => new ConstrainedAE(info, o) });
