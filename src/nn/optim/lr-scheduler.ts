// Learning-rate schedules (torch.optim.lr_scheduler), computed in closed form from the
// epoch counter so that a resumed run gets exactly the same rates.
import type { Optimizer } from './optimizer.js';

export abstract class LRScheduler {
  /** Epochs completed; -1 before the constructor's initial step, as PyTorch. */
  lastEpoch = -1;
  readonly baseLrs: number[];
  private lastLrs: number[] = [];

  constructor(readonly optimizer: Optimizer<{ lr: number }>) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  /** The rate of each group at `epoch` (a real number for warm restarts). */
  protected abstract lrAt(baseLr: number, epoch: number): number;

  /** Must be called by subclass constructors once their fields are set (PyTorch's initial step()). */
  protected init(): void {
    this.step();
  }

  /** Advances one epoch (call after optimizer.step()) and writes the new rates into the groups. */
  step(): void {
    this.lastEpoch += 1;
    this.apply(this.lastEpoch);
  }

  protected apply(epoch: number): void {
    this.lastLrs = this.optimizer.paramGroups.map((g, i) => (g.lr = this.lrAt(this.baseLrs[i], epoch)));
  }

  getLastLr(): number[] {
    return this.lastLrs.slice();
  }

  stateDict(): { lastEpoch: number; baseLrs: number[] } {
    return { lastEpoch: this.lastEpoch, baseLrs: this.baseLrs.slice() };
  }

  loadStateDict(sd: { lastEpoch: number; baseLrs: number[] }): void {
    if (!sd || sd.baseLrs?.length !== this.baseLrs.length) throw new Error(`${this.constructor.name}.loadStateDict: expected ${this.baseLrs.length} base rates`);
    this.baseLrs.splice(0, this.baseLrs.length, ...sd.baseLrs);
    this.lastEpoch = sd.lastEpoch;
    this.apply(this.lastEpoch);
  }
}

/** η_t = η_min + (η_base − η_min)·(1 + cos(π·t/T_max))/2 (PyTorch's closed form; periodic past T_max). */
export class CosineAnnealingLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<{ lr: number }>,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super(optimizer);
    if (!(Number.isInteger(tMax) && tMax > 0)) throw new Error(`CosineAnnealingLR: tMax must be a positive integer, got ${tMax}`);
    this.init();
  }

  protected lrAt(base: number, t: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * t) / this.tMax))) / 2;
  }
}

/** SGDR: cosine decay over T_i epochs, then restart with T_i ← T_i·T_mult. */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  constructor(
    optimizer: Optimizer<{ lr: number }>,
    readonly t0: number,
    readonly tMult = 1,
    readonly etaMin = 0,
  ) {
    super(optimizer);
    if (!(Number.isInteger(t0) && t0 > 0)) throw new Error(`CosineAnnealingWarmRestarts: t0 must be a positive integer, got ${t0}`);
    if (!(Number.isInteger(tMult) && tMult >= 1)) throw new Error(`CosineAnnealingWarmRestarts: tMult must be an integer ≥ 1, got ${tMult}`);
    this.init();
  }

  /** Position inside the current cycle and the cycle's length at a (possibly fractional) epoch. */
  private cycle(epoch: number): { tCur: number; tI: number } {
    // Walk the cycles instead of PyTorch's log formula: exact at cycle boundaries.
    let start = 0;
    let tI = this.t0;
    if (this.tMult === 1) return { tCur: epoch % this.t0, tI };
    while (epoch >= start + tI) {
      start += tI;
      tI *= this.tMult;
    }
    return { tCur: epoch - start, tI };
  }

  protected lrAt(base: number, epoch: number): number {
    const { tCur, tI } = this.cycle(epoch);
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2;
  }

  /** Jumps to a (possibly fractional) epoch, e.g. epoch + batch/batches for per-iteration updates. */
  stepTo(epoch: number): void {
    if (!(epoch >= 0)) throw new Error(`CosineAnnealingWarmRestarts.stepTo: epoch must be ≥ 0, got ${epoch}`);
    this.lastEpoch = Math.floor(epoch);
    this.apply(epoch);
  }
}
