// DAE (methods.md §5.14): a U-Net (§4.4) trained to remove coarse noise, at 128 × 128 with
// batch 16; at test the clean image goes in, the map is (x − x̂)² averaged over channels and
// the image score its mean.
//
// The noise of a training batch, every draw from the run's checkpointed stream:
// 1. n ~ N(0, 0.2²) of shape B × C × 16 × 16;
// 2. bilinear upsampling to the input size with align_corners = true;
// 3. a cyclic roll by (r_h, r_w), uniform in {0, …, size − 1}: one for the whole batch
//    (quirk daeSharedRoll) or one per image;
// 4. with `foregroundMask` (the reference does it for brain and brats, and the CLI sets it
//    for brain MRI datasets): n ← n ⊙ [x > min], the minimum over the whole batch tensor
//    (quirk daeBatchMinMask) or over each image;
// 5. n ← (n − 0.5)·2 (quirk daeNoiseOffset: a left-over of the reference that shifts the
//    field to mean ≈ −1; it produced the published numbers);
// 6. input = x + n; loss = mean (x − U(x + n))².
import { interpolate, randn, square, sub, Tensor, type Generator } from '../../engine/index.js';
import { UNet } from '../../models/unet.js';
import { registerMethod } from '../catalogue.js';
import { booleanOption, integerOption, numberOption, stringOption, withDefaults } from '../training/options.js';
import { ReconstructionMethod, type BatchScore } from '../training/base.js';
import { squaredErrorMap } from './ae-family.js';
import { GEOMETRY_OPTIONS, TRAINING_OPTIONS } from './options.js';
import type { StepContext } from '../training/trainer.js';
import type { MethodInfo, MethodOptions } from '../types.js';

export const DAE_OPTIONS = [
  ...withDefaults(TRAINING_OPTIONS, { batchSize: 16 }),
  ...withDefaults(GEOMETRY_OPTIONS, { size: 128 }),
  integerOption('width', 64, 'filters of the first U-Net level (64; level i has width·2^i)', { min: 1 }),
  integerOption('noiseResolution', 16, 'side of the coarse noise grid before upsampling', { min: 2 }),
  numberOption('noiseStd', 0.2, 'standard deviation of the coarse noise', { min: 0 }),
  booleanOption('foregroundMask', false, 'add noise only where x exceeds its minimum (the reference does it for brain and brats)'),
  booleanOption('daeNoiseOffset', true, 'quirk daeNoiseOffset: the added field is (n − 0.5)·2 as in the reference (false: n)'),
  booleanOption('daeBatchMinMask', true, 'quirk daeBatchMinMask: the foreground is x > min over the whole batch (false: per-image minimum)'),
  booleanOption('daeSharedRoll', true, 'quirk daeSharedRoll: one cyclic shift of the noise per batch (false: one per image)'),
  stringOption('imageScore', 'mean', 'quirk imageScoreMean: image score = mean of the pixel map (reference) or its max', ['mean', 'max']),
];

const info: MethodInfo = {
  name: 'dae',
  title: 'DAE',
  family: 'image-reconstruction',
  description: 'Denoising U-Net trained to remove coarse shifted noise; map (x − x̂)², score its mean.',
  defaultSize: 128,
  pixelMaps: true,
  options: DAE_OPTIONS,
};

export interface NoiseSettings {
  resolution: number;
  std: number;
  foregroundMask: boolean;
  offset: boolean;
  batchMinMask: boolean;
  sharedRoll: boolean;
}

/** torch.roll of one [H, W] plane by (rh, rw) along height and width, from src into dst. */
function rollPlane(src: Float32Array, dst: Float32Array, off: number, h: number, w: number, rh: number, rw: number): void {
  for (let y = 0; y < h; y++) {
    const ty = (y + rh) % h;
    for (let x = 0; x < w; x++) dst[off + ty * w + ((x + rw) % w)] = src[off + y * w + x];
  }
}

/** The noisy training input x + n for a batch x [B, C, S, S] (steps 1–6 above); the noise is returned too. */
export function addDaeNoise(x: Tensor, s: NoiseSettings, generator: Generator): { input: Tensor; noise: Tensor } {
  const [b, c, h, w] = x.shape;
  const coarse = randn([b, c, s.resolution, s.resolution], { generator }).mul(s.std);
  const smooth = interpolate(coarse, { size: [h, w], mode: 'bilinear', alignCorners: true }).data;
  const n = new Float32Array(smooth.length);
  const plane = h * w;
  // The reference draws the height shift, then the width shift.
  let rh = generator.int(h);
  let rw = generator.int(w);
  for (let i = 0; i < b; i++) {
    if (i > 0 && !s.sharedRoll) {
      rh = generator.int(h);
      rw = generator.int(w);
    }
    for (let ch = 0; ch < c; ch++) rollPlane(smooth, n, (i * c + ch) * plane, h, w, rh, rw);
  }
  const xd = x.data;
  if (s.foregroundMask) {
    const per = c * plane;
    const minOf = (from: number, to: number) => {
      let m = Infinity;
      for (let k = from; k < to; k++) if (xd[k] < m) m = xd[k];
      return m;
    };
    const batchMin = s.batchMinMask ? minOf(0, xd.length) : 0;
    for (let i = 0; i < b; i++) {
      const lo = s.batchMinMask ? batchMin : minOf(i * per, (i + 1) * per);
      for (let k = i * per; k < (i + 1) * per; k++) if (!(xd[k] > lo)) n[k] = 0;
    }
  }
  if (s.offset) for (let k = 0; k < n.length; k++) n[k] = (n[k] - 0.5) * 2;
  const input = new Float32Array(n.length);
  for (let k = 0; k < n.length; k++) input[k] = xd[k] + n[k];
  return { input: Tensor.fromData(input, x.shape), noise: Tensor.fromData(n, x.shape) };
}

export class DAEMethod extends ReconstructionMethod<UNet> {
  // A 64-wide U-Net at 128 px holds ~1 GB of activations for 64 images; score 16 at a time.
  protected override scoreBatchSize = 16;

  protected buildNetwork(generator: Generator): UNet {
    const o = this.options;
    const size = o.size as number;
    if (size % 16 || size < 32) throw new Error(`dae: size must be a multiple of 16 and at least 32 (four 2×2 poolings), got ${size}`);
    return new UNet({ inChannels: o.channels as number, width: o.width as number, generator });
  }

  private get noise(): NoiseSettings {
    const o = this.options;
    return {
      resolution: o.noiseResolution as number,
      std: o.noiseStd as number,
      foregroundMask: o.foregroundMask === true,
      offset: o.daeNoiseOffset !== false,
      batchMinMask: o.daeBatchMinMask !== false,
      sharedRoll: o.daeSharedRoll !== false,
    };
  }

  protected override loss(net: UNet, x: Tensor, ctx: StepContext): Tensor {
    const { input } = addDaeNoise(x, this.noise, ctx.generator);
    return square(sub(x, net.forward(input))).mean();
  }

  protected scoreBatch(net: UNet, x: Tensor, wantReconstructions: boolean): BatchScore {
    const xHat = net.forward(x);
    const maps = squaredErrorMap(x, xHat);
    return wantReconstructions ? { maps, reconstructions: xHat } : { maps };
  }
}

registerMethod({ info, create: (o: MethodOptions) => new DAEMethod(info, o) });
