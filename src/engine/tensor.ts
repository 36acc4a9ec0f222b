// Tensor: a dense, contiguous, row-major float32 array with a shape, plus the autograd
// fields. The values live in a Storage, which is device-aware so that a GPU backend can
// keep data resident; code outside the engine only ever reads `.data`.
import type { Node } from './autograd.js';
import { backward as runBackward } from './autograd.js';
import { checkTensorShape, fmt } from './shape-util.js';
import './profile.js'; // MEDIANOMALY_PROFILE=1 must take effect whenever the engine is used
import * as ew from './ops/elementwise.js';
import * as act from './ops/activation.js';
import * as red from './ops/reduce.js';
import * as shp from './ops/shape.js';
import { matmul } from './ops/linear.js';

export interface CpuStorage {
  readonly device: 'cpu';
  readonly data: Float32Array;
}
export type Storage = CpuStorage;

export function cpuStorage(data: Float32Array): CpuStorage {
  return { device: 'cpu', data };
}

function describe(d: unknown): string {
  if (d instanceof Float32Array) return `${d.length} values`;
  if (d === null || d === undefined) return String(d);
  return (d as object).constructor?.name ?? typeof d;
}

/** Below this many floats (16 KiB) a zeroed on-heap array costs no more. */
const UNINIT_MIN = 4096;
type UnsafeAlloc = { allocUnsafeSlow(size: number): { buffer: ArrayBuffer; byteOffset: number } };
const nodeBuffer = (globalThis as { Buffer?: UnsafeAlloc }).Buffer;

/** n float32 slots of fresh, unzeroed memory (Node's unpooled Buffer); zeroed elsewhere. */
function uninitFloats(n: number): Float32Array {
  if (!nodeBuffer) return new Float32Array(n);
  const b = nodeBuffer.allocUnsafeSlow(n * 4); // its own ArrayBuffer, offset 0: not the shared pool
  return new Float32Array(b.buffer, b.byteOffset, n);
}

export class Tensor {
  /** Frozen: share it freely, copy it to modify. */
  readonly shape: number[];
  readonly size: number;
  readonly storage: Storage;
  requiresGrad = false;
  grad: Tensor | null = null;
  /** The node that produced this tensor; null for leaves. Set by the engine only. */
  readonly gradFn: Node | null = null;

  /** Wraps a storage whose length equals the product of `shape` (engine use: no copy). */
  constructor(storage: Storage, shape: readonly number[]) {
    // Negative or fractional entries could multiply to the right length ([-1, -1] holds 1).
    const size = checkTensorShape(shape, 'Tensor');
    if (!(storage?.data instanceof Float32Array)) throw new TypeError(`Tensor: storage.data must be a Float32Array, got ${describe(storage?.data)}`);
    if (storage.data.length !== size) {
      throw new RangeError(`Tensor: storage holds ${storage.data.length} values but shape ${fmt(shape)} needs ${size}`);
    }
    this.storage = storage;
    this.shape = Object.freeze(shape.slice()) as number[];
    this.size = size;
  }

  /** A new tensor over fresh zeroed memory. */
  static empty(shape: readonly number[]): Tensor {
    return new Tensor(cpuStorage(new Float32Array(checkTensorShape(shape, 'Tensor'))), shape);
  }

  /**
   * A new tensor whose values are unspecified (the memory is not zeroed), for an op whose
   * kernel overwrites every output element: the kernel table says which do ("overwrites"),
   * and the native conformance tests hold both backends to it by pre-filling outputs with
   * NaN. Skipping the zero fill saves a full write of every activation (about 4 % of an AE
   * inference). The memory is fresh, never pooled, so it aliases nothing; small arrays take
   * the ordinary path, where V8 allocates on its heap.
   */
  static uninit(shape: readonly number[]): Tensor {
    const n = checkTensorShape(shape, 'Tensor');
    return new Tensor(cpuStorage(n >= UNINIT_MIN ? uninitFloats(n) : new Float32Array(n)), shape);
  }

  /** Wraps an existing Float32Array (no copy). */
  static fromData(data: Float32Array, shape: readonly number[]): Tensor {
    return new Tensor(cpuStorage(data), shape);
  }

