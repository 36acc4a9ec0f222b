// What a worker does with one job: the local bench's own code (runBench) on a bench of
// one cell, in a job folder under the worker's runs folder. So the run trains in a worker
// thread exactly as a local cell does, checkpoints every epoch into
// <runs>/<job id>/runs/<method>-<dataset>-s<seed>/checkpoint, and a job taken again after
// its worker died resumes from that checkpoint when the runs folder is shared (a finished
// run folder is reused, not trained again).
import { join } from 'node:path';
import { type BenchSettings, runBench } from '../harness/bench.js';
import { checkpointedEpochs, isRunFolder } from '../harness/run-folder.js';
import type { Progress } from '../methods/types.js';
import type { BenchJobData } from './jobs.js';
import type { JobResult } from './results.js';
import { packRunFolder } from './results.js';

/** What a worker reports while a job runs (BullMQ job progress). */
export interface JobProgress {
  worker: string;
  stage: 'starting' | 'training' | 'testing' | 'done';
  epoch?: number;
  epochs?: number;
  loss?: number;
}

export function jobSettings(d: BenchJobData): BenchSettings {
  return { methods: [d.method], datasets: [d.dataset], seeds: [d.seed], options: d.options };
}

export async function runJob(
  id: string,
  d: BenchJobData,
  o: { runs: string; worker: string; signal?: AbortSignal; onProgress?: (p: JobProgress) => void; onResume?: (epoch: number) => void },
): Promise<JobResult> {
  const folder = join(o.runs, id);
  // A job taken over from a worker that died: the same code resumes it; say from where.
  const runDir = join(folder, 'runs', d.dir);
  if (isRunFolder(runDir)) o.onResume?.(checkpointedEpochs(runDir) ?? 0);
  const report = (p: Progress) => o.onProgress?.({ worker: o.worker, stage: 'training', epoch: p.epoch, epochs: p.epochs, loss: p.loss });
  const result = await runBench(folder, jobSettings(d), {
    signal: o.signal,
    onProgress: (_r, p) => report(p),
    onScore: () => o.onProgress?.({ worker: o.worker, stage: 'testing' }),
  });
  const record = result.file.runs[0];
  const path = join(result.dir, record.dir);
  const files = packRunFolder(path);
  return { record, worker: o.worker, path, ...(files ? { files } : {}) };
}
