// Adam whose checkpoint also holds the gradients accumulated since its last step.
//
// A method that steps every k batches with summed gradients (RD++: backward on every batch,
// optimiser step and zero_grad every 2 batches, a trailing odd batch of an epoch carrying into
// the next one) has gradients in flight at an epoch's end, where the training loop
// checkpoints. They live in the parameters' `.grad`, which a checkpoint of the weights and
// the optimiser moments would lose; a resumed run would then differ from an uninterrupted one.
// This optimiser writes each pending gradient into its state dict as `pending_grad` and puts
// it back into `.grad` on load (a parameter without one gets `.grad = null`), so a resumed run
// continues with exactly the sum the uninterrupted run had.
import { Tensor } from '../../engine/index.js';
import { Adam } from '../../nn/optim/adam.js';
import type { OptimizerStateDict, ParamState } from '../../nn/optim/optimizer.js';
import type { AdamOptions } from '../../nn/optim/adam.js';

export const PENDING_GRAD = 'pending_grad';

export class AccumulatingAdam extends Adam {
  override stateDict(): OptimizerStateDict<AdamOptions> {
    const sd = super.stateDict();
    let index = 0;
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (p.grad) (sd.state[index] ??= {})[PENDING_GRAD] = p.grad.data.slice();
        index++;
      }
    }
    return sd;
  }

  override loadStateDict(sd: OptimizerStateDict<AdamOptions>): void {
    const pending = new Map<number, Float32Array>();
    const state: Record<number, ParamState> = {};
    for (const [key, s] of Object.entries(sd.state)) {
      const { [PENDING_GRAD]: grad, ...rest } = s;
      if (grad !== undefined) {
        if (typeof grad === 'number') throw new Error(`AccumulatingAdam.loadStateDict: ${PENDING_GRAD} of parameter ${key} is a number, not a gradient`);
        pending.set(Number(key), grad);
      }
      // A parameter whose only entry was its pending gradient has no Adam state yet.
      if (Object.keys(rest).length) state[Number(key)] = rest;
    }
    super.loadStateDict({ ...sd, state });
    let index = 0;
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        const grad = pending.get(index++);
        if (grad && grad.length !== p.size) throw new Error(`AccumulatingAdam.loadStateDict: the pending gradient of parameter ${index - 1} has ${grad.length} values, the parameter ${p.size}`);
        p.grad = grad ? Tensor.fromData(Float32Array.from(grad), p.shape) : null;
      }
    }
  }
}
