// A finished job's result: the run's record (metrics, seconds, images) and its run
// folder's files, kept in Redis as one hash (the record as JSON, each file as raw bytes:
// no base64, no multi-megabyte JSON string). It is written under a temporary key and
// renamed with RENAMENX, so a job that runs twice (a worker thought dead that was only
// slow) writes its result once, whole, and the first stands. The enqueuing machine rebuilds the run folders from these (or, when the runs
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
  /** The run folder's files, absent when they exceed the inline limit. */
  files?: Record<string, Buffer>;
}

/** Run folders up to this size travel through Redis; larger ones need the shared runs folder. */
export const INLINE_LIMIT = 64 * 1024 * 1024;

export const resultKey = (id: string) => `medianomaly:result:${id}`;

/** The files of a finished run folder (not its checkpoint, removed once trained, nor temp files), or null when too big. */
export function packRunFolder(dir: string): Record<string, Buffer> | null {
  const files: Record<string, Buffer> = {};
  let bytes = 0;
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (f === CHECKPOINT_DIR || f.startsWith('.') || !lstatSync(p).isFile()) continue;
    const b = readFileSync(p);
    bytes += b.length;
    if (bytes > INLINE_LIMIT) return null;
    files[f] = b;
  }
  return files;
}

const FILE_FIELD = 'file:';

/** Stores the result unless one is there; true when this call wrote it. */
export async function storeResult(client: Redis, id: string, r: JobResult): Promise<boolean> {
  const key = resultKey(id);
  const tmp = `${key}:partial:${r.worker}:${process.pid}`;
  const { files, ...small } = r;
  const fields: Record<string, string | Buffer> = { result: JSON.stringify(small) };
  for (const [name, b] of Object.entries(files ?? {})) fields[FILE_FIELD + name] = b;
  await client.del(tmp);
  await client.hset(tmp, fields);
  const moved = await client.renamenx(tmp, key);
  if (!moved) await client.del(tmp);
  return moved === 1;
}

/** The result without its files (HGET of the record alone). */
export async function readRecord(client: Redis, id: string): Promise<JobResult | null> {
  const s = await client.hget(resultKey(id), 'result');
  return s ? (JSON.parse(s) as JobResult) : null;
}

export async function readResult(client: Redis, id: string): Promise<JobResult | null> {
  const h = await client.hgetallBuffer(resultKey(id));
  if (!h.result) return null;
  const r = JSON.parse(h.result.toString('utf8')) as JobResult;
  const names = Object.keys(h).filter((k) => k.startsWith(FILE_FIELD));
  if (names.length) r.files = Object.fromEntries(names.map((k) => [k.slice(FILE_FIELD.length), h[k]]));
  return r;
}

export async function dropResult(client: Redis, id: string): Promise<void> {
  await client.del(resultKey(id));
}

/** True when `path` is a run folder this machine can read (a shared runs folder). */
export function reachable(path: string): boolean {
  return existsSync(join(path, 'metrics.json'));
}
