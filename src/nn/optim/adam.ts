// Adam (torch.optim.Adam): L2 weight decay added to the gradient, bias-corrected moments,
// optional AMSGrad. The update itself is the kernel table's adamStep, so a native backend
// runs it.
import { adamUpdate } from '../../engine/index.js';
import { checkNonNegative, definedOnly, Optimizer, type ParamGroup, type ParamGroupInput } from './optimizer.js';
import type { Tensor } from '../../engine/index.js';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

export class Adam extends Optimizer<AdamOptions> {
  constructor(params: Tensor[] | Array<ParamGroupInput<AdamOptions>>, opts: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, ...definedOnly(opts) });
  }

  protected validate(g: ParamGroup<AdamOptions>, where: string): void {
    checkNonNegative(where, 'lr', g.lr);
    checkNonNegative(where, 'eps', g.eps);
    checkNonNegative(where, 'weightDecay', g.weightDecay);
    if (!Array.isArray(g.betas) || g.betas.length !== 2 || !g.betas.every((b) => b >= 0 && b < 1)) {
      throw new Error(`${where}: betas must be two numbers in [0, 1), got ${JSON.stringify(g.betas)}`);
    }
  }

  step(): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (!p.grad) continue;
        let s = this.state.get(p);
        if (!s) {
          s = { step: 0, exp_avg: new Float32Array(p.size), exp_avg_sq: new Float32Array(p.size) };
          if (g.amsgrad) s.max_exp_avg_sq = new Float32Array(p.size);
          this.state.set(p, s);
        }
        s.step = (s.step as number) + 1;
        // amsgrad may be switched on for a group after state exists (e.g. after loading).
        if (g.amsgrad && !s.max_exp_avg_sq) s.max_exp_avg_sq = new Float32Array(p.size);
        adamUpdate(p, p.grad, s.exp_avg as Float32Array, s.exp_avg_sq as Float32Array, g.amsgrad ? (s.max_exp_avg_sq as Float32Array) : null, {
          lr: g.lr,
          beta1: g.betas[0],
          beta2: g.betas[1],
          eps: g.eps,
          weightDecay: g.weightDecay,
          step: s.step,
          amsgrad: g.amsgrad,
        });
      }
    }
  }
}
