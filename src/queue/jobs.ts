// One queue job per method × dataset × seed of a bench: what it carries and its id.
//
// The id is a hash of everything that decides the cell's numbers (method, dataset spec,
// the options the method gets, seed), so the same sweep enqueued again names the same
// jobs and BullMQ adds nothing; a finished job is kept and never run again. The package
// version and the method's option schema travel with the job (not in the id): a worker of
// another version refuses the job with a clear error instead of filling the table with
// numbers of other code.
import { createHash } from 'node:crypto';
import { currentBackend } from '../engine/index.js';
import { methods } from '../methods/registry.js';
import { type BenchSettings, benchOptionsFor, plannedRuns } from '../harness/bench.js';
import type { DatasetSpec } from '../harness/run-folder.js';
import { version } from '../version.js';

/** The BullMQ queue every sweep uses; sweeps are told apart by their records (./sweeps.ts). */
export const QUEUE_NAME = 'medianomaly-bench';
export const JOB_FORMAT = 'medianomaly-bench-job';

export interface BenchJobData {
  format: typeof JOB_FORMAT;
  /** The enqueuing CLI's package version. */
  version: string;
  /** Hash of the method's option schema (names, types, defaults, ranges). */
  schema: string;
  /** The enqueuing CLI's compute backend (cpu, ts, ...): other kernels give other last bits. */
  backend: string;
  sweep: string;
  method: string;
  dataset: DatasetSpec;
  seed: number;
  /** The bench options this method gets (benchOptionsFor), without the seed. */
  options: Record<string, unknown>;
  /** The run folder's name in the bench folder (runs/<dir>). */
  dir: string;
}

/** JSON with object keys sorted, so equal values hash alike whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function hash(v: unknown, n = 16): string {
  return createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, n);
}

export function schemaHash(method: string): string {
  return hash(methods.info(method).options);
}

/** The sweep's id: its settings (methods, datasets, seeds, options), as bench.json compares them. */
export function sweepId(s: BenchSettings): string {
  return hash({ m: s.methods, d: s.datasets, s: s.seeds, o: s.options }, 12);
}

/** The job id of a cell: readable prefix + hash of what decides its numbers (no ':', which BullMQ keys use). */
export function jobId(d: Pick<BenchJobData, 'method' | 'dataset' | 'seed' | 'options' | 'dir'>): string {
  return `${d.dir}-${hash({ method: d.method, dataset: d.dataset, seed: d.seed, options: d.options })}`.replace(/:/g, '_');
}

/** Every job of a sweep, in the order a local bench runs them. */
export function sweepJobs(s: BenchSettings): Array<{ id: string; data: BenchJobData }> {
  const sweep = sweepId(s);
  return plannedRuns(s).map((p) => {
    const data: BenchJobData = {
      format: JOB_FORMAT,
      version,
      schema: schemaHash(p.method),
      backend: currentBackend(),
      sweep,
      method: p.method,
      dataset: p.spec,
      seed: p.seed,
      options: benchOptionsFor(p.method, s.options),
      dir: p.dir.replace(/^runs[\\/]/, ''),
    };
    return { id: jobId(data), data };
  });
}

/** Why this process cannot run `d` faithfully, or null when it can. */
export function mismatch(d: BenchJobData): string | null {
  if (d?.format !== JOB_FORMAT) return `it is not a medianomaly bench job (format ${JSON.stringify(d?.format)})`;
  if (d.version !== version) return `it was enqueued by medianomaly ${d.version} and this worker runs ${version}; run the same version on every worker and on the enqueuing machine`;
  if (!methods.names().includes(d.method)) return `this worker (medianomaly ${version}) has no method "${d.method}"`;
  if (d.schema !== schemaHash(d.method)) return `the options of "${d.method}" differ between the enqueuing CLI and this worker (config schema ${d.schema} vs ${schemaHash(d.method)}); update them to the same code`;
  if (d.backend !== currentBackend()) return `it was enqueued on the ${d.backend} backend and this worker computes on ${currentBackend()}, which gives other last bits; run every machine on one backend (medianomaly backends, MEDIANOMALY_BACKEND)`;
  return null;
}
