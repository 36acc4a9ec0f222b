// The MedIAnomaly VAE (methods.md §4.2): the unified AE whose encoder MLP ends in
// Linear(h → 2·ls), split into μ (first ls values) and log σ² (last ls); the decoder MLP
// takes z = μ + σ ⊙ ε with σ = exp(½ log σ²). The reference draws ε in training and at
// test (quirk vaeSampleAtTest); here ε comes from a Generator the caller passes, so a run
// is reproducible from its seed, and passing none decodes μ.
//
// Parameter names are the unified AE's (enc.*, enc_mlp.*, dec_mlp.*, dec.*); only the last
// encoder Linear is twice as wide.
import { add, exp, mul, randn, slice, type Generator, type Tensor } from '../engine/index.js';
import { UnifiedAE, type UnifiedAEOptions } from './unified-ae.js';

export type VAEOptions = Omit<UnifiedAEOptions, 'encoderOutputs'>;

export interface VAEOutput {
  /** Reconstruction [B, C, s, s]. */
  xHat: Tensor;
  /** Posterior mean [B, ls]. */
  mu: Tensor;
  /** Posterior log-variance [B, ls]. */
  logVar: Tensor;
  /** The code the decoder received: a sample, or μ when no generator was given. */
  z: Tensor;
}

export class VAE extends UnifiedAE {
  constructor(opts: VAEOptions = {}) {
    const latent = opts.latent ?? 16;
    super({ ...opts, latent, encoderOutputs: 2 * latent });
  }

  /** x → (μ, log σ²), each [B, ls]. */
  posterior(x: Tensor): { mu: Tensor; logVar: Tensor } {
    const stats = this.encode(x);
    const ls = this.config.latent;
    return { mu: slice(stats, 1, 0, ls), logVar: slice(stats, 1, ls, 2 * ls) };
  }

  /** z = μ + exp(½ log σ²) ⊙ ε with ε ~ N(0, I) from `generator`; μ itself when generator is null. */
  reparameterize(mu: Tensor, logVar: Tensor, generator: Generator | null): Tensor {
    if (!generator) return mu;
    const eps = randn(mu.shape, { generator });
    return add(mu, mul(exp(mul(logVar, 0.5)), eps));
  }

  /** The full forward: posterior, sample (or μ), reconstruction. */
  run(x: Tensor, generator: Generator | null): VAEOutput {
    const { mu, logVar } = this.posterior(x);
    const z = this.reparameterize(mu, logVar, generator);
    return { xHat: this.decode(z), mu, logVar, z };
  }

  /** Reconstruction from μ (deterministic); use run() to sample. */
  override forward(x: Tensor): Tensor {
    return this.run(x, null).xHat;
  }
}

/**
 * KL(q(z|x) ‖ N(0, I)) per sample as the reference computes it: the mean (not the sum)
 * over the ls latent dimensions of −½(1 + log σ² − μ² − σ²). Returns [B].
 */
export function klPerSample(mu: Tensor, logVar: Tensor): Tensor {
  // 1 + log σ² − μ² − exp(log σ²), then × −½ and the mean over dim 1.
  const inner = add(logVar, 1).sub(mu.square()).sub(exp(logVar));
  return mul(inner, -0.5).mean(1);
}
