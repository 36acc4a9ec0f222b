// CFlow's Adam steps under PyTorch 1.x's zero_grad(), which zeroes gradients instead of
// dropping them: every flow that has Adam state takes a step at every fiber batch, with a zero
// gradient when the batch is another level's. With WRN50 that is all 81.6 M parameters per
// fiber batch, each step a memory-bound pass over values and moments (~15 % of a step).
//
// Here those zero-gradient steps are queued per parameter and run when the parameter is next
// needed (before its flow's forward, before its next real step, at the end of the image
// batch): all of a parameter's queued steps in one pass, tile by tile (256 Ki values, which stay
// in cache while every queued step runs over them). Each step is the backend's adamStep kernel
// with a zero gradient, on each value in the same order as before, so the result is the same
// bits as stepping every time; only the memory traffic changes (a run of k steps reads and
// writes each value once instead of k times).
import { adamUpdate, Tensor } from '../../engine/index.js';
import { Adam } from '../../nn/optim/adam.js';

/**
 * Values per tile: with the moments and a zero gradient 4 MiB, which stays in the last-level
 * cache while the steps run; large enough that the kernel's split over threads costs little
 * per call (64 Ki-value tiles were no faster than plain steps on 2 threads).
 */
const TILE = 1 << 18;

/** A run of queued zero-gradient steps: Adam steps t0, t0 + 1, ..., t0 + count − 1 with one group's options. */
interface Run {
  t0: number;
  count: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

let zeros = new Float32Array(0);

function zeroGradient(n: number): Tensor {
  if (zeros.length < n) zeros = new Float32Array(n);
  return Tensor.fromData(zeros.subarray(0, n), [n]);
}

export class ZeroGradSteps {
  private readonly runs = new Map<Tensor, Run>();

  constructor(readonly adam: Adam) {}

  /**
   * Whether `adam` takes the plain Adam step, which the queued steps reproduce; a subclass with
   * its own step() (AdamW) must be stepped directly with zero gradients instead.
   */
  static handles(adam: Adam): boolean {
    return Object.getPrototypeOf(adam).step === Adam.prototype.step;
  }

  /**
   * One optimiser step with zero_grad's PyTorch 1.x semantics: a parameter with a gradient
   * steps now (after its queued steps), one with state but no gradient queues a zero-gradient
   * step. Values and moments of queued parameters are stale until flush().
   */
  step(): void {
    for (const g of this.adam.paramGroups) {
      for (const p of g.params) {
        if (p.grad) {
          this.flushOne(p);
          continue;
        }
        const s = this.adam.state.get(p);
        if (!s) continue;
        s.step = (s.step as number) + 1;
        if (g.amsgrad && !s.max_exp_avg_sq) s.max_exp_avg_sq = new Float32Array(p.size);
        const o = { lr: g.lr, beta1: g.betas[0], beta2: g.betas[1], eps: g.eps, weightDecay: g.weightDecay, amsgrad: g.amsgrad };
        let run = this.runs.get(p);
        if (run && (run.lr !== o.lr || run.beta1 !== o.beta1 || run.beta2 !== o.beta2 || run.eps !== o.eps || run.weightDecay !== o.weightDecay || run.amsgrad !== o.amsgrad)) {
          this.flushOne(p); // the options changed: the steps so far run with the old ones
          run = undefined;
        }
        if (run) run.count++;
        else this.runs.set(p, { t0: s.step as number, count: 1, ...o });
      }
    }
    this.adam.step(); // the parameters with a gradient (the others are skipped: no gradient)
  }

  /** Runs the queued steps of `params` (of every parameter when omitted). */
  flush(params?: Iterable<Tensor>): void {
    for (const p of params ?? [...this.runs.keys()]) this.flushOne(p);
  }

  /** Parameters with queued steps. */
  get pending(): number {
    return this.runs.size;
  }

  private flushOne(p: Tensor): void {
    const run = this.runs.get(p);
    if (!run) return;
    this.runs.delete(p);
    const s = this.adam.state.get(p)!;
    const m = s.exp_avg as Float32Array;
    const v = s.exp_avg_sq as Float32Array;
    const vmax = run.amsgrad ? (s.max_exp_avg_sq as Float32Array) : null;
    const d = p.data;
    for (let a = 0; a < d.length; a += TILE) {
      const b = Math.min(d.length, a + TILE);
      const n = b - a;
      const param = Tensor.fromData(d.subarray(a, b), [n]);
      const grad = zeroGradient(n);
      const mt = m.subarray(a, b);
      const vt = v.subarray(a, b);
      const vmaxt = vmax ? vmax.subarray(a, b) : null;
      for (let k = 0; k < run.count; k++) {
        adamUpdate(param, grad, mt, vt, vmaxt, { lr: run.lr, beta1: run.beta1, beta2: run.beta2, eps: run.eps, weightDecay: run.weightDecay, step: run.t0 + k, amsgrad: run.amsgrad });
      }
    }
  }
}
