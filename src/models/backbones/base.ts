// What every ImageNet backbone shares: its layer list, and features(x, layers) — the
// eval-mode, no-gradient forward that stops after the deepest layer asked for.
import { noGrad, Tensor } from '../../engine/index.js';
import { Module } from '../../nn/module.js';

export type BackboneName = 'resnet18' | 'wide_resnet50_2' | 'vgg19';

/** A named output of a backbone: its channels and its stride relative to the input (0: pooled to [N, C]). */
export interface BackboneLayer {
  name: string;
  channels: number;
  stride: number;
}

export interface Backbone extends Module {
  readonly name: BackboneName;
  /** Every name features() accepts, in the order the forward pass produces them. */
  readonly layers: readonly BackboneLayer[];
  /**
   * Eval-mode forward of x [N, 3, H, W] (already normalised, see preprocess.ts) without
   * gradients; returns the maps named in `layers` and runs nothing after the deepest of them.
   */
  features(x: Tensor, layers: readonly string[]): Record<string, Tensor>;
  /**
   * The same forward in the current grad mode (still eval mode): for losses that differentiate
   * through the frozen network into its input (AE-Perceptual).
   */
  forwardFeatures(x: Tensor, layers: readonly string[]): Record<string, Tensor>;
  /**
   * The forward in the current mode and grad mode, whatever they are: train-mode batch norm
   * (batch statistics, running statistics updated) for methods that train the backbone or
   * run it in training mode on purpose (ReContrast's encoder, FAE's quirk).
   */
  run(x: Tensor, layers: readonly string[]): Record<string, Tensor>;
}

/** A Module that implements Backbone on top of runStages(x, want, last). */
export abstract class BackboneModule extends Module implements Backbone {
  abstract readonly name: BackboneName;
  abstract readonly layers: readonly BackboneLayer[];

  /** Runs the forward in the current modes, keeping the outputs named in `want`, stopping after `last`. */
  protected abstract runStages(x: Tensor, want: ReadonlySet<string>, last: string): Record<string, Tensor>;

  private plan(x: Tensor, layers: readonly string[], what: string): { want: Set<string>; last: string } {
    if (!(x instanceof Tensor)) throw new TypeError(`${this.name}.${what}: x must be a Tensor [N, 3, H, W]`);
    if (x.ndim !== 4 || x.shape[1] !== 3) {
      throw new RangeError(
        `${this.name}.${what}: x must be [N, 3, H, W], got [${x.shape.join(', ')}]` +
          (x.ndim === 4 ? ' (grey or [-1, 1] images go through toBackboneInput first, which replicates one channel to three and normalises)' : ''),
      );
    }
    if (!Array.isArray(layers) || layers.length === 0) {
      throw new TypeError(`${this.name}.${what}: layers must be a non-empty array of layer names (${this.layers.map((l) => l.name).join(', ')})`);
    }
    const order = new Map(this.layers.map((l, i) => [l.name, i]));
    const unknown = layers.filter((l) => !order.has(l));
    if (unknown.length) {
      throw new RangeError(`${this.name}.${what}: unknown layer(s) ${unknown.map((l) => JSON.stringify(l)).join(', ')}; ${this.name} has ${this.layers.map((l) => l.name).join(', ')}`);
    }
    const last = layers.reduce((a, b) => (order.get(b)! > order.get(a)! ? b : a));
    return { want: new Set(layers), last };
  }

  features(x: Tensor, layers: readonly string[]): Record<string, Tensor> {
    const { want, last } = this.plan(x, layers, 'features');
    if (this.training) this.eval();
    return noGrad(() => this.runStages(x, want, last));
  }

  forwardFeatures(x: Tensor, layers: readonly string[]): Record<string, Tensor> {
    const { want, last } = this.plan(x, layers, 'forwardFeatures');
    if (this.training) this.eval();
    return this.runStages(x, want, last);
  }

  run(x: Tensor, layers: readonly string[]): Record<string, Tensor> {
    const { want, last } = this.plan(x, layers, 'run');
    return this.runStages(x, want, last);
  }
}
