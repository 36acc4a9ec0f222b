// RD4AD — anomaly detection via reverse distillation from a one-class embedding (Deng & Li,
// CVPR 2022), as hq-deng/RD4AD trains and evaluates it (`main.py`, `test.py`), with
// anomalib's `reverse_distillation` as the alternative preset.
//
// Teacher: the ImageNet backbone (wide_resnet50_2 by default; resnet18 also), frozen and in
// eval mode, its layer1..layer3 maps E1, E2, E3. Student: OCBE (multi-scale fusion +
// one-class embedding) and the reverse decoder (models/reverse-distillation.ts), trained
// together in train mode. The loss is the one the code uses (not the per-position form of the
// paper): L = Σ_k mean_b [1 − cos(vec E_k(b), vec D_k(b))], each level's maps of one image
// flattened into one vector. Adam, lr 0.005, betas (0.5, 0.999), batch 16, 200 epochs, 256 px.
//
// Map: per level the pixel cosine distance 1 − cos(E_k, D_k) over channels, upsampled to the
// image with bilinear align_corners = True, summed over the levels, then SciPy's
// gaussian_filter(σ = 4); image score = the map's maximum.
//
// Preset 'anomalib' (its reverse_distillation model): OCBE bottleneck width 512 instead of
// 1024, Adam beta2 0.99, the kornia-style blur border (see feature-reference/maps.ts). Its
// timm weights (wide_resnet50_2.racm_in1k) are a matter of the `weights` option; its batch
// size (32) and early stopping are not part of the preset. anomalib's AnomalyMapGenerator
// multiplies the level maps (BMAD's configs) while its lightning model adds them: `combine`.
//
// The official script evaluates every 10 epochs and reports the last evaluation (no
// selection on the test set); this method uses the last epoch too.
import { Tensor, type Generator } from '../../engine/index.js';
import { Module } from '../../nn/module.js';
import { Adam } from '../../nn/optim/adam.js';
import { OCBE, RD_LAYERS, ReverseDecoder, type RdBackbone } from '../../models/reverse-distillation.js';
import { registerMethod } from '../catalogue.js';
import { GEOMETRY_OPTIONS, TRAINING_OPTIONS } from '../reconstruction/options.js';
import { numberOption, stringOption, withDefaults, type TypedSpec } from '../training/options.js';
import type { AnyOptimizer, LossOutput } from '../training/trainer.js';
import type { BatchScore } from '../training/base.js';
import type { MethodInfo, MethodOptions } from '../types.js';
import { backboneOption, FeatureNetworkMethod, normalisationOption, WEIGHTS_OPTION } from './base.js';
import { globalCosineDistance } from './cosine.js';
import { rdBatchScore, type RdMapOptions } from './rd-maps.js';

/** OCBE under `bn` and the decoder under `decoder`: the two entries of an official checkpoint. */
export class RDNetwork extends Module {
  readonly bn: OCBE;
  readonly decoder: ReverseDecoder;

  /** `init` false: skip the Kaiming draws, for values loaded next. */
  constructor(arch: RdBackbone, width: 'official' | 'anomalib', generator: Generator, init = true) {
    super();
    // The official script builds the encoder+OCBE pair first, then the decoder.
    this.bn = this.registerModule('bn', new OCBE(arch, { width, generator, init }));
    this.decoder = this.registerModule('decoder', new ReverseDecoder(arch, { generator, init }));
  }

  /** Teacher maps [E1, E2, E3] → student maps [D1, D2, D3] of the same shapes. */
  forward(feats: [Tensor, Tensor, Tensor]): [Tensor, Tensor, Tensor] {
    return this.decoder.forward(this.bn.forward(feats));
  }
}

/** Σ_k mean_b of the global cosine distance between teacher and student maps (the official loss_fucntion). */
export function rdLoss(teacher: readonly Tensor[], student: readonly Tensor[]): { loss: Tensor; levels: Tensor[] } {
  if (teacher.length !== student.length) throw new RangeError(`rdLoss: ${teacher.length} teacher maps but ${student.length} student maps`);
  const levels = teacher.map((t, k) => globalCosineDistance(t, student[k]).mean());
  let loss = levels[0];
  for (let k = 1; k < levels.length; k++) loss = loss.add(levels[k]);
  return { loss, levels };
}

function presetChoice<const N extends string, const C extends string>(name: N, description: string, choices: readonly C[]): TypedSpec<N, 'string', C | null> & { choices: readonly C[] } {
  return { name, type: 'string', default: null, description, choices };
}

export const RD4AD_OPTIONS = [
  backboneOption(['wide_resnet50_2', 'resnet18'] as const, 'teacher backbone: wide_resnet50_2 (official) or resnet18 (BasicBlock OCBE and decoder, as anomalib builds them)'),
  WEIGHTS_OPTION,
  normalisationOption('imagenet'),
  stringOption('preset', 'official', "which code base the null options follow: 'official' (hq-deng/RD4AD) or 'anomalib' (reverse_distillation)", ['official', 'anomalib']),
  presetChoice('ocbeWidth', "bottleneck width of the wide_resnet50_2 OCE blocks: 'official' 1024 (width_per_group 128) or 'anomalib' 512; null: the preset's", ['official', 'anomalib']),
  numberOption('beta1', 0.5, 'Adam beta1', { min: 0, max: 0.999999 }),
  numberOption('beta2', null, "Adam beta2; null: the preset's (official 0.999, anomalib 0.99)", { min: 0, max: 0.999999 }),
  stringOption('combine', 'add', "how the level maps are combined: 'add' (official amap_mode 'a', anomalib's lightning model) or 'multiply' (anomalib's AnomalyMapGenerator default, BMAD)", ['add', 'multiply']),
  presetChoice('blur', "map smoothing borders: 'scipy' (gaussian_filter, half-sample reflect; official) or 'torch' (anomalib's GaussianBlur2d, mirror reflect); null: the preset's", ['scipy', 'torch']),
  numberOption('sigma', 4, 'σ of the Gaussian map smoothing (0: none)', { min: 0 }),
];

