// KnnIndex: an exact, flat, squared-L2 nearest-neighbour index shaped like faiss's
// IndexFlatL2 (add, search, ntotal), with atomic save/load as safetensors.
import { checkFinite, firstNonFiniteHalf, halfFromFloat, halfToFloat, knnSearch, knnSearchHalf, rowSquaredNorms, Tensor, type KnnResult } from '../engine/index.js';
import { readSafetensors, writeSafetensors } from '../nn/safetensors.js';

const FORMAT = 'medianomaly-knn-index';
const MAX_DIM = 2 ** 24;

/**
 * How the bank is stored (REQ-MEM 5).
 * - 'float32' (default): the vectors as given.
 * - 'float16': IEEE half, rounded to nearest even on add (half the memory; a relative error
 *   of at most 2^-11 per value, and values of magnitude ≥ 65520 are refused). Distances are
 *   computed in float32 from the half values: bank blocks are converted on the fly, so the
 *   results are those of a float32 index holding the rounded vectors.
 */
export type KnnStorage = 'float32' | 'float16';

export interface KnnIndexOptions {
  storage?: KnnStorage;
}

/** Squared norms of n half rows of dim values, as rowSquaredNorms of their float32 values, decoded in blocks of rows. */
function halfRowNorms(half: Uint16Array, n: number, dim: number): Float32Array {
  const out = new Float32Array(n);
  const rowsPerBlock = Math.max(1, Math.floor(2 ** 20 / dim));
  for (let r0 = 0; r0 < n; r0 += rowsPerBlock) {
    const r1 = Math.min(n, r0 + rowsPerBlock);
    out.set(rowSquaredNorms(halfToFloat(half.subarray(r0 * dim, r1 * dim)), r1 - r0, dim), r0);
  }
  return out;
}

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
 * loop free). `storage: 'float16'` keeps the bank as IEEE half (see KnnStorage).
 */
export class KnnIndex {
  readonly dim: number;
  readonly storage: KnnStorage;
  private store: Float32Array | Uint16Array;
  private norms: Float32Array;
  private count = 0;

  constructor(dim: number, opts: KnnIndexOptions = {}) {
    if (!Number.isInteger(dim) || dim < 1 || dim > MAX_DIM) throw new RangeError(`KnnIndex: dim must be an integer in [1, 2^24], got ${dim}`);
    const storage = opts?.storage ?? 'float32';
    if (storage !== 'float32' && storage !== 'float16') throw new RangeError(`KnnIndex: storage must be 'float32' or 'float16', got ${String(storage)}`);
    this.dim = dim;
    this.storage = storage;
    this.store = storage === 'float16' ? new Uint16Array(0) : new Float32Array(0);
    this.norms = new Float32Array(0);
  }

  /** Number of stored vectors. */
  get ntotal(): number {
    return this.count;
  }

  /**
   * The stored vectors, [ntotal, dim] row-major: a view (do not modify) of a float32 bank,
   * or a new float32 copy of the values of a float16 bank.
   */
  get vectors(): Float32Array {
    const v = this.store.subarray(0, this.count * this.dim);
    return v instanceof Uint16Array ? halfToFloat(v) : v;
  }

  /** The raw IEEE half bits of a float16 bank, [ntotal, dim] (a view); null for a float32 bank. */
  get halfVectors(): Uint16Array | null {
    return this.store instanceof Uint16Array ? this.store.subarray(0, this.count * this.dim) : null;
  }

  /** Bytes held by the bank and its norms. */
  get bytes(): number {
    return this.count * this.dim * (this.storage === 'float16' ? 2 : 4) + this.count * 4;
  }

  /** Appends vectors [n, dim] (a copy; rounded to half for a float16 bank). */
  add(vectors: Float32Array | Tensor): void {
    const op = 'KnnIndex.add';
    const { data, n } = rows(vectors, this.dim, op, 'vectors');
    if (n === 0) return;
    checkFinite(data, this.dim, op, 'vectors');
    if (this.store instanceof Uint16Array) {
      const half = halfFromFloat(data);
      const bad = firstNonFiniteHalf(half);
      if (bad >= 0) {
        const row = Math.floor(bad / this.dim);
        throw new RangeError(
          `${op}: vectors hold ${data[bad]} at row ${row}, column ${bad - row * this.dim}, beyond float16's range (largest 65504); use storage: 'float32' (or scale the features)`,
        );
      }
      const norms = halfRowNorms(half, n, this.dim);
      if (this.count === 0) {
        // The first add adopts the rounded copy as the bank: no second half array, and the
        // norms are decoded block by block (a float32 copy of the whole bank never exists).
        if (n > 2 ** 31 - 1) throw new RangeError(`${op}: ${n} vectors exceed the 2^31 − 1 an index can address`);
        this.store = half;
        this.norms = norms;
        this.count = n;
        return;
      }
      this.append(half, norms, n, op);
      return;
    }
    this.append(data, rowSquaredNorms(data, n, this.dim), n, op);
  }

