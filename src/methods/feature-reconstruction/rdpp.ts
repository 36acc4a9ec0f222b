// RD++ — Revisiting Reverse Distillation (Tien et al., CVPR 2023), as
// tientrandinh/Revisiting-Reverse-Distillation trains and evaluates it (`main.py`,
// `utils/utils_train.py`, `utils/utils_test.py`, `dataset/`).
//
// RD4AD (./rd4ad.ts: frozen teacher layer1..3, OCBE of official width, reverse decoder) with
// a multi-projection layer between the teacher and OCBE (models/multi-projection.ts): the
// student reconstructs E_k from decoder(OCBE(proj(E))). Training also feeds each image with
// a simplex-noise pseudo-anomaly (./rdpp-noise.ts) and adds the projection loss:
//
//   P_k = proj_k(E_k(x)),  P̃_k = proj_k(E_k(x̃)),  Ẽ_k = E_k(x̃)        (x̃ the noisy image)
//   SSOT     = Σ_k Sinkhorn(softmax(vec P_k) over the batch, the same rows shuffled)
//              (geomloss p 2, blur 0.05, scaling 0.95, diameter 1e7, debiased; ./sinkhorn.ts)
//   Recon    = Σ_k mean_{b,h,w} (1 − cos_channels(P̃_k, P_k))
//   Contrast = Σ_k mean_b max(0, cos(vec Ẽ_k, vec P_k) − 0.5)   (CosineEmbeddingLoss, target −1)
//   L_proj   = (SSOT + 0.01·Recon + 0.1·Contrast) / 1.11
//   L        = Σ_k mean_b (1 − cos(vec E_k, vec D_k)) + 0.2·L_proj     (projWeight)
//
// The shuffle is one permutation of the batch per step (torch.randperm), drawn here from the
// training stream. SSOT compares a set of points with the same set reordered: its value and
// gradient are zero but for rounding (./sinkhorn.ts), in the official code as here.
//
// Optimisation: Adam(proj) lr 1e-3 (`projLr`) and Adam(OCBE + decoder) lr 5e-3 (`lr`), both
// betas (0.5, 0.999). Gradients accumulate: backward on every batch, both optimisers step and
// zero their gradients after every 2nd batch of an epoch (`accumulate`), gradients summed, not
// averaged; with an odd number of batches the last one's gradient carries into the next
// epoch's first step (the official loop counts batches per epoch and never zeroes at an
// epoch's end). The pending gradients are part of the checkpoint (./grad-accumulation.ts), so
// a resumed run gives the numbers of an uninterrupted one. (One revision of the official
// main.py zeroes the gradients before every backward instead, so that each step uses one
// batch and every other batch is discarded; the version followed here sums two.)
//
// Batch 16, 256 px, seed 111 in the official script; epochs per MVTec class 10 to 300 (carpet,
// leather 10; wood 100; hazelnut, metal_nut 160; bottle, pill 200; cable 240; grid, tile 260;
// screw, toothbrush 280; capsule, transistor, zipper 300): the default here is 200.
//
// Map and score as RD4AD: pixel cosine distances between E_k and D_k upsampled with
// align_corners = True, summed, SciPy gaussian_filter σ 4; image score = the map's max.
//
// Checkpoint selection: the official script evaluates on the test set after every epoch and
// keeps (and reports) the epoch with the best mean of pixel AUROC, image AUROC and AUPRO — the
// published numbers (MVTec AD 99.44 / 98.25 / 94.99) depend on that selection on the test
// set. This method never selects: it returns the last epoch.
import { concat, mean, neg, relu, reshape, slice, softmax, Tensor, type Generator } from '../../engine/index.js';
import { MultiProjectionLayer } from '../../models/multi-projection.js';
import { OCBE, RD_LAYERS, rdChannels, ReverseDecoder, type RdBackbone } from '../../models/reverse-distillation.js';
import { Module } from '../../nn/module.js';
import { registerMethod } from '../catalogue.js';
import { GEOMETRY_OPTIONS, TRAINING_OPTIONS } from '../reconstruction/options.js';
import { integerOption, numberOption, stringOption, withDefaults } from '../training/options.js';
import type { AnyOptimizer, StepContext, StepResult } from '../training/trainer.js';
import type { BatchScore } from '../training/base.js';
import type { FitOptions, FitResult, MethodInfo, MethodOptions } from '../types.js';
import type { Split } from '../../data/types.js';
import { backboneOption, FeatureNetworkMethod, normalisationOption, WEIGHTS_OPTION } from './base.js';
import { globalCosineDistance, pixelCosineDistance } from './cosine.js';
import { AccumulatingAdam } from './grad-accumulation.js';
import { rdBatchScore, type RdMapOptions } from './rd-maps.js';
import { rdLoss, RD_STRIDE } from './rd4ad.js';
import { drawNoiseSeed, checkPatchOptions, SimplexPseudoAnomalies, type SimplexPatchOptions } from './rdpp-noise.js';
import { RDPP_SINKHORN, sinkhornDivergence, type SinkhornOptions } from './sinkhorn.js';

