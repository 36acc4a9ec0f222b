// `medianomaly worker`: a BullMQ Worker taking bench jobs. Each job runs in a worker
// thread (./run-job.ts), so this process's event loop stays free to renew the job's lock
// while the kernels compute. A worker that dies stops renewing: the lock expires after
// lockSeconds, another worker's stalled-job check puts the job back, and it is taken
// again (resuming from its checkpoint when the runs folder is shared). A job that fails
// is retried with exponential backoff (attempts are set at enqueue, ./enqueue.ts); a job
// this worker cannot run faithfully (another version, another option schema) fails at
// once, unrecoverably, with the reason.
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import { BenchInterrupted } from '../harness/bench.js';
import { openClient, probeRedis, bullConnection } from './connection.js';
import { type BenchJobData, QUEUE_NAME, mismatch } from './jobs.js';
import { type JobProgress, runJob } from './run-job.js';
import { type JobResult, storeResult } from './results.js';

export interface WorkerSettings {
  queue: string;
  /** Jobs run at once (each in its own thread). */
  concurrency?: number;
  /** The runs folder (shared between machines: resume across workers). */
  runs?: string;
  /** Seconds a job's lock lasts without renewal: how soon a dead worker's job is taken again. */
  lockSeconds?: number;
  /** Worker name shown in progress; default host:pid. */
  name?: string;
  onEvent?: (line: string) => void;
}

export interface RunningWorker {
  name: string;
  /** Stops taking jobs; running ones are interrupted after their current step and put back (no attempt lost). */
  stop(): Promise<void>;
  /** Resolves when the worker has closed. */
  closed: Promise<void>;
}

export const DEFAULT_RUNS = 'queue-runs';

export async function startWorker(s: WorkerSettings): Promise<RunningWorker> {
  const address = await probeRedis(s.queue);
  const name = s.name ?? `${hostname()}:${process.pid}`;
  const runs = resolve(s.runs ?? DEFAULT_RUNS);
  const concurrency = s.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`--concurrency must be a positive integer, got ${concurrency}`);
  const lockMs = Math.round(1000 * (s.lockSeconds ?? 30));
  if (!(lockMs >= 500)) throw new RangeError(`--lock-seconds must be at least 0.5, got ${s.lockSeconds}`);
  const client = openClient(address);
  const stopping = new AbortController();
  const say = s.onEvent ?? (() => {});

  const processor = async (job: Job<BenchJobData, Omit<JobResult, 'files'>>, token?: string) => {
    const why = mismatch(job.data);
    if (why) throw new UnrecoverableError(`worker ${name} cannot run job ${job.id}: ${why}`);
    say(`${job.id}: started (attempt ${job.attemptsMade + 1})`);
    let last = 0;
    const progress = (p: JobProgress) => {
      const now = Date.now();
      if (p.stage === 'training' && now - last < 1000) return; // one update a second is plenty
      if (p.stage === 'training') last = now;
      job.updateProgress(p as unknown as object).catch(() => {});
    };
    progress({ worker: name, stage: 'starting' });
    try {
      const r = await runJob(job.id!, job.data, { runs, worker: name, signal: stopping.signal, onProgress: progress, onResume: (e) => say(`${job.id}: its run folder is here, resuming from the checkpoint of epoch ${e}`) });
      await storeResult(client, job.id!, r);
      say(`${job.id}: done, AUROC ${(100 * r.record.metrics.image.auroc).toFixed(1)}`);
      const { files: _files, ...small } = r;
      return small;
    } catch (e) {
      if (e instanceof BenchInterrupted && stopping.signal.aborted) {
        // Stopped by us, not failed: back to the queue at once, its attempt not counted.
        await job.moveToDelayed(Date.now(), token);
        say(`${job.id}: interrupted after its last checkpoint, put back on the queue`);
        throw new DelayedError();
      }
      say(`${job.id}: failed: ${(e as Error).message}`);
      throw e;
    }
  };

  const worker = new Worker<BenchJobData, Omit<JobResult, 'files'>>(QUEUE_NAME, processor, {
    connection: bullConnection(address),
    concurrency,
    name,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // A job whose worker died more than this often is failed rather than tried for ever.
    maxStalledCount: 3,
  });
  worker.on('error', () => {}); // connection losses: ioredis reconnects, BullMQ carries on
  await worker.waitUntilReady();
  const closed = new Promise<void>((res) => worker.on('closed', () => res()));
  return {
    name,
    closed,
    async stop() {
      stopping.abort();
      await worker.close();
      client.disconnect();
    },
  };
}
