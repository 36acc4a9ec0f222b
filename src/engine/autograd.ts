// Reverse-mode automatic differentiation over a dynamic graph.
//
// An op that has an input requiring grad (while grad mode is on) attaches a Node to its
// output: the inputs plus a closure that maps the output's gradient to the inputs'
// gradients. Nothing is recorded otherwise, so inference keeps no graph alive.
// backward() walks the graph in reverse topological order, sums the gradients of
// tensors used more than once, and frees every node it has run (no retained graph), so
// a training loop's memory does not grow with the number of steps.
import { Tensor } from './tensor.js';
import { kernels } from '../backend/registry.js';
import { fmt, sameShape } from './shape-util.js';

/** Maps the output gradient to one gradient per input (null where not needed). */
export type BackwardFn = (grad: Tensor, needs: readonly boolean[]) => (Tensor | null)[];

export class Node {
  private fn: BackwardFn | null;
  inputs: Tensor[];

  constructor(
    readonly name: string,
    inputs: Tensor[],
    fn: BackwardFn,
  ) {
    this.inputs = inputs;
    this.fn = fn;
  }

  get released(): boolean {
    return this.fn === null;
  }

  apply(grad: Tensor, wanted?: Set<Tensor>): (Tensor | null)[] {
    if (!this.fn) {
      throw new Error(
        `${this.name}: backward through this graph a second time; its buffers were freed by the first backward (pass { retainGraph: true } to keep them)`,
      );
    }
    return this.fn(grad, this.inputs.map((t) => t.requiresGrad && (!wanted || wanted.has(t))));
  }

  /** Drops the saved tensors and the edges, so the graph can be garbage collected. */
  release(): void {
    this.fn = null;
    this.inputs = [];
  }
}

// ---- grad mode ----
let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Sets grad mode and returns the previous one (prefer noGrad/enableGrad scopes). */
export function setGradEnabled(flag: boolean): boolean {
  const prev = gradEnabled;
  gradEnabled = flag;
  return prev;
}

