// The end of a queued sweep: each job's run folder brought into <bench>/runs/ (copied from
// a shared runs folder when this machine sees it, else rebuilt from the files stored with
// the result), then the local bench's own runBench over the whole sweep, which finds every
// run finished and writes bench.json and results.md exactly as a local bench does.
// A run folder already complete in the bench folder is kept: writing is idempotent.
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { type BenchResult, runBench } from '../harness/bench.js';
import { METRICS_FILE, RUN_FILE, isRunFolder, readRunFile } from '../harness/run-folder.js';
import { CHECKPOINT_DIR } from '../harness/run-folder.js';
import { sweepJobs } from './jobs.js';
import { readRecord, readResult, reachable } from './results.js';
import type { SweepRecord } from './sweeps.js';

function complete(dir: string): boolean {
  return isRunFolder(dir) && readRunFile(dir).status === 'complete' && existsSync(join(dir, METRICS_FILE));
}

/** Writes the run folder of one job into `dest` once (temp folder, then rename). */
async function bringRun(client: Redis, id: string, dest: string): Promise<void> {
  if (complete(dest)) return;
  // The record first: from a shared runs folder the files need not cross the network.
  const small = await readRecord(client, id);
  const r = small && !reachable(small.path) ? await readResult(client, id) : small;
  if (!r) throw new Error(`job ${id} has no stored result; is it finished? (medianomaly queue status)`);
  const tmp = `${dest}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  if (reachable(r.path)) {
    cpSync(r.path, tmp, { recursive: true, filter: (src) => !src.startsWith(join(r.path, CHECKPOINT_DIR)) });
  } else if (r.files) {
    for (const [name, bytes] of Object.entries(r.files)) writeFileSync(join(tmp, name), bytes);
  } else {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`job ${id}: its run folder (${r.path} on ${r.worker}) is too big to travel through Redis and is not reachable here; mount the workers' --runs folder on this machine`);
  }
  if (!existsSync(join(tmp, RUN_FILE))) throw new Error(`job ${id}: the result's run folder has no ${RUN_FILE}`);
  // An incomplete leftover (an earlier local try) gives way to the finished run.
  if (existsSync(dest) && !complete(dest)) rmSync(dest, { recursive: true, force: true });
  if (existsSync(dest)) rmSync(tmp, { recursive: true, force: true });
  else renameSync(tmp, dest);
}

export async function collectSweep(client: Redis, sweep: SweepRecord, out: string): Promise<BenchResult> {
  const dir = resolve(out);
  for (const j of sweepJobs(sweep.settings)) {
    const dest = join(dir, 'runs', j.data.dir);
    mkdirSync(join(dir, 'runs'), { recursive: true });
    await bringRun(client, j.id, dest);
  }
  return runBench(dir, sweep.settings);
}