export const RD4AD_METHOD_OPTIONS = [
  ...withDefaults(TRAINING_OPTIONS, { epochs: 200, batchSize: 16, lr: 0.005 }).map((s) => (s.name === 'lr' ? { ...s, description: 'Adam learning rate (no schedule, no weight decay; betas from beta1 and beta2)' } : s)),
  ...withDefaults(GEOMETRY_OPTIONS, { size: 256 }),
  ...RD4AD_OPTIONS,
];

const PRESETS = {
  official: { ocbeWidth: 'official', beta2: 0.999, blur: 'scipy' },
  anomalib: { ocbeWidth: 'anomalib', beta2: 0.99, blur: 'torch' },
} as const;

/** The settings a fit and a score depend on, the preset's nulls filled in. */
export interface RD4ADSettings {
  backbone: RdBackbone;
  ocbeWidth: 'official' | 'anomalib';
  betas: [number, number];
  map: RdMapOptions;
}

export function rd4adSettings(o: MethodOptions): RD4ADSettings {
  const p = PRESETS[o.preset as keyof typeof PRESETS];
  const sigma = o.sigma as number;
  const blur = (o.blur ?? p.blur) as 'scipy' | 'torch';
  return {
    backbone: o.backbone as RdBackbone,
    ocbeWidth: (o.ocbeWidth ?? p.ocbeWidth) as 'official' | 'anomalib',
    betas: [o.beta1 as number, (o.beta2 ?? p.beta2) as number],
    map: { combine: o.combine as 'add' | 'multiply', blur: sigma === 0 ? 'none' : blur, sigma },
  };
}

/** The stride of the embedding: the size must be a multiple of it for the decoder to meet the teacher's shapes. */
export const RD_STRIDE = 32;

export class RD4AD extends FeatureNetworkMethod<RDNetwork> {
  protected override scoreBatchSize = 16;

  protected get settings(): RD4ADSettings {
    return rd4adSettings(this.options);
  }

  /** The option checks without building the network (tens of millions of Kaiming draws): its shapes follow from `size` alone. */
  override validate(): void {
    const s = this.options.size as number;
    if (s % RD_STRIDE) throw new RangeError(`${this.info.name}: option "size" must be a multiple of ${RD_STRIDE} (the one-class embedding is at 1/${RD_STRIDE} of the image), got ${s}`);
    this.validateFeatureOptions();
  }

  protected buildNetwork(generator: Generator): RDNetwork {
    const s = this.settings;
    return new RDNetwork(s.backbone, s.ocbeWidth, generator, this.drawsInitialisation);
  }


  protected override createOptimizers(net: RDNetwork): Record<string, AnyOptimizer> {
    // The official optimiser holds decoder + OCBE parameters (OCBE's unused conv4/bn4 too; they take no gradient).
    return { adam: new Adam(net.parameters(), { lr: this.options.lr as number, betas: this.settings.betas, eps: 1e-8, weightDecay: 0 }) };
  }

  /** The teacher's [E1, E2, E3] of images in [-1, 1] (eval mode, no gradient). */
  teacherFeatures(x: Tensor): [Tensor, Tensor, Tensor] {
    const f = this.backbone().features(this.backboneInput(x), RD_LAYERS);
    return [f.layer1, f.layer2, f.layer3];
  }

  protected override loss(net: RDNetwork, x: Tensor): LossOutput {
    const e = this.teacherFeatures(x);
    const { loss, levels } = rdLoss(e, net.forward(e));
    return { loss, terms: { layer1: levels[0], layer2: levels[1], layer3: levels[2] } };
  }

  protected scoreBatch(net: RDNetwork, x: Tensor): BatchScore {
    const e = this.teacherFeatures(x);
    const d = net.forward(e);
    return rdBatchScore([[e[0], d[0]], [e[1], d[1]], [e[2], d[2]]], x.shape[2], this.settings.map);
  }
}

export const RD4AD_INFO: MethodInfo = {
  name: 'rd4ad',
  title: 'RD4AD',
  family: 'feature-reconstruction',
  description:
    'Reverse distillation: a frozen ImageNet teacher (wide_resnet50_2 layer1..3), a trained one-class bottleneck embedding (OCBE) and a reverse ResNet decoder that reconstructs the teacher maps; ' +
    'loss = global cosine distance per level; map = pixel cosine distances upsampled, summed and blurred (σ 4), score = its max. Presets official (default) and anomalib',
  defaultSize: 256,
  pixelMaps: true,
  options: RD4AD_METHOD_OPTIONS,
};

registerMethod({ info: RD4AD_INFO, create: (o) => new RD4AD(RD4AD_INFO, o) });
