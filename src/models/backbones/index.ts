// ImageNet backbones on the engine: torchvision's resnet18, wide_resnet50_2 and the VGG19
// feature stack, with torchvision's state-dict names, loaded from .safetensors files with
// those names (converted by `medianomaly weights import|fetch`) or initialised at random as
// torchvision does (only when asked for with weights: 'random').
import { existsSync, statSync } from 'node:fs';
import { Generator } from '../../engine/index.js';
import { kaimingNormal } from '../../nn/init.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { BatchNormBase } from '../../nn/layers/norm.js';
import type { Module, StateValue } from '../../nn/module.js';
import { readStateDict } from '../../nn/safetensors.js';
import type { Backbone, BackboneLayer, BackboneModule, BackboneName } from './base.js';
import { NO_INIT, RESNET_ARCHS, ResNetFeatures, resnetLayers } from './resnet.js';
import { BACKBONE_NAMES, checkBackboneName, compareState, describeStateCheck, expectedState, headPrefix } from './state.js';
import { VGG19Features, vgg19Layers } from './vgg.js';

export type { Backbone, BackboneLayer, BackboneName } from './base.js';
export { BackboneModule } from './base.js';
export { ResNetFeatures, NO_INIT } from './resnet.js';
export { VGG19Features } from './vgg.js';
export { compareState, describeStateCheck, expectedState, type ExpectedTensor, type StateCheck } from './state.js';
export { toBackboneInput, IMAGENET_MEAN, IMAGENET_STD, type BackboneInputOptions } from './preprocess.js';

export interface CreateBackboneOptions {
  /** A .safetensors path with torchvision's names, or 'random' (torchvision's seeded initialisation). */
  weights: string;
  /** Seed of the random initialisation (weights: 'random'); default 0. */
  seed?: number;
}

function layersOf(name: BackboneName): BackboneLayer[] {
  if (name === 'vgg19') return vgg19Layers().map(({ name: n, channels, stride }) => ({ name: n, channels, stride }));
  return resnetLayers(RESNET_ARCHS[name]);
}

/** The network with every value zero (convs skip PyTorch's default init): loaded or initialised next. */
function build(name: BackboneName): BackboneModule {
  return name === 'vgg19' ? new VGG19Features() : new ResNetFeatures(name, NO_INIT);
}

/**
 * torchvision's initialisation, module by module in its order, every draw from `g`: convs
 * kaiming_normal_(mode='fan_out', nonlinearity='relu') with zero bias (VGG), batch norm
 * weight 1 and bias 0 (running statistics at 0 / 1). Exported for networks that embed a
 * trainable torchvision body (ProjectionNet): build it with NO_INIT, then call this.
 */
export function torchvisionInit(net: Module, g: Generator): void {
  for (const [, m] of net.namedModules()) {
    if (m instanceof Conv2d) {
      kaimingNormal(m.weight, { mode: 'fan_out', nonlinearity: 'relu', generator: g });
      m.bias?.data.fill(0);
    } else if (m instanceof BatchNormBase) {
      m.weight?.data.fill(1);
      m.bias?.data.fill(0);
      m.resetRunningStats();
    }
  }
}

/**
 * Loads a torchvision state dict from a .safetensors file into `net`, after checking every
 * name and shape (compareState): a file for another architecture is refused with the
 * offending names. The classifier (fc.* / classifier.*) is ignored; an absent
 * num_batches_tracked stays 0.
 */
export function loadBackboneWeights(net: BackboneModule, path: string): void {
  if (!existsSync(path)) {
    throw new Error(`${net.name} weights: no file ${path} (convert torchvision's file with medianomaly weights import, or fetch it with medianomaly weights fetch ${net.name})`);
  }
  if (!statSync(path).isFile()) throw new Error(`${net.name} weights: ${path} is not a file`);
  let dict: Map<string, StateValue>;
  try {
    dict = readStateDict(path);
  } catch (e) {
    throw new Error(`${net.name} weights ${path}: ${(e as Error).message}`);
  }
  const check = compareState(net.name, dict);
  if (!check.ok) throw new Error(`${path} is ${describeStateCheck(net.name, check)}`);
  const head = headPrefix(net.name);
  const wanted = new Map([...dict].filter(([k]) => !k.startsWith(head)));
  net.loadStateDict(wanted, { strict: false });
}

function create(name: BackboneName, opts: CreateBackboneOptions): Backbone {
  checkBackboneName(name, 'backbones.create');
  const weights = opts?.weights;
  if (typeof weights !== 'string' || weights === '') {
    throw new TypeError(
      `backbones.create(${JSON.stringify(name)}): weights must be a .safetensors path with torchvision's names, or 'random' for torchvision's random initialisation (got ${JSON.stringify(weights)})`,
    );
  }
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`backbones.create: seed must be a non-negative integer, got ${seed}`);
  let net: BackboneModule;
  if (weights === 'random') {
    net = build(name);
    torchvisionInit(net, new Generator(seed));
  } else {
    net = build(name);
    loadBackboneWeights(net, weights);
  }
  net.eval();
  net.requiresGrad_(false);
  return net;
}

export const backbones = {
  list(): BackboneName[] {
    return [...BACKBONE_NAMES];
  },
  layers(name: BackboneName): readonly BackboneLayer[] {
    return layersOf(checkBackboneName(name, 'backbones.layers'));
  },
  expectedState(name: BackboneName): { name: string; shape: number[]; dtype: 'float32' | 'int64' }[] {
    return expectedState(name);
  },
  create,
};
