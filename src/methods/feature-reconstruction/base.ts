// The base of every trained method that works on the feature maps of an ImageNet backbone
// (feature reconstruction: FAE, RD4AD, RD++, ReContrast; flows: CFlow-AD, FastFlow).
//
// It adds to the reconstruction loop's base (fit in epochs with checkpoints, score in
// batches, save/load) the one thing these methods share: a backbone built from the
// `backbone` and `weights` options — the cached torchvision file, a .safetensors path with
// torchvision names, or 'random' (seeded torchvision initialisation; tests and benches only).
// The backbone is fresh for every method (not shared), frozen (no parameter takes a
// gradient) and in eval mode; a method that runs it in training mode (FAE's batch-norm quirk)
// or trains a copy of it (ReContrast) says so and, where that changes its state, registers it
// under its network so that model.safetensors holds it.
//
// config.json records the backbone, the weights option and the weights file's SHA-256; load()
// rebuilds the backbone from the same option and refuses a file with another hash (its scores
// would differ). The backbone exists before buildNetwork runs, in fit and in load, so a
// network may copy from it (ReContrast's trainable encoder starts as the pretrained one).
import type { Tensor } from '../../engine/index.js';
import { backbones, toBackboneInput, type BackboneModule, type BackboneName } from '../../models/backbones/index.js';
import type { Module } from '../../nn/module.js';
import { resolveWeights } from '../../weights/index.js';
import type { Split } from '../../data/types.js';
import { ReconstructionMethod } from '../training/base.js';
import { stringOption, type TypedSpec } from '../training/options.js';
import { readConfig, writeConfig, type SavedConfig } from '../training/saved.js';
import type { FitOptions, FitResult } from '../types.js';

/** The backbone option, restricted to the architectures a method supports (first = default). */
export function backboneOption<const C extends BackboneName>(choices: readonly C[], description?: string) {
  return stringOption('backbone', choices[0], description ?? `ImageNet backbone whose feature maps the method reads (${choices.join(', ')})`, choices);
}

/** The weights option: null = the cached torchvision ImageNet file of the backbone. */
export const WEIGHTS_OPTION: TypedSpec<'weights', 'string', string | null> = {
  name: 'weights',
  type: 'string',
  default: null,
  description:
    "backbone weights: null = the cached torchvision ImageNet file (`medianomaly weights fetch <backbone>`), a .safetensors path with torchvision names, or 'random' (seeded torchvision initialisation; for tests and benches, not for results)",
};

/** How images in [-1, 1] become backbone input: ImageNet mean/std (default) or the [-1, 1] values themselves. */
export function normalisationOption<const D extends 'imagenet' | 'half'>(def: D, description?: string) {
  return stringOption(
    'normalisation',
    def,
    description ?? "backbone input: 'imagenet' = ImageNet mean/std of [0, 1] images; 'half' = the [-1, 1] values as they are",
    ['imagenet', 'half'] as const,
  );
}

/** What config.json records about the backbone. */
export interface FeatureNetworkSavedConfig extends SavedConfig {
  featureNetwork?: {
    backbone: BackboneName;
    /** The weights option as given (null: the cached torchvision file). */
    weights: string | null;
    /** SHA-256 of the weights file (null: random weights). */
    weightsSha256: string | null;
  };
}

export abstract class FeatureNetworkMethod<N extends Module = Module> extends ReconstructionMethod<N> {
  private backboneNet: BackboneModule | null = null;
  private weightsSha256: string | null = null;
  private loading = false;

  /**
   * False while load() builds the network that the saved values then overwrite: buildNetwork
   * may skip drawing its initialisation (tens of millions of Kaiming draws for the
   * wide_resnet50_2 heads, Haar rotations for CFlow), which changes nothing a fit computes.
   */
  protected get drawsInitialisation(): boolean {
    return !this.loading;
  }

  /** The backbone of the options (every method of this base has a `backbone` option). */
  protected get backboneName(): BackboneName {
    return this.options.backbone as BackboneName;
  }

  /** The frozen backbone of the current fit or load; throws before either. */
  protected backbone(): BackboneModule {
    if (!this.backboneNet) throw new Error(`${this.info.name}: the method is not trained; call fit() or load() first`);
    return this.backboneNet;
  }

  /** Images [B, C, S, S] in [-1, 1] → the backbone's [B, 3, S, S] input (grey repeated), by the `normalisation` option. */
  protected backboneInput(x: Tensor): Tensor {
    const norm = (this.options.normalisation as 'imagenet' | 'half' | undefined) ?? 'imagenet';
    return toBackboneInput(x, { normalisation: norm, channelPolicy: 'replicate' });
  }

  override validate(): void {
    this.validateFeatureOptions();
    super.validate();
  }

  /**
   * The checks this base adds (channels, weights); for a method whose validate() checks its
   * network's shapes without building it (a large network's initialisation is slow).
   */
  protected validateFeatureOptions(): void {
    const c = this.options.channels as number;
    if (c !== 1 && c !== 3) throw new RangeError(`${this.info.name}: option "channels" must be 1 or 3 (backbones take RGB; grey is repeated), got ${c}`);
    resolveWeights(this.backboneName, this.options.weights as string | null);
  }

  /**
   * A fresh frozen backbone (eval mode) of `arch` from the weights option `spec`; checks the
   * file's SHA-256 against `expectSha` when given (load), and records it.
   */
  private makeBackbone(arch: BackboneName, spec: string | null, seed: number, expectSha?: string | null): BackboneModule {
    const w = resolveWeights(arch, spec);
    if (expectSha !== undefined && w.sha256 !== expectSha) {
      throw new Error(
        `${this.info.name}: the backbone weights resolved from weights=${JSON.stringify(spec)} (${w.path}) have SHA-256 ${w.sha256}, ` +
          `but the method was trained with ${expectSha}; its scores would differ. Give the original weights file as the "weights" option, or train again`,
      );
    }
    const net = backbones.create(arch, { weights: w.path, seed }) as BackboneModule;
    this.weightsSha256 = w.sha256;
    return net;
  }

  override async fit(train: Split, opts: FitOptions = {}): Promise<FitResult> {
    this.backboneNet = this.makeBackbone(this.backboneName, this.options.weights as string | null, this.options.seed as number);
    return super.fit(train, opts);
  }

  override async save(dir: string): Promise<void> {
    await super.save(dir);
    const cfg = readConfig(dir) as FeatureNetworkSavedConfig;
    const { sha256: _recomputed, ...rest } = cfg;
    const featureNetwork = { backbone: this.backboneName, weights: this.options.weights as string | null, weightsSha256: this.weightsSha256 };
    writeConfig(dir, { ...rest, featureNetwork } as FeatureNetworkSavedConfig);
  }

  override async load(dir: string): Promise<void> {
    const cfg = readConfig(dir) as FeatureNetworkSavedConfig;
    const before = this.backboneNet;
    const beforeSha = this.weightsSha256;
    try {
      // The backbone first, from the saved options, so that buildNetwork may read it.
      const arch = (cfg.options.backbone ?? this.backboneName) as BackboneName;
      const spec = (cfg.options.weights ?? null) as string | null;
      this.backboneNet = this.makeBackbone(arch, spec, (cfg.options.seed ?? 0) as number, cfg.featureNetwork ? cfg.featureNetwork.weightsSha256 : undefined);
      this.loading = true;
      await super.load(dir);
    } catch (e) {
      this.backboneNet = before;
      this.weightsSha256 = beforeSha;
      throw e;
    } finally {
      this.loading = false;
    }
  }
}