/** The three level maps of the teacher, the projection or the student. */
export type Levels = [Tensor, Tensor, Tensor];

/**
 * OCBE under `bn`, the decoder under `decoder`, the projection under `proj`: the three entries
 * of an official checkpoint, built in the official order (OCBE, decoder, projection).
 */
export class RdppNetwork extends Module {
  readonly bn: OCBE;
  readonly decoder: ReverseDecoder;
  readonly proj: MultiProjectionLayer;

  constructor(arch: RdBackbone, generator: Generator) {
    super();
    this.bn = this.registerModule('bn', new OCBE(arch, { width: 'official', generator }));
    this.decoder = this.registerModule('decoder', new ReverseDecoder(arch, { generator }));
    this.proj = this.registerModule('proj', new MultiProjectionLayer(rdChannels(arch), generator));
  }

  /** Projected maps → student maps [D1, D2, D3]. */
  student(projected: Levels): Levels {
    return this.decoder.forward(this.bn.forward(projected));
  }

  /** Teacher maps → student maps (the test-time path: decoder(OCBE(proj(E)))). */
  forward(feats: Levels): Levels {
    return this.student(this.proj.forward(feats));
  }
}

/** The weights of the projection loss's terms and its divisor (Revisit_RDLoss). */
export const RDPP_PROJ_WEIGHTS = Object.freeze({ ssot: 1, recon: 0.01, contrast: 0.1, divisor: 1.11 });
/** CosineEmbeddingLoss margin of the contrast term. */
export const RDPP_MARGIN = 0.5;

/** Rows of x (dim 0) in the order perm: x[perm], differentiable. */
export function permuteRows(x: Tensor, perm: ArrayLike<number>): Tensor {
  return concat(Array.from(perm, (i) => slice(x, 0, i, i + 1)), 0);
}

export interface RdppLossTerms {
  loss: Tensor;
  distill: Tensor;
  proj: Tensor;
  ssot: Tensor;
  recon: Tensor;
  contrast: Tensor;
}

function total(ts: Tensor[]): Tensor {
  let s = ts[0];
  for (let i = 1; i < ts.length; i++) s = s.add(ts[i]);
  return s;
}

/**
 * The RD++ loss of one batch: teacher maps of the clean images `e` and of the noisy ones
 * `eNoisy` (no gradient), `perm` the batch shuffle of the SSOT term.
 */
export function rdppLoss(net: RdppNetwork, e: Levels, eNoisy: Levels, perm: ArrayLike<number>, opts: { projWeight: number; sinkhorn?: SinkhornOptions }): RdppLossTerms {
  const b = e[0].shape[0];
  if (perm.length !== b) throw new RangeError(`rdppLoss: the shuffle has ${perm.length} entries for a batch of ${b}`);
  const p = net.proj.forward(e);
  const pn = net.proj.forward(eNoisy);
  const sk = opts.sinkhorn ?? RDPP_SINKHORN;
  const ssot = total(
    p.map((pk) => {
      const s = softmax(reshape(pk, [b, -1]), 1);
      return sinkhornDivergence(s, permuteRows(s, perm), sk);
    }),
  );
  const recon = total(p.map((pk, k) => mean(pixelCosineDistance(pn[k], pk))));
  const contrast = total(p.map((pk, k) => mean(relu(neg(globalCosineDistance(eNoisy[k], pk)).add(1 - RDPP_MARGIN)))));
  const w = RDPP_PROJ_WEIGHTS;
  const proj = ssot.mul(w.ssot).add(recon.mul(w.recon)).add(contrast.mul(w.contrast)).div(w.divisor);
  const { loss: distill } = rdLoss(e, net.student(p));
  return { loss: distill.add(proj.mul(opts.projWeight)), distill, proj, ssot, recon, contrast };
}