  /** Appends n rows already in the storage type, with their squared norms. */
  private append(data: Float32Array | Uint16Array, norms: Float32Array, n: number, op: string): void {
    const total = this.count + n;
    if (total > 2 ** 31 - 1) throw new RangeError(`${op}: ${total} vectors exceed the 2^31 − 1 an index can address`);
    if (total * this.dim > this.store.length) {
      // Exact size for the first add (the usual single bulk add), then 1.5× growth.
      const cap = this.count === 0 ? total : Math.max(total, Math.ceil(this.store.length / this.dim * 1.5));
      const half = this.store instanceof Uint16Array;
      let grown: Float32Array | Uint16Array;
      try {
        grown = half ? new Uint16Array(cap * this.dim) : new Float32Array(cap * this.dim);
      } catch (e) {
        throw new RangeError(
          `${op}: cannot allocate ${((cap * this.dim * (half ? 2 : 4)) / 2 ** 30).toFixed(2)} GiB for ${cap} vectors of ${this.dim} values ` +
            `(use a coreset${half ? '' : ", storage: 'float16'"}, or planMemoryBank to size the bank)`,
          { cause: e },
        );
      }
      grown.set(this.store.subarray(0, this.count * this.dim));
      const norms = new Float32Array(cap);
      norms.set(this.norms.subarray(0, this.count));
      this.store = grown;
      this.norms = norms;
    }
    (this.store as Float32Array).set(data as Float32Array, this.count * this.dim);
    this.norms.set(norms, this.count);
    this.count = total;
  }

  /** Removes every vector. */
  reset(): void {
    this.store = this.storage === 'float16' ? new Uint16Array(0) : new Float32Array(0);
    this.norms = new Float32Array(0);
    this.count = 0;
  }

  /** The k nearest stored vectors of each query [nq, dim]: distances and indices, [nq, k] each. */
  search(queries: Float32Array | Tensor, k: number): KnnResult {
    const op = 'KnnIndex.search';
    const { data, n } = rows(queries, this.dim, op, 'queries');
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`${op}: k must be an integer ≥ 1, got ${k}`);
    if (this.count === 0) throw new RangeError(`${op}: the index is empty (ntotal 0); add vectors before searching`);
    const q = Tensor.fromData(data, [n, this.dim]);
    const baseNorms = this.norms.subarray(0, this.count);
    try {
      const stored = this.store.subarray(0, this.count * this.dim);
      if (stored instanceof Uint16Array) return knnSearchHalf(q, stored, this.count, k, { baseNorms });
      return knnSearch(q, Tensor.fromData(stored, [this.count, this.dim]), k, { baseNorms, baseChecked: true });
    } catch (e) {
      // Name the index's own terms (the engine op says 'knnSearch').
      if (e instanceof RangeError) throw new RangeError((e as Error).message.replace(/^knnSearch(Half)?:/, `${op}:`));
      throw e;
    }
  }

  /** Writes the index atomically as safetensors: one tensor "vectors" [ntotal, dim], F32 or F16 as stored. */
  save(path: string): void {
    const stored = this.store.subarray(0, this.count * this.dim);
    writeSafetensors(path, [['vectors', { dtype: stored instanceof Uint16Array ? 'F16' : 'F32', shape: [this.count, this.dim], data: stored }]], {
      format: FORMAT,
      version: '1',
      metric: 'l2-squared',
      storage: this.storage,
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
    if ((t.dtype !== 'F32' && t.dtype !== 'F16') || t.shape.length !== 2 || t.shape[1] < 1) {
      throw new Error(`${op}: ${path}: "vectors" must be F32 or F16 [n, dim ≥ 1], got ${t.dtype} [${t.shape.join(', ')}]`);
    }
    const dim = t.shape[1];
    if (t.dtype === 'F32') {
      const index = new KnnIndex(dim);
      try {
        index.add(t.data as Float32Array);
      } catch (e) {
        throw new Error(`${op}: ${path}: ${(e as Error).message}`, { cause: e });
      }
      return index;
    }
    // F16: the stored bits are kept as they are (no second rounding).
    const half = t.data as Uint16Array;
    const bad = firstNonFiniteHalf(half);
    if (bad >= 0) throw new Error(`${op}: ${path}: "vectors" holds a non-finite half at row ${Math.floor(bad / dim)}, column ${bad % dim}`);
    const index = new KnnIndex(dim, { storage: 'float16' });
    const n = half.length / dim;
    if (n > 0) index.append(half, halfRowNorms(half, n, dim), n, op); // append copies: the file's buffer is not kept
    return index;
  }
}