  /**
   * The values. Checked on every read (two comparisons) because storage is a plain object:
   * a buffer transferred away (detached) or a replaced storage.data must be an error the
   * engine raises before any backend sees it, not NaNs on ts and a TypeError on cpu.
   */
  get data(): Float32Array {
    const d = this.storage.data;
    if (!(d instanceof Float32Array) || d.length !== this.size) {
      throw new TypeError(
        `Tensor: its storage holds ${describe(d)} but shape ${fmt(this.shape)} needs ${this.size} float32 values (a detached buffer or a replaced storage.data)`,
      );
    }
    return d;
  }

  get ndim(): number {
    return this.shape.length;
  }

  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  item(): number {
    if (this.size !== 1) throw new RangeError(`item: only a tensor with one element has an item; this one has shape ${fmt(this.shape)}`);
    return this.data[0];
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  /** Reverse-mode differentiation from this tensor; gradients accumulate into `.grad` of leaves. */
  backward(grad?: Tensor, opts?: { retainGraph?: boolean }): void {
    runBackward([this], grad ? [grad] : undefined, opts?.retainGraph ?? false);
  }

  /** Same values (shared storage), no graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape);
  }

  clone(): Tensor {
    return shp.clone(this);
  }

  requiresGrad_(flag = true): this {
    if (this.gradFn && !flag) throw new Error('requiresGrad_: a tensor computed by an op always requires grad; use detach()');
    this.requiresGrad = flag;
    return this;
  }

  zeroGrad(): void {
    this.grad = null;
  }

  toString(): string {
    return `Tensor(shape=${fmt(this.shape)}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // ---- method sugar over the op functions ----
  reshape(...shape: number[] | [number[]]): Tensor {
    return shp.reshape(this, Array.isArray(shape[0]) ? (shape[0] as number[]) : (shape as number[]));
  }
  view(...shape: number[] | [number[]]): Tensor {
    return shp.reshape(this, Array.isArray(shape[0]) ? (shape[0] as number[]) : (shape as number[]));
  }
  flatten(start = 0, end = -1): Tensor {
    return shp.flatten(this, start, end);
  }
  permute(...dims: number[] | [number[]]): Tensor {
    return shp.permute(this, Array.isArray(dims[0]) ? (dims[0] as number[]) : (dims as number[]));
  }
  transpose(d0: number, d1: number): Tensor {
    return shp.transpose(this, d0, d1);
  }
  unsqueeze(d: number): Tensor {
    return shp.unsqueeze(this, d);
  }
  squeeze(d?: number): Tensor {
    return shp.squeeze(this, d);
  }
  add(o: Tensor | number): Tensor {
    return ew.add(this, o);
  }
  sub(o: Tensor | number): Tensor {
    return ew.sub(this, o);
  }
  mul(o: Tensor | number): Tensor {
    return ew.mul(this, o);
  }
  div(o: Tensor | number): Tensor {
    return ew.div(this, o);
  }
  pow(o: Tensor | number): Tensor {
    return ew.pow(this, o);
  }
  neg(): Tensor {
    return ew.neg(this);
  }
  exp(): Tensor {
    return ew.exp(this);
  }
  log(): Tensor {
    return ew.log(this);
  }
  sqrt(): Tensor {
    return ew.sqrt(this);
  }
  abs(): Tensor {
    return ew.abs(this);
  }
  square(): Tensor {
    return ew.square(this);
  }
  relu(): Tensor {
    return act.relu(this);
  }
  sigmoid(): Tensor {
    return act.sigmoid(this);
  }
  tanh(): Tensor {
    return act.tanh(this);
  }
  sum(dims?: number | number[], keepdim = false): Tensor {
    return red.sum(this, dims, keepdim);
  }
  mean(dims?: number | number[], keepdim = false): Tensor {
    return red.mean(this, dims, keepdim);
  }
  max(dim?: number, keepdim = false): Tensor {
    return red.max(this, dim, keepdim);
  }
  matmul(o: Tensor): Tensor {
    return matmul(this, o);
  }
}
