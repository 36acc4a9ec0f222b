// A finished job's result: the run's record (metrics, seconds, images) and its run
// folder's files, kept in Redis under one key written with SET NX, so a job that runs
// twice (a worker thought dead that was only slow) writes its result once and the first
// stands. The enqueuing machine rebuilds the run folders from these (or, when the runs
// folder is shared, copies them from there) and writes the bench folder with the local
// bench's own code.
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { RunRecord } from '../harness/summary.js';
import { CHECKPOINT_DIR } from '../harness/run-folder.js';

export interface JobResult {
  record: RunRecord;
  worker: string;
  /** The run folder on the worker's machine (copied from there when it is reachable). */
  path: string;
  /** The run folder's files (base64), absent when they exceed the inline limit. */
  files?: Record<string, string>;
}

/** Run folders up to this size travel through Redis; larger ones need the shared runs folder. */
export const INLINE_LIMIT = 64 * 1024 * 1024;

export const resultKey = (id: string) => `medianomaly:result:${id}`;

/** The files of a finished run folder (not its checkpoint, removed once trained, nor temp files), or null when too big. */
export function packRunFolder(dir: string): Record<string, string> | null {
  const files: Record<string, string> = {};
  let bytes = 0;
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (f === CHECKPOINT_DIR || f.startsWith('.') || !lstatSync(p).isFile()) continue;
    const b = readFileSync(p);
    bytes += b.length;
    if (bytes > INLINE_LIMIT) return null;
    files[f] = b.toString('base64');
  }
  return files;
}

/** Stores the result unless one is there; true when this call wrote it. */
export async function storeResult(client: Redis, id: string, r: JobResult): Promise<boolean> {
  return (await client.set(resultKey(id), JSON.stringify(r), 'NX')) === 'OK';
}

export async function readResult(client: Redis, id: string): Promise<JobResult | null> {
  const s = await client.get(resultKey(id));
  return s ? (JSON.parse(s) as JobResult) : null;
}

export async function dropResult(client: Redis, id: string): Promise<void> {
  await client.del(resultKey(id));
}

/** True when `path` is a run folder this machine can read (a shared runs folder). */
export function reachable(path: string): boolean {
  return existsSync(join(path, 'metrics.json'));
}
