// f-AnoGAN (methods.md §5.15; from the reference's history, not its released code): a
// WGAN-GP trained on normal images, then an encoder mapping images into its latent space.
//
// Stage 1 (`epochs`, 3000 in the reference): per batch a critic step on
//   L_D = −mean D(x) + mean D(G(z)) + 10·GP,  GP = mean (‖∇D(x̃)‖₂ − 1)²,
//   x̃ = αx + (1 − α)G(z), α ~ U(0, 1) per sample and channel, z ~ N(0, I);
// and on every 5th batch of an epoch a generator step on L_G = −mean D(G(z')) with a fresh z'.
// The penalty's parameter gradient is exact: the critic builds ∇D(x̃) as a differentiable
// graph (see Critic.inputGradient), the first-order counterpart of PyTorch's create_graph.
// Stage 2 (`encoderEpochs`, 300): G and D frozen in eval mode, the encoder trained on
//   L_E = mean (x − G(E(x)))² + mean (f_D(x) − f_D(G(E(x))))²  ("izif", κ = 1).
// Test: map (x − G(E(x)))² averaged over channels; image score = mean image MSE + mean
// feature MSE. Adam lr 1e-3 (betas 0.9, 0.999) for all three networks, as the reference.
//
// Checkpoints: each stage checkpoints into its own sub-folder (`wgan/`, `encoder/`) of
// `checkpointDir`, so an interrupted run resumes in the stage where it stopped.
import { join } from 'node:path';
import { mul, noGrad, rand, randn, square, sub, type Generator, type Tensor } from '../../engine/index.js';
import { FAnoGAN } from '../../models/fanogan-nets.js';
import type { Split } from '../../data/types.js';
import { registerMethod } from '../catalogue.js';
import { integerOption, numberOption } from '../training/options.js';
import { checkGeometry } from '../training/images.js';
import { ReconstructionMethod, type BatchScore } from '../training/base.js';
import { GEOMETRY_OPTIONS, TRAINING_OPTIONS } from './options.js';
import { adam, seedStreams, trainLoop, type AnyOptimizer, type StepContext, type StepResult } from '../training/trainer.js';
import { withDefaults } from '../training/options.js';
import type { FitOptions, FitResult, MethodInfo, MethodOptions, Progress } from '../types.js';

export const FANOGAN_OPTIONS = [
  ...withDefaults(TRAINING_OPTIONS, { epochs: 3000 }).map((s) => (s.name === 'epochs' ? { ...s, description: 'WGAN-GP epochs (stage 1; 3000 in the reference)' } : s)),
  integerOption('encoderEpochs', 300, 'encoder epochs (stage 2; 300 in the reference)', { min: 0 }),
  ...GEOMETRY_OPTIONS,
  integerOption('dim', 64, 'DIM: residual-block widths DIM, 2·DIM, 4·DIM, 8·DIM', { min: 1 }),
  integerOption('latent', 128, 'latent size (the reference generator takes 128)', { min: 1 }),
  integerOption('nCritic', 5, 'a generator step every nCritic-th batch of an epoch', { min: 1 }),
  numberOption('gpWeight', 10, 'weight λ of the gradient penalty', { min: 0 }),
];

const info: MethodInfo = {
  name: 'fanogan',
  title: 'f-AnoGAN',
  family: 'image-reconstruction',
  description: 'WGAN-GP with an izif encoder; map (x − G(E(x)))², score image MSE + critic-feature MSE.',
  defaultSize: 64,
  pixelMaps: true,
  options: FANOGAN_OPTIONS,
};

/** mean over samples of (‖∇ₓD(x̃)‖₂ − 1)², differentiable with respect to the critic's parameters. */
export function gradientPenalty(net: FAnoGAN, interpolates: Tensor): Tensor {
  const g = net.discriminator.inputGradient(interpolates);
  return g.square().sum([1, 2, 3]).sqrt().sub(1).square().mean();
}

export class FanoganMethod extends ReconstructionMethod<FAnoGAN> {
  protected buildNetwork(generator: Generator): FAnoGAN {
    const o = this.options;
    return new FAnoGAN({ inChannels: o.channels as number, size: o.size as number, dim: o.dim as number, latent: o.latent as number, generator });
  }