/** The two optimisers: `proj` (projection layer) and `distill` (decoder, then OCBE: the official list order). */
export function rdppOptimizers(net: RdppNetwork, o: { lr: number; projLr: number; betas: [number, number] }): { proj: AccumulatingAdam; distill: AccumulatingAdam } {
  const adamOpts = (lr: number) => ({ lr, betas: o.betas, eps: 1e-8, weightDecay: 0 });
  return {
    proj: new AccumulatingAdam(net.proj.parameters(), adamOpts(o.projLr)),
    distill: new AccumulatingAdam([...net.decoder.parameters(), ...net.bn.parameters()], adamOpts(o.lr)),
  };
}

export const RDPP_OPTIONS = [
  backboneOption(['wide_resnet50_2', 'resnet18'] as const, 'teacher backbone: wide_resnet50_2 (official) or resnet18 (BasicBlock OCBE and decoder)'),
  WEIGHTS_OPTION,
  normalisationOption('imagenet'),
  numberOption('projLr', 0.001, 'Adam learning rate of the multi-projection layer (lr is that of OCBE + decoder)', { min: 0 }),
  numberOption('beta1', 0.5, 'Adam beta1 of both optimisers', { min: 0, max: 0.999999 }),
  numberOption('beta2', 0.999, 'Adam beta2 of both optimisers', { min: 0, max: 0.999999 }),
  numberOption('projWeight', 0.2, 'weight of the projection loss in the total (official --weight_proj)', { min: 0 }),
  integerOption('accumulate', 2, 'batches per optimiser step, gradients summed (official 2; an odd last batch carries into the next epoch); 1: a step per batch', { min: 1 }),
  stringOption('noiseField', 'fixed', "pseudo-anomaly noise: 'fixed' (official quirk: every patch a crop of one field, seeded once per fit) or 'fresh' (a new field per image)", ['fixed', 'fresh']),
  numberOption('noiseStrength', 0.2, 'simplex-noise amplitude on the 0–1 image scale, added without clipping', { min: 0 }),
  integerOption('noisePatchMin', 10, 'smallest pseudo-anomaly side in pixels (official 10)', { min: 1 }),
  integerOption('noisePatchMax', 31, 'largest pseudo-anomaly side in pixels, inclusive (official 31, at most size − 2)', { min: 1 }),
  stringOption('combine', 'add', "how the level maps are combined: 'add' (official) or 'multiply'", ['add', 'multiply']),
  stringOption('blur', 'scipy', "map smoothing borders: 'scipy' (gaussian_filter; official) or 'torch' (anomalib's GaussianBlur2d)", ['scipy', 'torch']),
  numberOption('sigma', 4, 'σ of the Gaussian map smoothing (0: none)', { min: 0 }),
];

export const RDPP_METHOD_OPTIONS = [
  ...withDefaults(TRAINING_OPTIONS, { epochs: 200, batchSize: 16, lr: 0.005 }).map((s) =>
    s.name === 'lr' ? { ...s, description: 'Adam learning rate of OCBE + decoder (no schedule, no weight decay; betas from beta1 and beta2)' } : s,
  ),
  ...withDefaults(GEOMETRY_OPTIONS, { size: 256 }),
  ...RDPP_OPTIONS,
];

/** The settings a fit and a score depend on. */
export interface RdppSettings {
  backbone: RdBackbone;
  lr: number;
  projLr: number;
  betas: [number, number];
  projWeight: number;
  accumulate: number;
  patches: SimplexPatchOptions;
  map: RdMapOptions;
}

export function rdppSettings(o: MethodOptions): RdppSettings {
  const sigma = o.sigma as number;
  return {
    backbone: o.backbone as RdBackbone,
    lr: o.lr as number,
    projLr: o.projLr as number,
    betas: [o.beta1 as number, o.beta2 as number],
    projWeight: o.projWeight as number,
    accumulate: o.accumulate as number,
    patches: {
      patchMin: o.noisePatchMin as number,
      patchMax: o.noisePatchMax as number,
      strength: o.noiseStrength as number,
      field: o.noiseField as 'fixed' | 'fresh',
    },
    map: { combine: o.combine as 'add' | 'multiply', blur: sigma === 0 ? 'none' : (o.blur as 'scipy' | 'torch'), sigma },
  };
}

