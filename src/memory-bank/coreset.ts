// PatchCore's approximate greedy coreset (official ApproximateGreedyCoresetSampler):
// a random linear projection to d′ = 128, then farthest-point selection, one fused pass
// over the projected points per pick. Deterministic from a seed, and the same picks on
// every backend (the kernels compute every float32 value in one documented order).
import { checkFinite, coresetGreedy, coresetGreedyHalf, coresetProject, firstNonFiniteHalf, Generator, halfFromFloat, Tensor } from '../engine/index.js';

/**
 * How the running distances start.
 * - 'official' (default; patchcore-inspection): `starts` (10) distinct random points; each
 *   point's initial distance is its mean Euclidean distance to them; they are not selected.
 * - 'anomalib' (anomalib's KCenterGreedy since issues #1332/#3459): one random point is the
 *   first element of the coreset and its distances start the running minimum.
 */
export type CoresetStart = 'official' | 'anomalib';

/**
 * How the projected points are stored during the selection.
 * - 'float16' (default): IEEE half, rounded to nearest even from the float32 projection;
 *   distances are computed in float32 from the half values. Each pick reads half the
 *   memory (the selection is bandwidth bound, so it runs close to twice as fast). The
 *   projection is itself a random approximation of the features, so half precision (a
 *   relative rounding of 2^-11 per coordinate) only changes which of several points at
 *   nearly the same farthest distance is taken.
 * - 'float32': the projected points as computed.
 * Both are deterministic and give the same picks on every backend.
 */
export type CoresetPrecision = 'float16' | 'float32';

export interface CoresetProgress {
  /** Picks done and to do. */
  done: number;
  total: number;
  elapsedMs: number;
  /** Remaining time at the rate measured so far. */
  etaMs: number;
}

export interface CoresetOptions {
  /** Number of points to keep (exactly one of count and ratio). */
  count?: number;
  /** Fraction of the points to keep, in (0, 1]: count = max(1, ⌊n·ratio⌋) (official: int(n·percentage)). */
  ratio?: number;
  /**
   * Dimension d′ of the random projection (default 128; entries of the d′ × d map are
   * U(±1/√d), PyTorch's Linear initialisation). null, or d′ equal to d, selects on the
   * points themselves (the official sampler also skips the map when d′ = d).
   */
  projectionDim?: number | null;
  /** Values per point when points is a flat Float32Array. */
  dim?: number;
  /** Seed of every random draw (the projection, then the start points). */
  seed: number;
  start?: CoresetStart;
  /** Storage of the projected points during the selection (default 'float16'). */
  precision?: CoresetPrecision;
  /** Random start points of the official rule (default 10, at most n). */
  starts?: number;
  /** Called between chunks of picks (about every 0.1–0.5 s of work) and at the end. */
  onProgress?: (p: CoresetProgress) => void;
}

export interface CoresetEstimate {
  iterations: number;
  /** Bytes one pick reads: n × d′ × (2 for float16, 4 for float32). */
  bytesPerIteration: number;
  /** iterations × bytesPerIteration: the memory traffic of the whole selection. */
  trafficBytes: number;
  /** The projected points and one distance per point, held during the selection. */
  workingBytes: number;
}

function resolveCount(n: number, opts: { count?: number; ratio?: number }, op: string): number {
  const hasCount = opts.count !== undefined;
  const hasRatio = opts.ratio !== undefined;
  if (hasCount === hasRatio) throw new TypeError(`${op}: give exactly one of count and ratio`);
  if (hasCount) {
    const c = opts.count as number;
    if (!Number.isInteger(c) || c < 1 || c > n) throw new RangeError(`${op}: count must be an integer in [1, ${n}] (the number of points), got ${c}`);
    return c;
  }
  const r = opts.ratio as number;
  if (typeof r !== 'number' || !(r > 0 && r <= 1)) throw new RangeError(`${op}: ratio must be in (0, 1], got ${r}`);
  return Math.max(1, Math.floor(n * r));
}

function resolvePrecision(p: unknown, op: string): CoresetPrecision {
  if (p === undefined) return 'float16';
  if (p !== 'float16' && p !== 'float32') throw new RangeError(`${op}: precision must be 'float16' or 'float32', got ${String(p)}`);
  return p;
}

