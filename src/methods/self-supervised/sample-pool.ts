// Synthetic training samples made ahead of the trainer, in worker threads, so that patch
// generation (Poisson cloning above all) never holds the optimiser up.
//
// The training images (8-bit, S × S, back to back) are copied once into shared memory that
// every worker reads. A batch of jobs is split into one contiguous chunk per worker; each
// worker makes its samples with `makeSample` and sends back the inputs and labels
// (transferred, not copied). Every sample's random draws come from its own Generator,
// derived from (seed, epoch, position) only, so a batch is the same with 0, 1 or 8 workers
// and whatever order the workers finish in. `workers: 0` makes the samples inline, on the
// calling thread, when asked.
//
// `SampleFeed` keeps a few batches in flight ahead of the one the trainer asks for.
import { Worker } from 'node:worker_threads';
import { currentBackend } from '../../engine/index.js';
import { makeSample, type SampleJob, type SampleSettings } from './one-stage-data.js';

export interface SampleBatch {
  /** [B, 1, C, C] network inputs in [0, 1]. */
  input: Float32Array;
  /** [B, 1, C, C] labels. */
  label: Float32Array;
}

/** Worker input: the shared images and the settings. */
export interface SampleWorkerInit {
  images: SharedArrayBuffer;
  length: number;
  settings: SampleSettings;
  backend?: string;
}

export type SampleWorkerRequest = { type: 'jobs'; id: number; jobs: SampleJob[] } | { type: 'close' };
export type SampleWorkerReply = { type: 'done'; id: number; input: Float32Array; label: Float32Array } | { type: 'error'; id: number; message: string; stack?: string };

/** Makes the samples of `jobs` on this thread. */
export function makeBatch(images: Uint8Array, jobs: readonly SampleJob[], settings: SampleSettings): SampleBatch {
  const n = settings.geometry.crop * settings.geometry.crop;
  const input = new Float32Array(jobs.length * n);
  const label = new Float32Array(jobs.length * n);
  jobs.forEach((job, i) => makeSample(images, job, settings, input, label, i));
  return { input, label };
}

function spawn(init: SampleWorkerInit): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // Under tsx (sources): workers do not inherit the loader hooks; register tsx first.
    const api = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./sample-worker.ts', here).href;
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(code, { eval: true, workerData: init });
  }
  return new Worker(new URL('./sample-worker.js', here), { workerData: init });
}

interface Pending {
  resolve: (r: { input: Float32Array; label: Float32Array }) => void;
  reject: (e: Error) => void;
}

/** A fixed pool of sample workers (or none: inline). */
export class SamplePool {
  private readonly images: Uint8Array;
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failed: Error | null = null;
  private closed = false;

  constructor(
    images: Uint8Array,
    readonly settings: SampleSettings,
    readonly workerCount: number,
  ) {
    if (!Number.isInteger(workerCount) || workerCount < 0) throw new RangeError(`SamplePool: workers must be an integer ≥ 0, got ${workerCount}`);
    if (workerCount === 0) {
      this.images = images;
      return;
    }
    const shared = new SharedArrayBuffer(images.length);
    this.images = new Uint8Array(shared);
    this.images.set(images);
    const init: SampleWorkerInit = { images: shared, length: images.length, settings, backend: currentBackend() };
    for (let i = 0; i < workerCount; i++) {
      const w = spawn(init);
      w.on('message', (m: SampleWorkerReply) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.type === 'done') p.resolve({ input: m.input, label: m.label });
        else {
          const e = new Error(`sample worker: ${m.message}`);
          if (m.stack) e.stack = m.stack;
          p.reject(e);
        }
      });
      w.on('error', (e) => this.fail(e instanceof Error ? e : new Error(String(e))));
      w.on('exit', (code) => {
        if (!this.closed && code !== 0) this.fail(new Error(`a sample worker exited with code ${code}`));
      });
      this.workers.push(w);
    }
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** The samples of `jobs`, in order. */
  async batch(jobs: readonly SampleJob[]): Promise<SampleBatch> {
    if (this.closed) throw new Error('SamplePool: the pool is closed');
    if (this.failed) throw this.failed;
    if (this.workers.length === 0) return makeBatch(this.images, jobs, this.settings);
    const n = this.settings.geometry.crop * this.settings.geometry.crop;
    const input = new Float32Array(jobs.length * n);
    const label = new Float32Array(jobs.length * n);
    const k = Math.min(this.workers.length, jobs.length);
    const chunks: Promise<void>[] = [];
    for (let w = 0; w < k; w++) {
      const from = Math.floor((w * jobs.length) / k);
      const to = Math.floor(((w + 1) * jobs.length) / k);
      const id = this.nextId++;
      chunks.push(
        new Promise<{ input: Float32Array; label: Float32Array }>((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          const req: SampleWorkerRequest = { type: 'jobs', id, jobs: jobs.slice(from, to) };
          this.workers[w]!.postMessage(req);
        }).then((r) => {
          input.set(r.input, from * n);
          label.set(r.label, from * n);
        }),
      );
    }
    await Promise.all(chunks);
    return { input, label };
  }

  /** Stops the workers; pending batches reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new Error('SamplePool: closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Batches requested ahead: `prefetch(key, jobs)` starts a batch, `take(key, jobs)` returns
 * it (or starts it now when it was not prefetched, or was prefetched with other jobs).
 */
export class SampleFeed {
  private readonly ahead = new Map<string, { jobs: readonly SampleJob[]; batch: Promise<SampleBatch> }>();

  constructor(readonly pool: SamplePool) {}

  prefetch(key: string, jobs: readonly SampleJob[]): void {
    const hit = this.ahead.get(key);
    if (hit && sameJobs(hit.jobs, jobs)) return;
    const batch = this.pool.batch(jobs);
    batch.catch(() => {}); // a failure surfaces when the batch is taken
    this.ahead.set(key, { jobs, batch });
  }

  take(key: string, jobs: readonly SampleJob[]): Promise<SampleBatch> {
    const hit = this.ahead.get(key);
    this.ahead.delete(key);
    if (hit && sameJobs(hit.jobs, jobs)) return hit.batch;
    return this.pool.batch(jobs);
  }

  /** Drops every batch made ahead (e.g. a predicted order that did not come true). */
  clear(): void {
    this.ahead.clear();
  }

  get size(): number {
    return this.ahead.size;
  }
}

function sameJobs(a: readonly SampleJob[], b: readonly SampleJob[]): boolean {
  return a.length === b.length && a.every((j, i) => j.index === b[i]!.index && j.source === b[i]!.source && j.epoch === b[i]!.epoch && j.position === b[i]!.position);
}
