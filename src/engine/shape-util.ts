// Shape arithmetic and argument validation shared by every op. Errors name the op and
// the argument, and say what was expected.
//
// The engine validates once, before dispatch, so that every backend (ts, cpu, cuda)
// rejects exactly the same inputs with the same error. Stated limits:
//   - a shape entry is an integer in [0, MAX_DIM]; a tensor holds at most MAX_ELEMENTS;
//   - window geometry (kernel size, stride, padding, dilation, output padding) and the
//     [h, w] output sizes of interpolate and adaptiveAvgPool2d are integers in
//     [min, MAX_GEOMETRY];
//   - pooling needs a non-empty input plane; maxPool2d refuses a dilated window that
//     lies wholly in the padding (PyTorch's padding ≤ kernel/2 rule ignores dilation);
//   - conv: the zero-padded input N·C·(H+2·ph)·(W+2·pw) is at most MAX_ELEMENTS (the
//     padding is as if materialised, which the native kernels do);
//   - boolean options are booleans (a truthy 1 is a TypeError, not silently true).
// The native binding restates these checks (native/binding/args.h) as a last line of
// defence for direct calls into the addon.

/** Largest size of one dim (Int32 indices address a whole dim). */
export const MAX_DIM = 2 ** 31 - 1;
/** Largest element count of a tensor (and of a conv's padded input). */
export const MAX_ELEMENTS = 2 ** 31 - 1;
/** Largest kernel size, stride, padding, dilation or output padding (2^20). */
export const MAX_GEOMETRY = 2 ** 20;

export function prod(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Dense row-major strides. */
export function stridesOf(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = s;
    s *= shape[d];
  }
  return st;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A non-negative integer size (shape entry, count). */
export function checkSize(v: unknown, op: string, arg: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${op}: ${arg} must be a number, got ${String(v)}`);
  if (!Number.isFinite(v) || !Number.isInteger(v)) throw new RangeError(`${op}: ${arg} must be an integer, got ${v}`);
  if (v < 0) throw new RangeError(`${op}: ${arg} must be non-negative, got ${v}`);
  return v;
}

/** A positive integer (kernel size, stride, groups, ...). */
export function checkPositive(v: unknown, op: string, arg: string): number {
  checkSize(v, op, arg);
  if ((v as number) < 1) throw new RangeError(`${op}: ${arg} must be at least 1, got ${String(v)}`);
  return v as number;
}

export function checkShape(shape: unknown, op: string, arg = 'shape'): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${op}: ${arg} must be an array of sizes, got ${String(shape)}`);
  return shape.map((s, i) => checkSize(s, op, `${arg}[${i}]`));
}

export function checkFiniteNumber(v: unknown, op: string, arg: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${op}: ${arg} must be a finite number, got ${String(v)}`);
  return v;
}

/** Normalises a possibly negative dim into [0, ndim). */
export function normDim(dim: unknown, ndim: number, op: string, arg = 'dim'): number {
  if (typeof dim !== 'number' || !Number.isInteger(dim)) throw new TypeError(`${op}: ${arg} must be an integer, got ${String(dim)}`);
  const d = dim < 0 ? dim + ndim : dim;
  if (d < 0 || d >= ndim) throw new RangeError(`${op}: ${arg} ${dim} is out of range for a tensor with ${ndim} dims`);
  return d;
}

/** A number or [h, w] pair of integers in [min, max] (window geometry: max = MAX_GEOMETRY). */
export function pair(v: unknown, op: string, arg: string, min: number, max = MAX_GEOMETRY): [number, number] {
  const arr = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(arr) || arr.length !== 2) throw new TypeError(`${op}: ${arg} must be a number or an [h, w] pair, got ${String(v)}`);
  const out = arr.map((x, i) => {
    checkSize(x, op, `${arg}[${i}]`);
    if (x < min) throw new RangeError(`${op}: ${arg} must be at least ${min}, got ${x}`);
    if (x > max) throw new RangeError(`${op}: ${arg} must be at most ${max === MAX_GEOMETRY ? '2^20' : max}, got ${x}`);
    return x as number;
  });
  return [out[0], out[1]];
}

/** A boolean option; undefined gives the default. Truthy non-booleans are rejected, not coerced. */
export function checkFlag(v: unknown, op: string, arg: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new TypeError(`${op}: ${arg} must be true or false, got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  return v;
}

/**
 * A tensor shape: integers in [0, MAX_DIM] whose product is at most MAX_ELEMENTS.
 * Returns the element count.
 */
export function checkTensorShape(shape: unknown, op: string, arg = 'shape'): number {
  if (!Array.isArray(shape)) throw new TypeError(`${op}: ${arg} must be an array of sizes, got ${String(shape)}`);
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const s = shape[i];
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > MAX_DIM) {
      throw new RangeError(`${op}: ${arg}[${i}] must be an integer in [0, 2^31 − 1], got ${String(s)}`);
    }
    n *= s;
  }
  if (n > MAX_ELEMENTS) throw new RangeError(`${op}: ${arg} ${fmt(shape)} has ${n} elements; at most 2^31 − 1 are supported`);
  return n;
}

/** PyTorch broadcasting: align right; each pair of sizes must match or one must be 1. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new RangeError(`${op}: shapes ${fmt(a)} and ${fmt(b)} cannot be broadcast together (dim ${i}: ${x} vs ${y})`);
    }
    out[i] = x === 1 ? y : x;
  }
  return out;
}

/** Strides that read a tensor of `shape` broadcast to `target` (0 on broadcast dims). */
export function broadcastStrides(shape: readonly number[], target: readonly number[]): number[] {
  const own = stridesOf(shape);
  const off = target.length - shape.length;
  return target.map((t, i) => (i < off || shape[i - off] !== t ? 0 : own[i - off]));
}

/**
 * Merges adjacent dims that are contiguous under every stride list and drops size-1
 * dims, so kernels see the fewest loops. Returns shape and stride lists of equal length
 * (at least one dim).
 */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const sh: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = sh.length - 1;
    if (last >= 0 && strides.every((s, k) => st[k][last] === s[d] * shape[d])) {
      sh[last] *= shape[d];
      strides.forEach((s, k) => (st[k][last] = s[d]));
    } else {
      sh.push(shape[d]);
      strides.forEach((s, k) => st[k].push(s[d]));
    }
  }
  if (sh.length === 0) return { shape: [1], strides: strides.map(() => [1]) };
  return { shape: sh, strides: st };
}
