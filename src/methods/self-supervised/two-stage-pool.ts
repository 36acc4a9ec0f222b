// Two-stage SSL batches made ahead of the trainer, in worker threads (two-stage-views.ts
// makes them; this file only distributes the work). The packed training images are copied
// once into shared memory every worker reads; a batch is split into one contiguous range of
// samples per worker; each worker returns its [V, m, 3, S, S] chunk (transferred, not
// copied) and the main thread scatters the chunks into the batch. Every sample's draws come
// from its own Generator keyed by (seed, step, sample), so a batch is bit for bit the same
// with 0, 1 or 8 workers, in whatever order they finish.
//
// `take(step)` returns the batch of that step and keeps the next `ahead` steps in flight;
// `workers: 0` makes every batch inline on the calling thread (no look-ahead).
import { Worker } from 'node:worker_threads';
import { batchLabels, type BatchCache, makeBatch, makeSamples, scatterSamples, stepIndices, VIEW_COUNT, type ViewBatch, type ViewSettings } from './two-stage-views.js';

export interface TwoStageWorkerInit {
  images: SharedArrayBuffer;
  n: number;
  channels: number;
  size: number;
  settings: ViewSettings;
}

export type TwoStageWorkerRequest = { type: 'samples'; id: number; step: number; from: number; to: number };
export type TwoStageWorkerReply = { type: 'done'; id: number; chunk: Float32Array } | { type: 'error'; id: number; message: string; stack?: string };

function spawn(init: TwoStageWorkerInit): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // Under tsx (sources): workers do not inherit the loader hooks; register tsx first.
    const api = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./two-stage-worker.ts', here).href;
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(code, { eval: true, workerData: init });
  }
  return new Worker(new URL('./two-stage-worker.js', here), { workerData: init });
}

export interface FeedOptions {
  /** Worker threads (0: inline on the calling thread). */
  workers: number;
  /** Steps kept in flight beyond the one taken (with workers). */
  ahead: number;
  /** First step that is never asked for (no look-ahead past it). */
  end?: number;
}

export class TwoStageBatchFeed {
  private readonly images: Float32Array;
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (c: Float32Array) => void; reject: (e: Error) => void }>();
  private readonly inFlight = new Map<number, Promise<ViewBatch>>();
  private readonly cache: BatchCache;
  private nextId = 0;
  private failed: Error | null = null;
  private closed = false;

  constructor(
    images: Float32Array,
    readonly n: number,
    readonly channels: number,
    readonly size: number,
    readonly settings: ViewSettings,
    readonly opts: FeedOptions,
  ) {
    const { workers } = opts;
    if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`two-stage SSL: workers must be an integer ≥ 0, got ${workers}`);
    this.cache = { pass: -1, perm: null, rgb: new Array(n) };
    if (workers === 0) {
      this.images = images;
      return;
    }
    const shared = new SharedArrayBuffer(images.byteLength);
    this.images = new Float32Array(shared);
    this.images.set(images);
    const init: TwoStageWorkerInit = { images: shared, n, channels, size, settings };
    for (let i = 0; i < workers; i++) {
      const w = spawn(init);
      w.on('message', (m: TwoStageWorkerReply) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.type === 'done') p.resolve(m.chunk);
        else {
          const e = new Error(`two-stage sample worker: ${m.message}`);
          if (m.stack) e.stack = m.stack;
          p.reject(e);
        }
      });
      w.on('error', (e) => this.fail(e instanceof Error ? e : new Error(String(e))));
      w.on('exit', (code) => {
        if (!this.closed && code !== 0) this.fail(new Error(`a two-stage sample worker exited with code ${code}`));
      });
      this.workers.push(w);
    }
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private start(step: number): Promise<ViewBatch> {
    const V = VIEW_COUNT[this.settings.variant];
    const B = this.settings.batchSize;
    const per = 3 * this.size * this.size;
    const x = new Float32Array(V * B * per);
    const k = Math.min(this.workers.length, B);
    const parts: Promise<void>[] = [];
    for (let w = 0; w < k; w++) {
      const from = Math.floor((w * B) / k);
      const to = Math.floor(((w + 1) * B) / k);
      const id = this.nextId++;
      parts.push(
        new Promise<Float32Array>((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          const req: TwoStageWorkerRequest = { type: 'samples', id, step, from, to };
          this.workers[w]!.postMessage(req);
        }).then((chunk) => scatterSamples(chunk, x, V, B, per, from, to)),
      );
    }
    const batch = Promise.all(parts).then(() => ({ step, views: V, x, labels: batchLabels(V, B), indices: stepIndices(this.n, this.settings, step, this.cache) }));
    batch.catch(() => {}); // surfaces when taken
    return batch;
  }

  /** The batch of global step `step`; starts the following `ahead` steps. */
  async take(step: number): Promise<ViewBatch> {
    if (this.closed) throw new Error('two-stage SSL: the batch feed is closed');
    if (this.failed) throw this.failed;
    if (this.workers.length === 0) return makeBatch(this.images, this.n, this.channels, this.size, this.settings, step, this.cache);
    let batch = this.inFlight.get(step);
    this.inFlight.delete(step);
    for (const s of [...this.inFlight.keys()]) if (s < step) this.inFlight.delete(s);
    batch ??= this.start(step);
    const end = this.opts.end ?? Infinity;
    for (let s = step + 1; s <= step + this.opts.ahead && s < end; s++) if (!this.inFlight.has(s)) this.inFlight.set(s, this.start(s));
    return batch;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new Error('two-stage SSL: the batch feed is closed'));
    this.inFlight.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** The worker side: samples [from, to) of a step. */
export function workerSamples(init: TwoStageWorkerInit, images: Float32Array, req: TwoStageWorkerRequest, cache: BatchCache): Float32Array {
  return makeSamples(images, init.n, init.channels, init.size, init.settings, req.step, req.from, req.to, cache);
}