/** Runs fn without recording a graph (inference, optimiser updates, running stats). */
export function noGrad<T>(fn: () => T): T {
  const prev = setGradEnabled(false);
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs fn with recording on, even inside a noGrad scope. */
export function enableGrad<T>(fn: () => T): T {
  const prev = setGradEnabled(true);
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Attaches a backward node to `out` when grad mode is on and an input requires grad;
 * otherwise leaves it a plain tensor. Returns `out`.
 */
export function record(out: Tensor, name: string, inputs: Tensor[], fn: BackwardFn): Tensor {
  if (!gradEnabled) return out;
  let any = false;
  for (const t of inputs) if (t.requiresGrad) any = true;
  if (!any) return out;
  (out as { gradFn: Node | null }).gradFn = new Node(name, inputs, fn);
  out.requiresGrad = true;
  return out;
}

// ---- backward ----

/**
 * Tensors reachable from `roots` through requiring-grad edges, in topological order
 * (inputs before the tensors computed from them), and the subset from which a `target`
 * can be reached (all of them when targets is null): only those need a gradient.
 */
function topoOrder(roots: Tensor[], targets: Set<Tensor> | null): { order: Tensor[]; useful: Set<Tensor> } {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const useful = new Set<Tensor>();
  // Iterative DFS: deep networks would overflow the call stack with recursion.
  const stack: { t: Tensor; i: number }[] = [];
  for (const r of roots) {
    if (visited.has(r)) continue;
    visited.add(r);
    stack.push({ t: r, i: 0 });
    while (stack.length) {
      const top = stack[stack.length - 1];
      const node = top.t.gradFn;
      if (node && top.i < node.inputs.length) {
        const child = node.inputs[top.i++];
        if (child.requiresGrad && !visited.has(child)) {
          visited.add(child);
          stack.push({ t: child, i: 0 });
        }
      } else {
        // Post-order: every child is classified already.
        if (!targets || targets.has(top.t) || (node && node.inputs.some((c) => useful.has(c)))) useful.add(top.t);
        order.push(top.t);
        stack.pop();
      }
    }
  }
  return { order, useful };
}

function copyOf(t: Tensor): Tensor {
  const out = Tensor.empty(t.shape);
  kernels().axpy({ n: t.size, alpha: 1 }, t.data, out.data);
  return out;
}

/**
 * Runs the graph backwards from `roots` and returns the gradient of every tensor that
 * received one. With `targets`, only the part of the graph leading to them is run
 * (grad() w.r.t. some inputs), and their gradients are kept even for intermediates.
 */
function propagate(
  roots: Tensor[],
  rootGrads: Tensor[],
  targets: Set<Tensor> | null,
  retainGraph: boolean,
): { grads: Map<Tensor, Tensor>; owned: WeakSet<Tensor> } {
  const grads = new Map<Tensor, Tensor>();
  // Gradients allocated here and referenced nowhere else may be accumulated in place;
  // others (a root gradient, an output gradient passed through unchanged) are copied first.
  const owned = new WeakSet<Tensor>();
  // A gradient a closure returned over memory nothing else uses (its own fresh result)
  // may be kept or accumulated in place too, saving a full copy per parameter. Memory
  // counts as used elsewhere when it backs a gradient handed to a closure, a root
  // gradient, a forward value of the node, or a second returned gradient (a closure
  // passing its gradient through unchanged, or a view of it).
  // Weak sets: these only answer "was this memory seen?", and must not keep an activation
  // or a consumed gradient alive until the whole backward ends (that doubled the peak).
  const exposed = new WeakSet<ArrayBufferLike>();
  const returned = new WeakSet<ArrayBufferLike>();
  const shared = new WeakSet<ArrayBufferLike>();
  const fresh = new WeakSet<Tensor>();
  const note = (gi: Tensor) => {
    const buf = gi.data.buffer;
    if (exposed.has(buf) || returned.has(buf)) shared.add(buf);
    else {
      returned.add(buf);
      fresh.add(gi);
    }
  };
  const ownable = (g: Tensor) => {
    if (owned.has(g)) return true;
    const buf = g.data.buffer;
    return fresh.has(g) && !shared.has(buf) && !exposed.has(buf);
  };
  const accumulate = (t: Tensor, g: Tensor, op: string) => {
    if (!sameShape(g.shape, t.shape)) {
      throw new Error(`backward: ${op} produced a gradient of shape ${fmt(g.shape)} for an input of shape ${fmt(t.shape)}`);
    }
    const prev = grads.get(t);
    if (!prev) {
      grads.set(t, g);
      return;
    }
    let acc = prev;
    if (!ownable(prev)) {
      acc = copyOf(prev);
      owned.add(acc);
      grads.set(t, acc);
    }
    kernels().axpy({ n: g.size, alpha: 1 }, g.data, acc.data);
  };

  const { order, useful } = topoOrder(roots, targets);
  for (const rg of rootGrads) exposed.add(rg.data.buffer);
  roots.forEach((r, i) => accumulate(r, rootGrads[i], 'the output gradient'));
  const prev = setGradEnabled(false); // backward closures compute with ops: record nothing
  try {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k];
      const node = t.gradFn;
      if (!node) continue;
      const g = grads.get(t);
      if (g && useful.has(t)) {
        owned.delete(g); // it escapes into the closure, which may pass it on unchanged
        exposed.add(g.data.buffer);
        exposed.add(t.data.buffer);
        const inputs = node.inputs;
        for (const x of inputs) exposed.add(x.data.buffer);
        const inputGrads = node.apply(g, useful);
        for (const gi of inputGrads) if (gi) note(gi);
        for (let j = 0; j < inputs.length; j++) {
          const gi = inputGrads[j];
          if (gi && inputs[j].requiresGrad && useful.has(inputs[j])) accumulate(inputs[j], gi, node.name);
        }
      }
      if (g && !targets?.has(t)) grads.delete(t); // an intermediate's gradient is not kept
      if (!retainGraph) node.release();
      // Every consumer of t ran before it (reverse topological order): drop the walk's own
      // references so t's memory can go as soon as nothing else holds it.
      order[k] = null as unknown as Tensor;
      useful.delete(t);
    }
  } finally {
    setGradEnabled(prev);
  }
  for (const g of grads.values()) if (ownable(g)) owned.add(g);
  return { grads, owned };
}

