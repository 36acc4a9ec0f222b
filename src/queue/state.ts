// Where a sweep stands: each job's state, the worker running it and how far it got, the
// reason of each failure. Read from BullMQ's own job records (no bookkeeping of ours
// that could drift from the queue).
import type { Queue } from 'bullmq';
import type { JobProgress } from './run-job.js';

export interface JobView {
  id: string;
  state: 'done' | 'running' | 'waiting' | 'failed' | 'missing';
  worker?: string;
  progress?: JobProgress;
  attempts: number;
  error?: string;
}

export interface SweepState {
  total: number;
  done: number;
  running: number;
  waiting: number;
  failed: number;
  missing: number;
  jobs: JobView[];
}

function view(state: string): JobView['state'] {
  if (state === 'completed') return 'done';
  if (state === 'active') return 'running';
  if (state === 'failed') return 'failed';
  if (state === 'unknown') return 'missing';
  return 'waiting'; // waiting, delayed (backoff), prioritized, waiting-children
}

export async function sweepState(queue: Queue, ids: readonly string[]): Promise<SweepState> {
  const jobs = await Promise.all(
    ids.map(async (id): Promise<JobView> => {
      const job = await queue.getJob(id);
      if (!job) return { id, state: 'missing', attempts: 0 };
      const state = view(await job.getState());
      const progress = typeof job.progress === 'object' && job.progress ? (job.progress as unknown as JobProgress) : undefined;
      const worker = (job.returnvalue as { worker?: string } | null)?.worker ?? progress?.worker ?? job.processedBy;
      return {
        id,
        state,
        attempts: job.attemptsMade,
        ...(worker ? { worker } : {}),
        ...(progress ? { progress } : {}),
        ...(state === 'failed' ? { error: job.failedReason } : {}),
      };
    }),
  );
  const count = (s: JobView['state']) => jobs.filter((j) => j.state === s).length;
  return { total: ids.length, done: count('done'), running: count('running'), waiting: count('waiting'), failed: count('failed'), missing: count('missing'), jobs };
}

/** "7/12 done, 2 running, 0 failed, 3 waiting". */
export function stateLine(s: SweepState): string {
  return `${s.done}/${s.total} done, ${s.running} running, ${s.failed} failed, ${s.waiting} waiting${s.missing ? `, ${s.missing} missing (drained?)` : ''}`;
}

/** One line per running job: "ae-synth-brain-s0 on host:123, epoch 3/5". */
export function runningLines(s: SweepState): string[] {
  return s.jobs
    .filter((j) => j.state === 'running')
    .map((j) => {
      const p = j.progress;
      const where = p?.stage === 'testing' ? 'testing' : p?.epoch ? `epoch ${p.epoch}/${p.epochs}` : 'starting';
      return `${j.id.replace(/-[0-9a-f]{16}$/, '')} on ${j.worker ?? '?'}, ${where}`;
    });
}