function resolveProjection(d: number, projectionDim: number | null | undefined, op: string): number {
  const e = projectionDim === undefined ? 128 : projectionDim;
  if (e === null) return d;
  if (!Number.isInteger(e) || e < 1 || e > 65536) throw new RangeError(`${op}: projectionDim must be an integer in [1, 65536] or null, got ${e}`);
  return e;
}

/** The cost of a selection before it runs (REQ-CORESET: printed before a long run). */
export function coresetEstimate(
  n: number,
  dim: number,
  opts: { count?: number; ratio?: number; projectionDim?: number | null; precision?: CoresetPrecision },
): CoresetEstimate {
  const op = 'coresetEstimate';
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${op}: n must be an integer ≥ 1, got ${n}`);
  const iterations = resolveCount(n, opts, op);
  const e = resolveProjection(dim, opts.projectionDim, op);
  const half = resolvePrecision(opts.precision, op) === 'float16';
  const bytesPerIteration = n * e * (half ? 2 : 4);
  // float32 without a projection selects on the caller's points (no copy); float16 always holds a half copy.
  const pointsBytes = half ? n * e * 2 : e !== dim ? n * e * 4 : 0;
  return { iterations, bytesPerIteration, trafficBytes: iterations * bytesPerIteration, workingBytes: pointsBytes + n * 4 };
}

interface Plan {
  /** The points the selection runs on: float32 [n, e], or half bits (n × e) with precision float16. */
  projected: Tensor | null;
  half: Uint16Array | null;
  n: number;
  e: number;
  m: number;
  minDist: Float32Array;
  selected: Int32Array;
  done: number;
  newest: number;
  starts: Int32Array;
  chunk: number;
  t0: number;
  onProgress?: (p: CoresetProgress) => void;
}

function prepare(points: Float32Array | Tensor, opts: CoresetOptions, op: string): Plan {
  let data: Float32Array;
  let n: number;
  let d: number;
  if (points instanceof Tensor) {
    if (points.ndim !== 2) throw new RangeError(`${op}: points must be a [n, d] tensor, got shape [${points.shape.join(', ')}]`);
    [n, d] = points.shape;
    data = points.data;
  } else if (points instanceof Float32Array) {
    d = opts?.dim as number;
    if (!Number.isInteger(d) || d < 1) throw new TypeError(`${op}: a Float32Array of points needs dim (values per point), or pass a Tensor [n, d]`);
    if (points.length % d !== 0) throw new RangeError(`${op}: ${points.length} values are not a whole number of ${d}-dimensional points`);
    n = points.length / d;
    data = points;
  } else {
    throw new TypeError(`${op}: points must be a Tensor [n, d], got ${points === null ? 'null' : typeof points}`);
  }
  if (n < 1) throw new RangeError(`${op}: there are no points to select from`);
  if (d < 1) throw new RangeError(`${op}: points need at least one value each (d is 0)`);
  if (!opts || typeof opts.seed !== 'number' || !Number.isFinite(opts.seed)) throw new TypeError(`${op}: seed must be a finite number (every random draw comes from it)`);
  const m = resolveCount(n, opts, op);
  const e = resolveProjection(d, opts.projectionDim, op);
  const start = opts.start ?? 'official';
  if (start !== 'official' && start !== 'anomalib') throw new RangeError(`${op}: start must be 'official' or 'anomalib', got ${String(start)}`);
  const nStarts = opts.starts ?? 10;
  if (!Number.isInteger(nStarts) || nStarts < 1) throw new RangeError(`${op}: starts must be an integer ≥ 1, got ${nStarts}`);
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') throw new TypeError(`${op}: onProgress must be a function`);
  const precision = resolvePrecision(opts.precision, op);
  checkFinite(data, d, op, 'points');

  const gen = new Generator(opts.seed);
  const t0 = performance.now();
  let wt: Tensor | null = null;
  if (e !== d) {
    // W [e, d] as torch.nn.Linear(d, e, bias=False) initialises it, drawn row by row; the
    // kernel takes Wᵀ [d, e].
    const bound = 1 / Math.sqrt(d);
    const w = new Float32Array(d * e);
    for (let j = 0; j < e; j++) for (let t = 0; t < d; t++) w[t * e + j] = (2 * gen.uniform() - 1) * bound;
    wt = Tensor.fromData(w, [d, e]);
  }
  let projected: Tensor | null = null;
  let half: Uint16Array | null = null;
  if (precision === 'float32') {
    projected = Tensor.fromData(data, [n, d]);
    if (wt) {
      projected = coresetProject(projected, wt);
      checkFinite(projected.data, e, op, 'the projected points (values too large for float32)');
    }
  } else {
    // Projected (or copied) and rounded to half in row blocks: the float32 projection of the
    // whole bank never exists at once.
    half = new Uint16Array(n * e);
    const rowsPerBlock = Math.max(1, Math.floor(2 ** 22 / e));
    for (let r0 = 0; r0 < n; r0 += rowsPerBlock) {
      const r1 = Math.min(n, r0 + rowsPerBlock);
      const src = data.subarray(r0 * d, r1 * d);
      const block = wt ? coresetProject(Tensor.fromData(src, [r1 - r0, d]), wt).data : src;
      if (wt) checkFinite(block, e, op, 'the projected points (values too large for float32)');
      const out = half.subarray(r0 * e, r1 * e);
      halfFromFloat(block, out);
      const bad = firstNonFiniteHalf(out);
      if (bad >= 0) {
        const row = r0 + Math.floor(bad / e);
        throw new RangeError(
          `${op}: ${wt ? 'the projected point' : 'point'} ${row} has a value of magnitude ≥ 65520, beyond float16's range (largest 65504); ` +
            `pass precision: 'float32' (or scale the features)`,
        );
      }
    }
  }
  const minDist = new Float32Array(n).fill(Infinity);
  const selected = new Int32Array(m);
  let done = 0;
  let newest = -1;
  let starts = new Int32Array(0);
  if (start === 'official') {
    const s = Math.min(nStarts, n);
    const seen = new Set<number>();
    starts = new Int32Array(s);
    for (let i = 0; i < s; ) {
      const c = gen.int(n);
      if (!seen.has(c)) {
        seen.add(c);
        starts[i++] = c;
      }
    }
  } else {
    newest = gen.int(n);
    selected[0] = newest;
    done = 1;
  }
  // About 1 GB of traffic per kernel call: progress a few times a second, negligible overhead.
  const chunk = Math.max(1, Math.floor(1e9 / (n * e * (precision === 'float16' ? 2 : 4))));
  return { projected, half, n, e, m, minDist, selected, done, newest, starts, chunk, t0, onProgress: opts.onProgress };
}

