// Enqueuing a sweep: one job per cell under its deterministic id (./jobs.ts). A job already
// on the queue, finished or not, is left alone (BullMQ ignores an add with a taken id):
// enqueuing the same sweep twice adds nothing. A job there from another version of the
// package is an error, so the table never mixes two versions' numbers.
import { Queue } from 'bullmq';
import type { BenchSettings } from '../harness/bench.js';
import { version } from '../version.js';
import { openClient, probeRedis, bullConnection } from './connection.js';
import { QUEUE_NAME, sweepId, sweepJobs } from './jobs.js';
import { saveSweep } from './sweeps.js';

export interface EnqueueOptions {
  /** Tries per job before it ends as failed (default 3). */
  attempts?: number;
  /** First retry delay in seconds, doubling each time (default 10). */
  backoffSeconds?: number;
}

export interface Enqueued {
  sweep: string;
  jobs: string[];
  added: number;
  existing: number;
}

export async function enqueueSweep(url: string, settings: BenchSettings, o: EnqueueOptions = {}): Promise<Enqueued> {
  const a = await probeRedis(url);
  const attempts = o.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`--attempts must be a positive integer, got ${attempts}`);
  const backoff = 1000 * (o.backoffSeconds ?? 10);
  const jobs = sweepJobs(settings);
  const queue = new Queue(QUEUE_NAME, { connection: bullConnection(a) });
  const client = openClient(a);
  try {
    let added = 0;
    for (const j of jobs) {
      const there = await queue.getJob(j.id);
      if (there) {
        if (there.data?.version !== version) {
          throw new Error(`${a.shown} already holds job ${j.id} from medianomaly ${there.data?.version}, and this is ${version}: finish that sweep with its version, or remove it with "medianomaly queue drain --all --queue ${a.shown} --sweep ${there.data?.sweep}"`);
        }
        continue;
      }
      await queue.add(j.data.method, j.data, { jobId: j.id, attempts, backoff: { type: 'exponential', delay: backoff }, removeOnComplete: false, removeOnFail: false });
      added++;
    }
    const id = sweepId(settings);
    await saveSweep(client, { format: 'medianomaly-sweep', id, version, settings, jobs: jobs.map((j) => j.id), created: new Date().toISOString() });
    return { sweep: id, jobs: jobs.map((j) => j.id), added, existing: jobs.length - added };
  } finally {
    await queue.close();
    client.disconnect();
  }
}
