// AdamW (torch.optim.AdamW, Loshchilov & Hutter): Adam whose weight decay is decoupled from
// the gradient. Each step first shrinks the parameter, θ ← θ·(1 − lr·wd), then takes the plain
// Adam step (no decay folded into the gradient), as PyTorch 1.13's single-tensor path does.
// A parameter without a gradient is left alone, decay included (PyTorch skips it too).
import { adamUpdate, type Tensor } from '../../engine/index.js';
import { Adam, type AdamOptions } from './adam.js';
import { definedOnly, type ParamGroupInput } from './optimizer.js';

export class AdamW extends Adam {
  /** Defaults as torch.optim.AdamW: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-2. */
  constructor(params: Tensor[] | Array<ParamGroupInput<AdamOptions>>, opts: Partial<AdamOptions> = {}) {
    super(params, { weightDecay: 1e-2, ...definedOnly(opts) });
  }

  override step(): void {
    for (const g of this.paramGroups) {
      // PyTorch multiplies by the float32 value of the Python double (1 − lr·wd).
      const shrink = Math.fround(1 - g.lr * g.weightDecay);
      for (const p of g.params) {
        if (!p.grad) continue;
        let s = this.state.get(p);
        if (!s) {
          s = { step: 0, exp_avg: new Float32Array(p.size), exp_avg_sq: new Float32Array(p.size) };
          if (g.amsgrad) s.max_exp_avg_sq = new Float32Array(p.size);
          this.state.set(p, s);
        }
        s.step = (s.step as number) + 1;
        if (g.amsgrad && !s.max_exp_avg_sq) s.max_exp_avg_sq = new Float32Array(p.size);
        if (shrink !== 1) {
          const d = p.data;
          for (let i = 0; i < d.length; i++) d[i] *= shrink;
        }
        adamUpdate(p, p.grad, s.exp_avg as Float32Array, s.exp_avg_sq as Float32Array, g.amsgrad ? (s.max_exp_avg_sq as Float32Array) : null, {
          lr: g.lr,
          beta1: g.betas[0],
          beta2: g.betas[1],
          eps: g.eps,
          weightDecay: 0,
          step: s.step,
          amsgrad: g.amsgrad,
        });
      }
    }
  }
}