/** One chunk of picks; false when the selection is complete. */
function step(p: Plan): boolean {
  if (p.done >= p.m && p.starts.length === 0) return false;
  const count = Math.min(p.chunk, p.m - p.done);
  const step = { starts: p.starts, newest: p.newest };
  const picks = p.half ? coresetGreedyHalf(p.half, p.n, p.e, p.minDist, count, step) : coresetGreedy(p.projected as Tensor, p.minDist, count, step);
  p.starts = new Int32Array(0);
  p.selected.set(picks, p.done);
  p.done += count;
  if (count > 0) p.newest = picks[count - 1];
  if (p.onProgress) {
    const elapsedMs = performance.now() - p.t0;
    p.onProgress({ done: p.done, total: p.m, elapsedMs, etaMs: p.done > 0 ? (elapsedMs / p.done) * (p.m - p.done) : 0 });
  }
  return p.done < p.m;
}

/**
 * Indices of a greedy k-center coreset of points [n, d], in selection order. Runs on the
 * calling thread; see coresetAsync for cancellation. Memory: the projected points
 * (n × d′ halves, or floats with precision 'float32') and one distance per point, never n².
 */
export function coreset(points: Float32Array | Tensor, opts: CoresetOptions): Int32Array {
  const p = prepare(points, opts, 'coreset');
  while (step(p));
  return p.selected;
}

/** coreset() that yields to the event loop between chunks and stops when `signal` aborts. */
export async function coresetAsync(points: Float32Array | Tensor, opts: CoresetOptions & { signal?: AbortSignal }): Promise<Int32Array> {
  const p = prepare(points, opts, 'coresetAsync');
  for (;;) {
    opts.signal?.throwIfAborted();
    if (!step(p)) break;
    await new Promise<void>((r) => setImmediate(r));
  }
  return p.selected;
}