export class RDPP extends FeatureNetworkMethod<RdppNetwork> {
  protected override scoreBatchSize = 16;
  /** The pseudo-anomaly generator of the current fit (its fixed field drawn with the network). */
  private anomalies: SimplexPseudoAnomalies | null = null;

  protected get settings(): RdppSettings {
    return rdppSettings(this.options);
  }

  override validate(): void {
    const s = this.options.size as number;
    if (s % RD_STRIDE) throw new RangeError(`${this.info.name}: option "size" must be a multiple of ${RD_STRIDE} (the one-class embedding is at 1/${RD_STRIDE} of the image), got ${s}`);
    checkPatchOptions(this.info.name, s, this.settings.patches);
    super.validate();
  }

  protected buildNetwork(generator: Generator): RdppNetwork {
    const s = this.settings;
    const net = new RdppNetwork(s.backbone, generator);
    // The fixed noise field's seed comes after the weights from the same stream, so a resumed
    // fit (which rebuilds the network from the seed) has the same field.
    this.anomalies = new SimplexPseudoAnomalies(this.options.size as number, s.patches, drawNoiseSeed(generator));
    return net;
  }

  protected override createOptimizers(net: RdppNetwork): Record<string, AnyOptimizer> {
    return rdppOptimizers(net, this.settings);
  }

  /** The teacher's [E1, E2, E3] of backbone-ready input (eval mode, no gradient). */
  private teacher(input: Tensor): Levels {
    const f = this.backbone().features(input, RD_LAYERS);
    return [f.layer1, f.layer2, f.layer3];
  }

  /** The teacher's maps of images in [-1, 1]. */
  teacherFeatures(x: Tensor): Levels {
    return this.teacher(this.backboneInput(x));
  }

  protected override trainStep(net: RdppNetwork, x: Tensor, ctx: StepContext, optimizers: Record<string, AnyOptimizer>): StepResult {
    const s = this.settings;
    if (!this.anomalies) throw new Error(`${this.info.name}: no pseudo-anomaly generator (buildNetwork did not run)`);
    // Draw order as the official step: the data loader's patches per image, then the loss's randperm.
    const { noisy } = this.anomalies.apply(x, ctx.generator);
    const perm = Int32Array.from({ length: x.shape[0] }, (_, i) => i);
    ctx.generator.shuffle(perm);
    const e = this.teacherFeatures(x);
    const en = this.teacherFeatures(noisy);
    const t = rdppLoss(net, e, en, perm, { projWeight: s.projWeight });
    t.loss.backward();
    if ((ctx.step + 1) % s.accumulate === 0) {
      for (const o of Object.values(optimizers)) o.step();
      for (const o of Object.values(optimizers)) o.zeroGrad();
    }
    return {
      loss: t.loss.item(),
      terms: { distill: t.distill.item(), proj: t.proj.item(), ssot: t.ssot.item(), recon: t.recon.item(), contrast: t.contrast.item() },
    };
  }

  override async fit(train: Split, opts: FitOptions = {}): Promise<FitResult> {
    try {
      return await super.fit(train, opts);
    } finally {
      // Gradients still pending after the last epoch are never applied (as in the official
      // loop); drop them instead of holding a second copy of the weights.
      if (this.net) for (const p of this.net.parameters()) p.grad = null;
    }
  }

  protected scoreBatch(net: RdppNetwork, x: Tensor): BatchScore {
    const e = this.teacherFeatures(x);
    const d = net.forward(e);
    return rdBatchScore([[e[0], d[0]], [e[1], d[1]], [e[2], d[2]]], x.shape[2], this.settings.map);
  }
}

export const RDPP_INFO: MethodInfo = {
  name: 'rdpp',
  aliases: ['rd++'],
  title: 'RD++',
  family: 'feature-reconstruction',
  description:
    'Revisiting reverse distillation: RD4AD with a multi-projection layer between the frozen teacher (wide_resnet50_2 layer1..3) and OCBE, trained with simplex-noise pseudo-anomalies and ' +
    'the projection loss (Sinkhorn SSOT, reconstruction and contrast terms) beside the distillation loss; map and score as RD4AD. Last epoch (the official script selects on the test set)',
  defaultSize: 256,
  pixelMaps: true,
  options: RDPP_METHOD_OPTIONS,
};

registerMethod({ info: RDPP_INFO, create: (o) => new RDPP(RDPP_INFO, o) });
