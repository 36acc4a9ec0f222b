// A denoiser together with the exponential moving average of its weights (diffusion spec
// §7.6), as one Module so that every place that saves "the network" keeps both: the saved
// model (`model.*` = the trained weights, `ema.*` = the averages, the reference's
// model_state_dict and ema) and the training checkpoints, so a resumed run continues the
// very averages an uninterrupted one would have (resume = uninterrupted, bit for bit).
//
// The averages are ParameterEMA's shadow arrays, registered as buffers of a mirror module
// under the parameters' own dotted names: loading a state dict writes straight into them.
// Scoring runs on the averages (`withAveraged`), training on the live weights; the averages
// are buffers, so parameters() (what the optimiser steps) is the model's alone.
import { Tensor } from '../../engine/index.js';
import { Module } from '../../nn/module.js';
import { ParameterEMA } from '../../nn/optim/ema.js';
import type { Denoiser } from '../../models/diffusion/denoiser.js';

/** Buffers mirroring a module's parameter names (one level of the dotted path per node). */
class ShadowNode extends Module {
  private readonly kids = new Map<string, ShadowNode>();

  child(name: string): ShadowNode {
    let k = this.kids.get(name);
    if (!k) {
      k = this.registerModule(name, new ShadowNode());
      this.kids.set(name, k);
    }
    return k;
  }

  hold(name: string, t: Tensor): void {
    this.registerBuffer(name, t);
  }

  forward(): never {
    throw new Error('the EMA shadow holds weights only; run the model with withAveraged()');
  }
}

export class DenoiserWithEMA<D extends Denoiser = Denoiser> extends Module implements Denoiser {
  readonly model: D;
  readonly averages: ParameterEMA;

  constructor(model: D, decay: number) {
    super();
    this.model = this.registerModule('model', model);
    const named = model.namedParameters();
    this.averages = new ParameterEMA(
      named.map(([, p]) => p),
      decay,
    );
    const root = this.registerModule('ema', new ShadowNode());
    named.forEach(([name, p], k) => {
      const parts = name.split('.');
      let node = root;
      for (const part of parts.slice(0, -1)) node = node.child(part);
      // The buffer shares the shadow's storage: the EMA updates it, loadStateDict fills it.
      node.hold(parts[parts.length - 1], tensorOver(p, this.averages.shadow[k]));
    });
  }

  /** ε̂ of the live (training) weights; wrap in withAveraged() to use the averages. */
  forward(x: Tensor, t: Float32Array): Tensor {
    return this.model.forward(x, t);
  }

  /** θ_ema ← decay·θ_ema + (1 − decay)·θ, after each optimiser step. */
  updateAverages(): void {
    this.averages.update();
  }

  /** Runs fn with the averaged weights in the model, the live ones restored after. */
  withAveraged<T>(fn: () => T): T {
    return this.averages.withAveraged(fn);
  }
}

/** A tensor with p's shape whose values are `data` (shared, not copied). */
function tensorOver(p: Tensor, data: Float32Array): Tensor {
  return Tensor.fromData(data, p.shape);
}