  /** One critic step, and a generator step on every nCritic-th batch. */
  private wganStep(net: FAnoGAN, x: Tensor, ctx: StepContext, opt: Record<string, AnyOptimizer>): StepResult {
    const o = this.options;
    const G = net.generator;
    const D = net.discriminator;
    const b = x.shape[0];
    const gen = ctx.generator;
    const fake = noGrad(() => G.forward(randn([b, o.latent as number], { generator: gen })));
    opt.d.zeroGrad();
    const dReal = D.forward(x).mean();
    const dFake = D.forward(fake).mean();
    const alpha = rand([b, x.shape[1], 1, 1], { generator: gen });
    const interpolates = noGrad(() => mul(alpha, x).add(mul(sub(1, alpha), fake)));
    const gp = gradientPenalty(net, interpolates);
    const lossD = dFake.sub(dReal).add(gp.mul(o.gpWeight as number));
    lossD.backward();
    opt.d.step();

    if ((ctx.step + 1) % (o.nCritic as number) === 0) {
      opt.g.zeroGrad();
      D.requiresGrad_(false); // G's step needs gradients through D, not of D's weights
      try {
        const lossG = D.forward(G.forward(randn([b, o.latent as number], { generator: gen }))).mean().neg();
        lossG.backward();
      } finally {
        D.requiresGrad_(true);
      }
      opt.g.step();
    }
    return { loss: lossD.item(), terms: { dReal: dReal.item(), dFake: dFake.item(), gp: gp.item() } };
  }

  /** One encoder step with G and D frozen in eval mode. */
  private encoderStep(net: FAnoGAN, x: Tensor, opt: AnyOptimizer): StepResult {
    net.generator.eval();
    net.discriminator.eval();
    opt.zeroGrad();
    const xHat = net.generator.forward(net.encoder.forward(x));
    const img = square(sub(x, xHat)).mean();
    const feat = square(sub(net.discriminator.features(x), net.discriminator.features(xHat))).mean();
    const loss = img.add(feat);
    loss.backward();
    opt.step();
    return { loss: loss.item(), terms: { img: img.item(), feat: feat.item() } };
  }

  override async fit(train: Split, opts: FitOptions = {}): Promise<FitResult> {
    if (!train || typeof train.images !== 'function') throw new TypeError('fanogan.fit: train must be a Split');
    checkGeometry(this.info.name, `split ${train.dataset}/${train.name}`, train, this.geometry);
    const o = this.options;
    const lr = o.lr as number;
    const wganEpochs = o.epochs as number;
    const encoderEpochs = o.encoderEpochs as number;
    const streams = seedStreams(o.seed as number);
    const net = this.buildNetwork(streams.init);
    this.net = null;
    this.fitted = null;
    const stageOpts = (stage: string, offset: number): FitOptions => ({
      signal: opts.signal,
      resume: opts.resume,
      checkpointDir: opts.checkpointDir ? join(opts.checkpointDir, stage) : undefined,
      onProgress: opts.onProgress
        ? (p: Progress) => opts.onProgress!({ ...p, epoch: p.epoch + offset, epochs: wganEpochs + encoderEpochs })
        : undefined,
    });
    const common = { method: this.info.name, options: o, batchSize: o.batchSize as number, generator: streams.train, network: net };

    const wganOpt = { d: adam(net.discriminator.parameters(), lr), g: adam(net.generator.parameters(), lr) };
    const wgan = await trainLoop(train, { ...common, epochs: wganEpochs, optimizers: wganOpt, step: (x, ctx) => this.wganStep(net, x, ctx, wganOpt) }, stageOpts('wgan', 0));

    net.generator.requiresGrad_(false);
    net.discriminator.requiresGrad_(false);
    let enc: FitResult;
    try {
      const encOpt = { e: adam(net.encoder.parameters(), lr) };
      enc = await trainLoop(
        train,
        { ...common, epochs: encoderEpochs, optimizers: encOpt, step: (x) => this.encoderStep(net, x, encOpt.e) },
        stageOpts('encoder', wganEpochs),
      );
    } finally {
      net.generator.requiresGrad_(true);
      net.discriminator.requiresGrad_(true);
    }
    const result: FitResult = {
      epochs: wgan.epochs + enc.epochs,
      steps: wgan.steps + enc.steps,
      lossCurve: [...wgan.lossCurve, ...enc.lossCurve],
      seconds: wgan.seconds + enc.seconds,
    };
    this.net = net;
    this.fitted = result;
    return result;
  }

  protected scoreBatch(net: FAnoGAN, x: Tensor, wantReconstructions: boolean): BatchScore {
    const { xHat, featReal, featFake } = net.forward(x);
    const pixel = square(sub(x, xHat));
    const maps = pixel.mean(1);
    const img = pixel.mean([1, 2, 3]).data;
    const feat = square(sub(featReal, featFake)).mean(1).data;
    const scores = img.map((v, i) => v + feat[i]);
    return wantReconstructions ? { maps, scores, reconstructions: xHat } : { maps, scores };
  }
}

registerMethod({ info, create: (o: MethodOptions) => new FanoganMethod(info, o) });
