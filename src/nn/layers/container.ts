// Sequential: children named "0", "1", ..., applied in order (PyTorch's nn.Sequential).
import type { Tensor } from '../../engine/index.js';
import { Module } from '../module.js';
import { fusesWithNext, runFused } from './eval-fusion.js';

export class Sequential extends Module {
  private readonly layers: Module[] = [];

  constructor(...layers: Module[]) {
    super();
    for (const l of layers) this.append(l);
  }

  /** Adds a layer at the end, named by its index. */
  append(layer: Module): this {
    if (!(layer instanceof Module)) throw new Error(`Sequential: item ${this.layers.length} is not a Module`);
    this.registerModule(String(this.layers.length), layer);
    this.layers.push(layer);
    return this;
  }

  get length(): number {
    return this.layers.length;
  }

  /** The layer at index i (negative counts from the end). */
  at(i: number): Module {
    const m = this.layers.at(i);
    if (!m) throw new Error(`Sequential.at: index ${i} is out of range for ${this.layers.length} layers`);
    return m;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.layers[Symbol.iterator]();
  }

  forward(x: Tensor): Tensor {
    const layers = this.layers;
    for (let i = 0; i < layers.length; i++) {
      // In eval mode BN + ReLU run as one kernel (eval-fusion.ts); same values.
      if (fusesWithNext(layers, i)) x = runFused(layers, i++, x);
      else x = layers[i].forward(x);
    }
    return x;
  }
}
