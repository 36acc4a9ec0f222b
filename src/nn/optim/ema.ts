// Exponential moving average of parameters (diffusion spec §7.6, AnoDDPM): after every
// optimiser step θ_ema ← decay · θ_ema + (1 − decay) · θ, θ_ema starting as a copy of θ.
// Scoring uses the averaged weights: swap() exchanges them with the live ones (call again to
// swap back), or withAveraged(fn) runs fn on them and restores the live ones. The update is
// PyTorch's float32 `old * beta + (1 − beta) * new`, each product and the sum rounded.
import type { Tensor } from '../../engine/index.js';

/** PyTorch-shaped snapshot: the decay, the number of updates and one shadow per parameter (in order). */
export interface ParameterEMAState {
  decay: number;
  updates: number;
  shadow: Float32Array[];
}

interface HasParameters {
  parameters(): Tensor[];
}

export class ParameterEMA {
  readonly params: Tensor[];
  /** The averaged values, one per parameter (its own copy). */
  readonly shadow: Float32Array[];
  /** Number of update() calls. */
  updates = 0;
  private swapped = false;

  constructor(
    params: readonly Tensor[] | HasParameters,
    readonly decay = 0.9999,
  ) {
    if (typeof decay !== 'number' || !(decay >= 0 && decay <= 1)) throw new RangeError(`ParameterEMA: decay must be in [0, 1], got ${String(decay)}`);
    this.params = Array.isArray(params) ? [...(params as readonly Tensor[])] : (params as HasParameters).parameters();
    if (this.params.length === 0) throw new Error('ParameterEMA: got an empty parameter list');
    this.shadow = this.params.map((p) => p.data.slice());
  }

  /** θ_ema ← decay · θ_ema + (1 − decay) · θ for every parameter (after the optimiser step). */
  update(): void {
    if (this.swapped) throw new Error('ParameterEMA.update: the averaged weights are swapped in; swap() back first');
    const b = Math.fround(this.decay);
    const a = Math.fround(1 - this.decay);
    this.params.forEach((p, k) => {
      const s = this.shadow[k];
      const x = p.data;
      for (let i = 0; i < s.length; i++) s[i] = Math.fround(s[i] * b) + Math.fround(a * x[i]);
    });
    this.updates++;
  }

  /** Exchanges the live parameter values and the averages (twice: back to the start). */
  swap(): void {
    this.params.forEach((p, k) => {
      const s = this.shadow[k];
      const x = p.data;
      if (x.length !== s.length) throw new Error(`ParameterEMA.swap: parameter ${k} changed size (${s.length} → ${x.length})`);
      for (let i = 0; i < s.length; i++) {
        const t = x[i];
        x[i] = s[i];
        s[i] = t;
      }
    });
    this.swapped = !this.swapped;
  }

  /** True while swap() has put the averages into the parameters. */
  get averagedIn(): boolean {
    return this.swapped;
  }

  /** Runs fn with the averaged weights in the parameters, restoring the live ones after (also on a throw). */
  withAveraged<T>(fn: () => T): T {
    if (this.swapped) return fn();
    this.swap();
    try {
      return fn();
    } finally {
      this.swap();
    }
  }

  /** Copies the averages into the parameters for good (the live values are lost). */
  copyToParams(): void {
    if (this.swapped) throw new Error('ParameterEMA.copyToParams: swap() back first');
    this.params.forEach((p, k) => p.data.set(this.shadow[k]));
  }

  /** A snapshot for checkpoints (copies; the live averages, even while swapped in). */
  stateDict(): ParameterEMAState {
    const shadow = this.params.map((p, k) => (this.swapped ? p.data : this.shadow[k]).slice());
    return { decay: this.decay, updates: this.updates, shadow };
  }

  /** Restores a snapshot of the same parameter list (sizes checked). */
  loadStateDict(state: ParameterEMAState): void {
    if (this.swapped) throw new Error('ParameterEMA.loadStateDict: swap() back first');
    if (state.decay !== this.decay) throw new Error(`ParameterEMA.loadStateDict: decay ${state.decay} differs from ${this.decay}`);
    if (state.shadow.length !== this.shadow.length) throw new Error(`ParameterEMA.loadStateDict: ${state.shadow.length} shadows for ${this.shadow.length} parameters`);
    state.shadow.forEach((s, k) => {
      if (s.length !== this.shadow[k].length) throw new Error(`ParameterEMA.loadStateDict: shadow ${k} holds ${s.length} values, the parameter ${this.shadow[k].length}`);
    });
    state.shadow.forEach((s, k) => this.shadow[k].set(s));
    this.updates = state.updates;
  }
}
