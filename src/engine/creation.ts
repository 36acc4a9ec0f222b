// Tensor constructors. The values are host data (or come from the seeded Generator),
// so they are written directly; only shapes need checking.
import { Tensor } from './tensor.js';
import { checkFiniteNumber, checkShape, checkSize, fmt, prod } from './shape-util.js';
import { Generator, defaultGenerator } from './random.js';
import { kernels } from '../backend/registry.js';

export interface CreateOptions {
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  seed?: number;
  generator?: Generator;
}

function finish(t: Tensor, opts: CreateOptions | undefined): Tensor {
  if (opts?.requiresGrad) t.requiresGrad = true;
  return t;
}

function isArrayLike(v: unknown): v is ArrayLike<number> {
  return typeof v === 'object' && v !== null && typeof (v as ArrayLike<number>).length === 'number';
}

/**
 * A tensor from values. `data` may be a number (a scalar, shape []), a flat array-like
 * (shape defaults to [length]) or nested arrays (shape inferred). Always copies.
 */
export function tensor(data: ArrayLike<number> | number | number[][] | number[][][] | number[][][][], shape?: number[], opts?: CreateOptions): Tensor {
  if (typeof data === 'number') {
    const s = shape === undefined ? [] : checkShape(shape, 'tensor');
    if (prod(s) !== 1) throw new RangeError(`tensor: a single number fills exactly one element, but shape ${fmt(s)} has ${prod(s)}`);
    const t = Tensor.empty(s);
    t.data[0] = data;
    return finish(t, opts);
  }
  if (!isArrayLike(data)) throw new TypeError(`tensor: data must be a number or an array of numbers, got ${typeof data}`);
  let flat: ArrayLike<number> = data;
  let inferred = [data.length];
  if (Array.isArray(data) && data.length > 0 && Array.isArray(data[0])) ({ flat, shape: inferred } = flattenNested(data));
  const s = shape === undefined ? inferred : checkShape(shape, 'tensor');
  if (prod(s) !== flat.length) {
    throw new RangeError(`tensor: data has ${flat.length} values but shape ${fmt(s)} needs ${prod(s)}`);
  }
  const t = Tensor.empty(s);
  const out = t.data;
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== 'number') throw new TypeError(`tensor: data[${i}] is not a number (${typeof v})`);
    out[i] = v;
  }
  return finish(t, opts);
}

function flattenNested(data: unknown[]): { flat: number[]; shape: number[] } {
  const shape: number[] = [];
  for (let level: unknown = data; Array.isArray(level); level = level[0]) shape.push(level.length);
  const flat: number[] = [];
  const walk = (v: unknown, depth: number, path: string) => {
    if (depth === shape.length) {
      flat.push(v as number);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new RangeError(`tensor: nested data is ragged at ${path}: expected ${shape[depth]} entries`);
    }
    v.forEach((x, i) => walk(x, depth + 1, `${path}[${i}]`));
  };
  walk(data, 0, 'data');
  return { flat, shape };
}

export function full(shape: number[], value: number, opts?: CreateOptions): Tensor {
  return filled(shape, value, opts, 'full');
}

function filled(shape: number[], value: number, opts: CreateOptions | undefined, op: string): Tensor {
  const s = checkShape(shape, op);
  if (typeof value !== 'number') throw new TypeError(`${op}: value must be a number, got ${typeof value}`);
  const t = Tensor.empty(s);
  if (value !== 0 && t.size > 0) kernels().fill({ n: t.size, value }, t.data);
  return finish(t, opts);
}

export function zeros(shape: number[], opts?: CreateOptions): Tensor {
  return finish(Tensor.empty(checkShape(shape, 'zeros')), opts);
}

export function ones(shape: number[], opts?: CreateOptions): Tensor {
  return filled(shape, 1, opts, 'ones');
}

export function zerosLike(t: Tensor, opts?: CreateOptions): Tensor {
  return zeros(t.shape, opts);
}

export function onesLike(t: Tensor, opts?: CreateOptions): Tensor {
  return ones(t.shape, opts);
}

export function fullLike(t: Tensor, value: number, opts?: CreateOptions): Tensor {
  return full(t.shape, value, opts);
}

/** 0, 1, ..., n − 1 (or start, start + step, ... < end). */
export function arange(startOrN: number, end?: number, step = 1): Tensor {
  const start = end === undefined ? 0 : checkFiniteNumber(startOrN, 'arange', 'start');
  const stop = end === undefined ? checkFiniteNumber(startOrN, 'arange', 'n') : checkFiniteNumber(end, 'arange', 'end');
  checkFiniteNumber(step, 'arange', 'step');
  if (step === 0) throw new RangeError('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const t = Tensor.empty([n]);
  const d = t.data;
  for (let i = 0; i < n; i++) d[i] = start + i * step;
  return t;
}

function generatorOf(opts: RandomOptions | undefined, op: string): Generator {
  if (opts?.generator && opts.seed !== undefined) throw new TypeError(`${op}: pass either seed or generator, not both`);
  if (opts?.generator) return opts.generator;
  if (opts?.seed !== undefined) return new Generator(opts.seed);
  return defaultGenerator();
}

/** Standard normal samples. */
export function randn(shape: number[], opts?: RandomOptions): Tensor {
  const s = checkShape(shape, 'randn');
  const g = generatorOf(opts, 'randn');
  const t = Tensor.empty(s);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = g.normal();
  return finish(t, opts);
}

/** Uniform samples in [0, 1). */
export function rand(shape: number[], opts?: RandomOptions): Tensor {
  const s = checkShape(shape, 'rand');
  const g = generatorOf(opts, 'rand');
  const t = Tensor.empty(s);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = g.uniformFloat32();
  return finish(t, opts);
}

/** Uniform samples in [low, high). */
export function uniform(shape: number[], low: number, high: number, opts?: RandomOptions): Tensor {
  checkFiniteNumber(low, 'uniform', 'low');
  checkFiniteNumber(high, 'uniform', 'high');
  const t = rand(shape, { ...opts, requiresGrad: false });
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = low + (high - low) * d[i];
  return finish(t, opts);
}

/** Integers in [0, n) as a float tensor (class ids, indices). */
export function randint(shape: number[], n: number, opts?: RandomOptions): Tensor {
  checkSize(n, 'randint', 'n');
  const s = checkShape(shape, 'randint');
  const g = generatorOf(opts, 'randint');
  const t = Tensor.empty(s);
  const d = t.data;
  for (let i = 0; i < t.size; i++) d[i] = g.int(n);
  return t;
}
