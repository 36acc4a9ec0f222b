// The optimizer base: parameter groups with per-group options, per-parameter state, and a
// state dict in PyTorch's shape ({ state: {index: {...}}, paramGroups: [{...options, params:
// [indices]}] }) so that a run can be resumed exactly.
import type { Tensor } from '../../engine/index.js';

export type StateValue = number | Float32Array;
export type ParamState = Record<string, StateValue>;

export type ParamGroup<O> = O & { params: Tensor[] };
export type ParamGroupInput<O> = Partial<O> & { params: Tensor[] };

export interface OptimizerStateDict<O> {
  state: Record<number, ParamState>;
  paramGroups: Array<O & { params: number[] }>;
}

export abstract class Optimizer<O extends { lr: number }> {
  readonly paramGroups: Array<ParamGroup<O>>;
  /** Per-parameter state, created lazily on a parameter's first update. */
  readonly state = new Map<Tensor, ParamState>();

  constructor(
    params: Tensor[] | Array<ParamGroupInput<O>>,
    readonly defaults: O,
  ) {
    const name = new.target.name;
    if (!Array.isArray(params) || params.length === 0) throw new Error(`${name}: got an empty parameter list`);
    const groups: Array<ParamGroupInput<O>> = isGroupList(params) ? params : [{ params } as ParamGroupInput<O>];
    this.paramGroups = [];
    const seen = new Set<Tensor>();
    for (const [gi, g] of groups.entries()) {
      const group = { ...defaults, ...definedOnly(g), params: [...g.params] } as ParamGroup<O>;
      this.validate(group, `${name} param group ${gi}`);
      for (const p of group.params) {
        if (seen.has(p)) throw new Error(`${name}: a parameter appears in more than one group (group ${gi})`);
        seen.add(p);
      }
      this.paramGroups.push(group);
    }
  }

  /** Throws for option values the algorithm cannot use, naming the option. */
  protected abstract validate(group: ParamGroup<O>, where: string): void;

  /** One update of every parameter that has a gradient. */
  abstract step(): void;

  /** Drops every gradient (set to null, as PyTorch's default set_to_none). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  /** A snapshot: copies of the state arrays, parameters referred to by their index. */
  stateDict(): OptimizerStateDict<O> {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...opts } = g;
      return { ...(opts as unknown as O), params: params.map((p) => index.set(p, index.size).get(p)!) };
    });
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      state[i] = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, typeof v === 'number' ? v : v.slice()]));
    }
    return { state, paramGroups };
  }

  /** Restores a snapshot taken from an optimizer over parameters of the same sizes. */
  loadStateDict(sd: OptimizerStateDict<O>): void {
    const name = this.constructor.name;
    if (!sd || !Array.isArray(sd.paramGroups) || typeof sd.state !== 'object') throw new Error(`${name}.loadStateDict: not an optimizer state dict`);
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new Error(`${name}.loadStateDict: the state has ${sd.paramGroups.length} parameter groups, this optimizer ${this.paramGroups.length}`);
    }
    const byIndex = new Map<number, Tensor>();
    sd.paramGroups.forEach((g, gi) => {
      const mine = this.paramGroups[gi].params;
      if (g.params.length !== mine.length) {
        throw new Error(`${name}.loadStateDict: group ${gi} has ${g.params.length} parameters in the state, ${mine.length} here`);
      }
      g.params.forEach((idx, j) => byIndex.set(idx, mine[j]));
    });
    const restored = new Map<Tensor, ParamState>();
    for (const [key, s] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(key));
      if (!p) throw new Error(`${name}.loadStateDict: state for parameter ${key}, which no group lists`);
      const copy: ParamState = {};
      for (const [k, v] of Object.entries(s)) {
        if (typeof v !== 'number' && v.length !== p.size) {
          throw new Error(`${name}.loadStateDict: ${k} of parameter ${key} has ${v.length} values, the parameter ${p.size}`);
        }
        copy[k] = typeof v === 'number' ? v : Float32Array.from(v);
      }
      restored.set(p, copy);
    }
    sd.paramGroups.forEach((g, gi) => {
      const { params: _ignored, ...opts } = g;
      Object.assign(this.paramGroups[gi], opts);
    });
    this.state.clear();
    for (const [p, s] of restored) this.state.set(p, s);
  }
}

function isGroupList<O>(params: Tensor[] | Array<ParamGroupInput<O>>): params is Array<ParamGroupInput<O>> {
  const first = params[0] as { params?: unknown };
  return typeof first === 'object' && first !== null && Array.isArray(first.params);
}

/** Shared checks for options every optimizer has. */
export function checkNonNegative(where: string, name: string, v: number): void {
  if (!(Number.isFinite(v) && v >= 0)) throw new Error(`${where}: ${name} must be a finite number ≥ 0, got ${v}`);
}

/** Drops keys whose value is undefined, so that `{ eps: undefined }` keeps the default like an absent key. */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
