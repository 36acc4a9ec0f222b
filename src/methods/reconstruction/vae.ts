// VAE (methods.md §5.6) and VAE-Grad (§5.7): one network and one training loss,
// mean (x − x̂)² + 0.005·KL with the KL averaged over the latent dimensions and the batch;
// five ways to read a test image:
//
// - `vae`: map (x − x̂)² averaged over channels;
// - `vae-elbo`, `vae-kl`, `vae-rec`: |∂L/∂x| for L = the ELBO-style loss, the KL term or the
//   reconstruction term, the gradient flowing through both occurrences of x (the target and
//   the network input, hence also through the sampled z);
// - `vae-combi`: (x − x̂)² ⊙ |∂KL/∂x|.
//
// At test the decoder receives a random sample z = μ + σ ⊙ ε, as in the reference (quirk
// vaeSampleAtTest; false decodes μ). In training ε comes from the run's checkpointed stream;
// at test from a stream derived from the `seed` option and restarted at every score() call,
// so the same model scores the same images identically (library default seedPolicy), where
// the reference drew fresh noise at every evaluation.
//
// The reference tests at batch size 1 in eval mode. In eval mode images do not interact, so
// the gradient maps are computed for a whole batch at once from the sum of per-image losses,
// which gives every image exactly its batch-1 gradient.
import { abs, grad, Generator, mean, mul, square, sub, type Tensor } from '../../engine/index.js';
import { klPerSample, VAE } from '../../models/vae.js';
import { registerMethod } from '../catalogue.js';
import { booleanOption, numberOption } from '../training/options.js';
import { aeInfo, AEFamilyMethod, squaredErrorMap, unifiedAEOptions } from './ae-family.js';
import type { BatchScore } from '../training/base.js';
import type { LossOutput, StepContext } from '../training/trainer.js';
import type { ImageBatch, MethodInfo, MethodOptions, ScoreOptions, ScoreResult } from '../types.js';
import type { Split } from '../../data/types.js';

/** How a VAE variant turns a test image into a pixel map. */
export type VaeMap = 'error' | 'elbo' | 'kl' | 'rec' | 'combi';

export const VAE_OPTIONS = [
  numberOption('klWeight', 0.005, 'weight of the KL term in the loss (and in the vae-elbo map)', { min: 0 }),
  booleanOption('vaeSampleAtTest', true, 'quirk vaeSampleAtTest: decode a random sample z at test as the reference (false: decode μ)'),
];

/**
 * The scoring stream of a run: a fourth stream of the `seed` option (after the root's
 * init and train forks, see seedStreams), independent of the training draws.
 */
export function scoringGenerator(seed: number): Generator {
  const root = new Generator(seed);
  root.fork(); // init
  root.fork(); // train
  return root.fork();
}

export class VAEMethod extends AEFamilyMethod<VAE> {
  private scoreGen: Generator | null = null;
  private scoring: Promise<unknown> = Promise.resolve();

  constructor(
    info: MethodInfo,
    options: MethodOptions,
    private readonly map: VaeMap,
  ) {
    super(info, options);
    this.scoreNeedsGrad = map !== 'error';
  }

  protected buildNetwork(generator: Generator): VAE {
    return new VAE(unifiedAEOptions(this.options, generator));
  }

  private get klWeight(): number {
    return this.options.klWeight as number;
  }

  protected override loss(net: VAE, x: Tensor, ctx: StepContext): LossOutput {
    const out = net.run(x, ctx.generator);
    const rec = square(sub(x, this.output(out.xHat))).mean();
    const kl = klPerSample(out.mu, out.logVar).mean();
    return { loss: rec.add(mul(kl, this.klWeight)), terms: { rec, kl } };
  }

  override score(input: Split | ImageBatch, opts: ScoreOptions = {}): Promise<ScoreResult> {
    // One call at a time: each restarts the scoring stream, and concurrent calls would
    // otherwise interleave their draws.
    const run = async () => {
      this.scoreGen = scoringGenerator(this.options.seed as number);
      try {
        return await super.score(input, opts);
      } finally {
        this.scoreGen = null;
      }
    };
    const result = this.scoring.then(run, run);
    this.scoring = result.catch(() => undefined);
    return result;
  }

  protected scoreBatch(net: VAE, input: Tensor, wantReconstructions: boolean): BatchScore {
    const sampler = this.options.vaeSampleAtTest === false ? null : this.scoreGen;
    if (this.map === 'error') {
      const xHat = this.output(net.run(input, sampler).xHat);
      const maps = squaredErrorMap(input, xHat);
      return wantReconstructions ? { maps, reconstructions: xHat } : { maps };
    }
    const x = input.detach().requiresGrad_(true);
    const out = net.run(x, sampler);
    const xHat = this.output(out.xHat);
    const sqErr = square(sub(x, xHat));
    // Per-image terms summed over the batch: each image gets its own (batch-1) gradient.
    const rec = mean(sqErr, [1, 2, 3]).sum();
    const kl = klPerSample(out.mu, out.logVar).sum();
    const target = this.map === 'elbo' ? rec.add(mul(kl, this.klWeight)) : this.map === 'rec' ? rec : kl;
    const [g] = grad(target, [x]);
    const pixel = this.map === 'combi' ? mul(sqErr.detach(), abs(g)) : abs(g);
    const maps = mean(pixel, 1);
    return wantReconstructions ? { maps, reconstructions: xHat.detach() } : { maps };
  }
}

const variants: Array<[string, string, VaeMap, string]> = [
  ['vae', 'VAE', 'error', 'Variational autoencoder (mean squared error + 0.005·KL); map (x − x̂)² with x̂ decoded from a sampled z, score its mean.'],
  ['vae-elbo', 'VAE-Grad (ELBO)', 'elbo', 'VAE; map |∂(mean (x − x̂)² + 0.005·KL)/∂x|, score its mean.'],
  ['vae-kl', 'VAE-Grad (KL)', 'kl', 'VAE; map |∂KL/∂x|, score its mean.'],
  ['vae-rec', 'VAE-Grad (rec)', 'rec', 'VAE; map |∂ mean (x − x̂)²/∂x|, score its mean.'],
  ['vae-combi', 'VAE-Grad (combi)', 'combi', 'VAE; map (x − x̂)² ⊙ |∂KL/∂x|, score its mean.'],
];

for (const [name, title, map, description] of variants) {
  const info = aeInfo(name, title, description, VAE_OPTIONS);
  registerMethod({ info, create: (o) => new VAEMethod(info, o, map) });
}
