// Module: the PyTorch-shaped container for parameters, buffers and child modules.
//
// Names follow PyTorch exactly (`enc.0.weight`, `enc.1.running_mean`,
// `enc.1.num_batches_tracked`) so that state dicts move between the two unchanged.
// Registration is explicit (TypeScript has no __setattr__): a layer calls
// registerParameter / registerBuffer / registerModule once in its constructor and keeps the
// returned object in a field. Loading a state dict copies values into the registered
// tensors in place, so those fields, and an optimizer holding the same tensors, stay valid.
import type { Tensor } from '../engine/index.js';

/** What a state dict value must offer: a shape and float32 values (a Tensor qualifies). */
export interface StateValue {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** How a buffer is stored on disk: PyTorch keeps num_batches_tracked as int64. */
export type StoredDtype = 'float32' | 'int64';

export interface StateEntry {
  name: string;
  tensor: Tensor;
  kind: 'parameter' | 'buffer';
  dtype: StoredDtype;
}

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

interface BufferSlot {
  tensor: Tensor;
  persistent: boolean;
  dtype: StoredDtype;
}

const NAME_RE = /^[A-Za-z0-9_]+$/;

function checkName(kind: string, name: string): void {
  if (!NAME_RE.test(name)) throw new Error(`${kind} name "${name}" must be non-empty and made of letters, digits and '_' (dots separate submodules)`);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

export abstract class Module {
  /** True in training mode (dropout active, batch norm uses batch statistics). */
  training = true;
  private readonly _parameters = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, BufferSlot | null>();
  private readonly _modules = new Map<string, Module | null>();

  abstract forward(...args: any[]): any;

  /** Runs forward (PyTorch's `module(x)`). */
  call(...args: Parameters<this['forward']>): ReturnType<this['forward']> {
    return this.forward(...args);
  }

  // ---- registration ----

  /** Registers a trainable tensor (requiresGrad is switched on); null declares an absent one (bias=False). */
  protected registerParameter<T extends Tensor | null>(name: string, tensor: T): T {
    checkName('parameter', name);
    this.assertFree(name);
    if (tensor) tensor.requiresGrad_(true);
    this._parameters.set(name, tensor);
    return tensor;
  }

  /**
   * Registers state that is not trained (running statistics). Persistent buffers appear in
   * the state dict; `dtype` is how the value is stored in a file.
   */
  protected registerBuffer<T extends Tensor | null>(name: string, tensor: T, opts: { persistent?: boolean; dtype?: StoredDtype } = {}): T {
    checkName('buffer', name);
    this.assertFree(name);
    this._buffers.set(name, tensor ? { tensor, persistent: opts.persistent ?? true, dtype: opts.dtype ?? 'float32' } : null);
    return tensor;
  }

  /** Registers a child module under `name` (its entries are prefixed with `name.`). */
  protected registerModule<M extends Module | null>(name: string, module: M): M {
    checkName('module', name);
    this.assertFree(name);
    this._modules.set(name, module);
    return module;
  }

  private assertFree(name: string): void {
    if (this._parameters.has(name) || this._buffers.has(name) || this._modules.has(name)) {
      throw new Error(`${this.constructor.name}: "${name}" is already registered`);
    }
  }

  // ---- traversal (PyTorch order: own parameters, own buffers, then children in registration order) ----

  /** Direct children, in registration order. */
  *namedChildren(): Generator<[string, Module]> {
    for (const [name, m] of this._modules) if (m) yield [name, m];
  }

  children(): Module[] {
    return [...this.namedChildren()].map(([, m]) => m);
  }

  /** This module and every descendant, depth first (the module itself has the name ''). */
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  modules(): Module[] {
    return [...this.namedModules()].map(([, m]) => m);
  }

  /** Every parameter with its dotted name; a tensor shared by two modules is listed once. */
  namedParameters(): Array<[string, Tensor]> {
    const seen = new Set<Tensor>();
    const out: Array<[string, Tensor]> = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m._parameters) {
        if (!p || seen.has(p)) continue;
        seen.add(p);
        out.push([prefix ? `${prefix}.${name}` : name, p]);
      }
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer (persistent or not) with its dotted name. */
  namedBuffers(): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m._buffers) if (b) out.push([prefix ? `${prefix}.${name}` : name, b.tensor]);
    }
    return out;
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** Number of trainable values (PyTorch's sum(p.numel() for p in parameters())). */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** The state dict's entries in PyTorch's order, with the dtype each is stored as. */
  stateEntries(prefix = ''): StateEntry[] {
    const out: StateEntry[] = [];
    for (const [name, p] of this._parameters) if (p) out.push({ name: prefix + name, tensor: p, kind: 'parameter', dtype: 'float32' });
    for (const [name, b] of this._buffers) {
      if (b && b.persistent) out.push({ name: prefix + name, tensor: b.tensor, kind: 'buffer', dtype: b.dtype });
    }
    for (const [name, m] of this.namedChildren()) out.push(...m.stateEntries(`${prefix}${name}.`));
    return out;
  }

  /** name → tensor (the live tensors, not copies, as PyTorch's state_dict()). Insertion order is PyTorch's. */
  stateDict(): Map<string, Tensor> {
    return new Map(this.stateEntries().map((e) => [e.name, e.tensor]));
  }

  /**
   * Copies values into the registered tensors. Shape mismatches always throw; with strict
   * (the default) missing or unexpected keys throw too, every offending key named.
   */
  loadStateDict(dict: Map<string, StateValue> | Record<string, StateValue>, opts: { strict?: boolean } = {}): LoadResult {
    const strict = opts.strict ?? true;
    const given = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const entries = this.stateEntries();
    const expected = new Set(entries.map((e) => e.name));
    const missingKeys = entries.filter((e) => !given.has(e.name)).map((e) => e.name);
    const unexpectedKeys = [...given.keys()].filter((k) => !expected.has(k));
    const mismatches: string[] = [];
    for (const e of entries) {
      const v = given.get(e.name);
      if (!v) continue;
      if (!sameShape(v.shape, e.tensor.shape)) {
        mismatches.push(`${e.name}: checkpoint shape ${fmt(v.shape)}, model shape ${fmt(e.tensor.shape)}`);
      } else if (v.data.length !== e.tensor.size) {
        mismatches.push(`${e.name}: checkpoint holds ${v.data.length} values for shape ${fmt(v.shape)}`);
      }
    }
    const problems: string[] = [];
    if (mismatches.length) problems.push(`size mismatch for ${mismatches.join('; ')}`);
    if (strict && missingKeys.length) problems.push(`missing keys: ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    if (problems.length) {
      throw new Error(
        `${this.constructor.name}.loadStateDict: ${problems.join('. ')}` +
          (mismatches.length ? '' : ' (pass { strict: false } to load the matching keys only)'),
      );
    }
    for (const e of entries) {
      const v = given.get(e.name);
      if (v) e.tensor.data.set(v.data);
    }
    for (const m of this.modules()) m.stateLoaded();
    return { missingKeys, unexpectedKeys };
  }

  /**
   * Called on this module and every descendant after loadStateDict has copied values in: a
   * module that keeps something derived from its state (an index read from a buffer) drops
   * or rebuilds it here. The default does nothing.
   */
  protected stateLoaded(): void {}

  // ---- modes and gradients ----

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Freezes (false) or unfreezes (true) every parameter. */
  requiresGrad_(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad_(flag);
    return this;
  }

  toString(): string {
    return this.describe('');
  }

  /** One line per module, indented like PyTorch's repr. */
  protected describe(indent: string): string {
    const kids = [...this.namedChildren()];
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (!kids.length) return `${head})`;
    const inner = kids.map(([n, m]) => `${indent}  (${n}): ${m.describe(indent + '  ')}`).join('\n');
    return `${head}\n${inner}\n${indent})`;
  }

  /** Layer arguments shown by toString (e.g. "1, 16, kernelSize=4"). */
  protected extraRepr(): string {
    return '';
  }
}