function defaultRootGrads(roots: Tensor[], given: Tensor[] | undefined, op: string): Tensor[] {
  return roots.map((r, i) => {
    const g = given?.[i];
    if (g) {
      if (!sameShape(g.shape, r.shape)) {
        throw new RangeError(`${op}: the gradient for output ${i} has shape ${fmt(g.shape)} but the output has shape ${fmt(r.shape)}`);
      }
      return g;
    }
    if (r.size !== 1) {
      throw new Error(`${op}: a gradient can be implied only for a one-element output; pass one for shape ${fmt(r.shape)}`);
    }
    const one = Tensor.empty(r.shape);
    one.data[0] = 1;
    return one;
  });
}

/** Tensor.backward: accumulates into `.grad` of every leaf that requires grad. */
export function backward(roots: Tensor[], rootGrads: Tensor[] | undefined, retainGraph: boolean): void {
  roots.forEach((r, i) => {
    if (!r.requiresGrad) throw new Error(`backward: output ${i} does not require grad (no input requires grad, or it was computed under noGrad)`);
  });
  const seeds = defaultRootGrads(roots, rootGrads, 'backward');
  const { grads, owned } = propagate(roots, seeds, null, retainGraph);
  for (const [t, g] of grads) {
    if (t.gradFn) continue; // only leaves keep a gradient
    if (!t.grad) t.grad = owned.has(g) ? g : copyOf(g);
    else kernels().axpy({ n: g.size, alpha: 1 }, g.data, t.grad.data);
  }
}

/**
 * Gradients of `outputs` with respect to `inputs` (like torch.autograd.grad), without
 * touching any `.grad`. An input the outputs do not depend on raises an error unless
 * allowUnused is set, in which case its gradient is zeros.
 */
export function grad(
  outputs: Tensor | Tensor[],
  inputs: Tensor[],
  gradOutputs?: Tensor | Tensor[],
  opts: { retainGraph?: boolean; allowUnused?: boolean } = {},
): Tensor[] {
  const roots = Array.isArray(outputs) ? outputs : [outputs];
  const given = gradOutputs === undefined ? undefined : Array.isArray(gradOutputs) ? gradOutputs : [gradOutputs];
  if (!Array.isArray(inputs) || inputs.length === 0) throw new TypeError('grad: inputs must be a non-empty array of tensors');
  roots.forEach((r, i) => {
    if (!(r instanceof Tensor)) throw new TypeError(`grad: outputs[${i}] is not a Tensor`);
    if (!r.requiresGrad) throw new Error(`grad: outputs[${i}] does not require grad`);
  });
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`grad: inputs[${i}] is not a Tensor`);
    if (!t.requiresGrad) throw new Error(`grad: inputs[${i}] does not require grad`);
  });
  const seeds = defaultRootGrads(roots, given, 'grad');
  const { grads, owned } = propagate(roots, seeds, new Set(inputs), opts.retainGraph ?? false);
  return inputs.map((t, i) => {
    const g = grads.get(t);
    if (g) return owned.has(g) ? g : copyOf(g);
    if (!opts.allowUnused) throw new Error(`grad: inputs[${i}] was not used to compute the outputs (pass { allowUnused: true } for zeros)`);
    return Tensor.empty(t.shape);
  });
}
