// KnnIndex: an exact, flat, squared-L2 nearest-neighbour index shaped like faiss's
// IndexFlatL2 (add, search, ntotal), with atomic save/load as safetensors.
import { checkFinite, knnSearch, rowSquaredNorms, Tensor, type KnnResult } from '../engine/index.js';
import { readSafetensors, writeSafetensors } from '../nn/safetensors.js';

const FORMAT = 'medianomaly-knn-index';
const MAX_DIM = 2 ** 24;

/** Float32Array | Tensor rows of `dim` values → the flat values and the row count. */
function rows(x: unknown, dim: number, op: string, what: string): { data: Float32Array; n: number } {
  let data: Float32Array;
  if (x instanceof Tensor) {
    if (!(x.ndim === 2 || x.ndim === 1)) throw new RangeError(`${op}: ${what} must be a [n, ${dim}] tensor, got shape [${x.shape.join(', ')}]`);
    const last = x.shape[x.ndim - 1];
    if (last !== dim) throw new RangeError(`${op}: ${what} have ${last} values per row but the index holds ${dim}-dimensional vectors`);
    data = x.data;
  } else if (x instanceof Float32Array) {
    if (x.length % dim !== 0) throw new RangeError(`${op}: ${what} hold ${x.length} values, not a whole number of ${dim}-dimensional rows`);
    data = x;
  } else {
    throw new TypeError(`${op}: ${what} must be a Float32Array or a Tensor [n, ${dim}], got ${x === null ? 'null' : typeof x}`);
  }
  return { data, n: data.length / dim };
}

/**
 * Exact nearest neighbours by squared Euclidean distance. `add` copies the vectors (any
 * number of calls); `search` returns, per query, the k smallest squared distances ascending
 * (equal distances: the lower index first) and their indices, with +Infinity / −1 past
 * ntotal, like faiss. Distances are computed as ‖q‖² + ‖b‖² − 2·q·b through the GEMM and
 * clamped at 0 (the bank norms are cached on add). NaN or ±Inf in vectors or queries is
 * refused. Search runs synchronously on the calling thread (use a worker to keep an event
 * loop free).
 */
export class KnnIndex {
  readonly dim: number;
  private store: Float32Array;
  private norms: Float32Array;
  private count = 0;

  constructor(dim: number) {
    if (!Number.isInteger(dim) || dim < 1 || dim > MAX_DIM) throw new RangeError(`KnnIndex: dim must be an integer in [1, 2^24], got ${dim}`);
    this.dim = dim;
    this.store = new Float32Array(0);
    this.norms = new Float32Array(0);
  }

  /** Number of stored vectors. */
  get ntotal(): number {
    return this.count;
  }

  /** The stored vectors, [ntotal, dim] row-major (a view: do not modify). */
  get vectors(): Float32Array {
    return this.store.subarray(0, this.count * this.dim);
  }

  /** Appends vectors [n, dim] (a copy). */
  add(vectors: Float32Array | Tensor): void {
    const op = 'KnnIndex.add';
    const { data, n } = rows(vectors, this.dim, op, 'vectors');
    if (n === 0) return;
    checkFinite(data, this.dim, op, 'vectors');
    const total = this.count + n;
    if (total > 2 ** 31 - 1) throw new RangeError(`${op}: ${total} vectors exceed the 2^31 − 1 an index can address`);
    if (total * this.dim > this.store.length) {
      // Exact size for the first add (the usual single bulk add), then 1.5× growth.
      const cap = this.count === 0 ? total : Math.max(total, Math.ceil(this.store.length / this.dim * 1.5));
      let grown: Float32Array;
      try {
        grown = new Float32Array(cap * this.dim);
      } catch (e) {
        throw new RangeError(`${op}: cannot allocate ${((cap * this.dim * 4) / 2 ** 30).toFixed(2)} GiB for ${cap} vectors of ${this.dim} values (use a coreset, or planMemoryBank to size the bank)`, { cause: e });
      }
      grown.set(this.store.subarray(0, this.count * this.dim));
      const norms = new Float32Array(cap);
      norms.set(this.norms.subarray(0, this.count));
      this.store = grown;
      this.norms = norms;
    }
    this.store.set(data, this.count * this.dim);
    this.norms.set(rowSquaredNorms(data, n, this.dim), this.count);
    this.count = total;
  }

  /** Removes every vector. */
  reset(): void {
    this.store = new Float32Array(0);
    this.norms = new Float32Array(0);
    this.count = 0;
  }

  /** The k nearest stored vectors of each query [nq, dim]: distances and indices, [nq, k] each. */
  search(queries: Float32Array | Tensor, k: number): KnnResult {
    const op = 'KnnIndex.search';
    const { data, n } = rows(queries, this.dim, op, 'queries');
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`${op}: k must be an integer ≥ 1, got ${k}`);
    if (this.count === 0) throw new RangeError(`${op}: the index is empty (ntotal 0); add vectors before searching`);
    try {
      return knnSearch(Tensor.fromData(data, [n, this.dim]), Tensor.fromData(this.vectors, [this.count, this.dim]), k, {
        baseNorms: this.norms.subarray(0, this.count),
        baseChecked: true,
      });
    } catch (e) {
      // Name the index's own terms (the engine op says 'knnSearch').
      if (e instanceof RangeError) throw new RangeError((e as Error).message.replace(/^knnSearch:/, `${op}:`));
      throw e;
    }
  }

  /** Writes the index atomically as safetensors: one F32 tensor "vectors" [ntotal, dim]. */
  save(path: string): void {
    writeSafetensors(path, [['vectors', { dtype: 'F32', shape: [this.count, this.dim], data: this.vectors }]], {
      format: FORMAT,
      version: '1',
      metric: 'l2-squared',
    });
  }

  /** Reads an index written by save(); a truncated, corrupt or foreign file is refused. */
  static load(path: string): KnnIndex {
    const op = 'KnnIndex.load';
    let content;
    try {
      content = readSafetensors(path);
    } catch (e) {
      throw new Error(`${op}: ${path} is not a readable index file: ${(e as Error).message}`, { cause: e });
    }
    if (content.metadata.format !== FORMAT) throw new Error(`${op}: ${path} is not a KnnIndex file (metadata format '${content.metadata.format ?? ''}', expected '${FORMAT}')`);
    if (content.metadata.version !== '1') throw new Error(`${op}: ${path} has index version ${content.metadata.version}; this library reads version 1`);
    const t = content.tensors.get('vectors');
    if (!t) throw new Error(`${op}: ${path} has no "vectors" tensor`);
    if (t.dtype !== 'F32' || t.shape.length !== 2 || t.shape[1] < 1) throw new Error(`${op}: ${path}: "vectors" must be F32 [n, dim ≥ 1], got ${t.dtype} [${t.shape.join(', ')}]`);
    const index = new KnnIndex(t.shape[1]);
    try {
      index.add(t.data as Float32Array);
    } catch (e) {
      throw new Error(`${op}: ${path}: ${(e as Error).message}`, { cause: e });
    }
    return index;
  }
}
