// What every unified-AE method shares: its MethodInfo shape, building the network from
// the options, the output activation quirk and the per-pixel error maps.
import { abs, mean, square, sub, tanh, type Generator, type Tensor } from '../../engine/index.js';
import type { Module } from '../../nn/module.js';
import { UnifiedAE, type UnifiedAEOptions } from '../../models/unified-ae.js';
import type { MethodInfo, MethodOptions, OptionSpec } from '../types.js';
import { ReconstructionMethod } from '../training/base.js';
import { aeMethodOptions } from './options.js';

/** A MethodInfo for an image-reconstruction method of the unified-AE family. */
export function aeInfo(name: string, title: string, description: string, extra: readonly OptionSpec[] = []): MethodInfo {
  return { name, title, family: 'image-reconstruction', description, defaultSize: 64, pixelMaps: true, options: aeMethodOptions(extra) };
}

/** UnifiedAE options from resolved method options. */
export function unifiedAEOptions(o: MethodOptions, generator: Generator): UnifiedAEOptions {
  return {
    inChannels: o.channels as number,
    size: o.size as number,
    latent: o.latent as number,
    hidden: o.hidden as number,
    width: o.width as number,
    expansion: o.expansion as number,
    depth: o.depth as number,
    generator,
  };
}

/** Mean over channels of (x − x̂)², [B, C, S, S] → [B, S, S]. */
export function squaredErrorMap(x: Tensor, xhat: Tensor): Tensor {
  return mean(square(sub(x, xhat)), 1);
}

/** Mean over channels of |x − x̂|. */
export function absoluteErrorMap(x: Tensor, xhat: Tensor): Tensor {
  return mean(abs(sub(x, xhat)), 1);
}

export abstract class AEFamilyMethod<N extends Module = UnifiedAE> extends ReconstructionMethod<N> {
  /** The network's last layer is linear in the reference (quirk aeLinearOutput); false adds a tanh. */
  protected output(y: Tensor): Tensor {
    return this.options.aeLinearOutput === false ? tanh(y) : y;
  }
}

/** The plain unified AE with a pixel loss: `ae` (ℓ2) and `ae-l1`. */
export class PixelLossAE extends AEFamilyMethod<UnifiedAE> {
  constructor(
    info: MethodInfo,
    options: MethodOptions,
    private readonly norm: 'l2' | 'l1',
  ) {
    super(info, options);
  }

  protected buildNetwork(generator: Generator): UnifiedAE {
    return new UnifiedAE(unifiedAEOptions(this.options, generator));
  }

  protected override loss(net: UnifiedAE, x: Tensor): Tensor {
    const xhat = this.output(net.forward(x));
    return this.norm === 'l2' ? square(sub(x, xhat)).mean() : abs(sub(x, xhat)).mean();
  }

  protected scoreBatch(net: UnifiedAE, x: Tensor, wantReconstructions: boolean) {
    const xhat = this.output(net.forward(x));
    const maps = this.norm === 'l2' ? squaredErrorMap(x, xhat) : absoluteErrorMap(x, xhat);
    return wantReconstructions ? { maps, reconstructions: xhat } : { maps };
  }
}
