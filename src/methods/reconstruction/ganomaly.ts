// GANomaly (methods.md §5.13): a generator x → z → x̂ → ẑ trained against a discriminator;
// the anomaly score of an image is the latent distance mean over ls of (z − ẑ)². No pixel map.
//
// Per batch (one forward, as the reference): G gives x̂, z, ẑ; D runs on x, on x̂ and on
// x̂ detached (three separate train-mode passes, so BN sees each batch on its own).
// L_G = 1·mean (f(x) − f(x̂))² + 50·mean (x − x̂)² + 1·mean (z − ẑ)² steps G's Adam; then
// L_D = ½[BCE(D(x), 1) + BCE(D(x̂ detached), 0)] steps D's Adam. After an epoch whose mean
// L_D is below 1e-5, D's conv and BN weights are re-drawn (the reference's reinit_d).
//
// Test (quirk ganomalyTrainModeEval, default true): the whole network runs in training
// mode at batch size 1, so BN normalises each test image with its own statistics. As in
// the reference (PyTorch updates running statistics in train mode even without gradients),
// those passes also move the BN running averages. They never feed a train-mode score, so
// scores do not depend on the order or number of score() calls; they do change the saved
// buffers, which only an eval-mode run (ganomalyTrainModeEval false) would read.
import { bceLoss, ones, square, sub, zeros, type Generator, type Tensor } from '../../engine/index.js';
import { Ganomaly } from '../../models/ganomaly-nets.js';
import { unifiedAEOptions } from './ae-family.js';
import type { Split } from '../../data/types.js';
import { registerMethod } from '../catalogue.js';
import { booleanOption, integerOption, numberOption } from '../training/options.js';
import { ReconstructionMethod, type BatchScore } from '../training/base.js';
import { GEOMETRY_OPTIONS, TRAINING_OPTIONS } from './options.js';
import { adam, type AnyOptimizer, type StepContext, type StepResult } from '../training/trainer.js';
import type { FitOptions, FitResult, MethodInfo, MethodOptions } from '../types.js';

/** Mean D loss under which the reference re-initialises the discriminator. */
const D_REINIT_BELOW = 1e-5;

export const GANOMALY_OPTIONS = [
  ...TRAINING_OPTIONS,
  ...GEOMETRY_OPTIONS,
  integerOption('latent', 16, 'latent size ls', { min: 1 }),
  integerOption('hidden', 1024, 'hidden width h of the MLPs (no BN1d)', { min: 1 }),
  integerOption('width', 16, 'base width w (block widths w·e, 2w·e, 4w·e, 4w·e)', { min: 1 }),
  integerOption('expansion', 1, 'width expansion e', { min: 1 }),
  integerOption('depth', 1, 'layers per encoder/decoder block', { min: 1 }),
  numberOption('advWeight', 1, 'weight of the feature-matching term mean (f(x) − f(x̂))² in L_G', { min: 0 }),
  numberOption('recWeight', 50, 'weight of the reconstruction term mean (x − x̂)² in L_G', { min: 0 }),
  numberOption('encWeight', 1, 'weight of the latent term mean (z − ẑ)² in L_G', { min: 0 }),
  booleanOption('ganomalyTrainModeEval', true, 'quirk ganomalyTrainModeEval: score in training mode at batch size 1 as the reference (false: eval mode)'),
];

const info: MethodInfo = {
  name: 'ganomaly',
  title: 'GANomaly',
  family: 'image-reconstruction',
  description: 'Encoder–decoder–encoder generator trained adversarially; image score mean (z − ẑ)² (no pixel map).',
  defaultSize: 64,
  pixelMaps: false,
  options: GANOMALY_OPTIONS,
};

export class GanomalyMethod extends ReconstructionMethod<Ganomaly> {
  /** L_D summed over the images of the epoch in progress (for the re-initialisation rule). */
  private dLossSum = 0;
  private dLossCount = 0;
  private stepsPerEpoch = 0;

  protected buildNetwork(generator: Generator): Ganomaly {
    // The same encoder/decoder geometry options as the unified AE.
    return new Ganomaly(unifiedAEOptions(this.options, generator));
  }

  override async fit(train: Split, opts?: FitOptions): Promise<FitResult> {
    // The re-initialisation is checked at the end of each epoch, inside its last step.
    this.stepsPerEpoch = Math.ceil((train?.length ?? 0) / (this.options.batchSize as number));
    return super.fit(train, opts);
  }

  protected override createOptimizers(net: Ganomaly): Record<string, AnyOptimizer> {
    const lr = this.options.lr as number;
    return { g: adam(net.netg.parameters(), lr), d: adam(net.netd.parameters(), lr) };
  }

  protected override trainStep(net: Ganomaly, x: Tensor, ctx: StepContext, optimizers: Record<string, AnyOptimizer>): StepResult {
    const o = this.options;
    const b = x.shape[0];
    if (ctx.step === 0) {
      this.dLossSum = 0;
      this.dLossCount = 0;
    }
    const { xHat, z, zHat } = net.netg.forward(x);
    const real = net.netd.forward(x);
    const fake = net.netd.forward(xHat);
    const fakeDetached = net.netd.forward(xHat.detach());

    const adv = square(sub(real.features, fake.features)).mean();
    const rec = square(sub(x, xHat)).mean();
    const enc = square(sub(z, zHat)).mean();
    const lossG = adv
      .mul(o.advWeight as number)
      .add(rec.mul(o.recWeight as number))
      .add(enc.mul(o.encWeight as number));
    optimizers.g.zeroGrad();
    // D(x)'s graph is shared with L_D below: keep it through this first backward.
    lossG.backward(undefined, { retainGraph: true });
    optimizers.g.step();

    const lossD = bceLoss(real.pred, ones([b])).add(bceLoss(fakeDetached.pred, zeros([b]))).mul(0.5);
    optimizers.d.zeroGrad(); // also drops what L_G's backward left in D
    lossD.backward();
    optimizers.d.step();

    const d = lossD.item();
    this.dLossSum += d * b;
    this.dLossCount += b;
    if (ctx.step === this.stepsPerEpoch - 1 && this.dLossSum / this.dLossCount < D_REINIT_BELOW) {
      net.netd.reinitialize(ctx.generator);
    }
    return { loss: lossG.item(), terms: { adv: adv.item(), rec: rec.item(), enc: enc.item(), d } };
  }

  private get trainModeEval(): boolean {
    return this.options.ganomalyTrainModeEval !== false;
  }

  protected override scoreMode(net: Ganomaly): void {
    if (this.trainModeEval) {
      // Batch statistics of one image at a time, as the reference's test loader (batch 1).
      if ((this.options.size as number) < 32) {
        throw new Error('ganomaly: training-mode scoring needs size ≥ 32 (the 4th block of a 16 px image has one value per channel, which BN cannot normalise)');
      }
      net.train();
      this.scoreBatchSize = 1;
    } else {
      net.eval();
      this.scoreBatchSize = 64;
    }
  }

  protected scoreBatch(net: Ganomaly, x: Tensor, wantReconstructions: boolean): BatchScore {
    const { xHat, z, zHat } = net.netg.forward(x);
    const d = square(sub(z, zHat)).mean(1);
    const scores = Float32Array.from(d.data);
    return wantReconstructions ? { scores, reconstructions: xHat } : { scores };
  }
}

registerMethod({ info, create: (o: MethodOptions) => new GanomalyMethod(info, o) });
