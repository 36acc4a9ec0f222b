// SGD (torch.optim.SGD): L2 weight decay, momentum with dampening, Nesterov. The update is
// the kernel table's sgdStep.
import { sgdUpdate } from '../../engine/index.js';
import { checkNonNegative, definedOnly, Optimizer, type ParamGroup, type ParamGroupInput } from './optimizer.js';
import type { Tensor } from '../../engine/index.js';

export interface SgdOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export class SGD extends Optimizer<SgdOptions> {
  constructor(params: Tensor[] | Array<ParamGroupInput<SgdOptions>>, opts: Partial<SgdOptions> & { lr: number }) {
    if (!opts || opts.lr === undefined) throw new Error('SGD: lr is required (PyTorch has no default either)');
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...definedOnly(opts), lr: opts.lr });
  }

  protected validate(g: ParamGroup<SgdOptions>, where: string): void {
    checkNonNegative(where, 'lr', g.lr);
    checkNonNegative(where, 'momentum', g.momentum);
    checkNonNegative(where, 'weightDecay', g.weightDecay);
    if (!Number.isFinite(g.dampening)) throw new Error(`${where}: dampening must be finite, got ${g.dampening}`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new Error(`${where}: nesterov needs momentum > 0 and dampening = 0`);
  }

  step(): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (!p.grad) continue;
        let buf: Float32Array | null = null;
        let firstStep = false;
        if (g.momentum !== 0) {
          let s = this.state.get(p);
          if (!s || !s.momentum_buffer) {
            s = { ...(s ?? {}), momentum_buffer: new Float32Array(p.size) };
            this.state.set(p, s);
            firstStep = true;
          }
          buf = s.momentum_buffer as Float32Array;
        }
        sgdUpdate(p, p.grad, buf, { lr: g.lr, momentum: g.momentum, dampening: g.dampening, weightDecay: g.weightDecay, nesterov: g.nesterov, firstStep });
      }
    }
  }
}
