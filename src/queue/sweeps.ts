// A sweep's record in Redis: its settings and job ids, so `queue status|results|retry|drain`
// on any machine knows the sweep without the enqueuing command line. Sweeps are listed
// newest first; commands without --sweep take the newest.
import type { Redis } from 'ioredis';
import type { BenchSettings } from '../harness/bench.js';

export interface SweepRecord {
  format: 'medianomaly-sweep';
  id: string;
  version: string;
  settings: BenchSettings;
  jobs: string[];
  created: string;
}

const key = (id: string) => `medianomaly:sweep:${id}`;
const LIST = 'medianomaly:sweeps';

export async function saveSweep(c: Redis, r: SweepRecord): Promise<void> {
  // The first record stands (same id = same settings); the list orders sweeps by their latest enqueue.
  await c.set(key(r.id), JSON.stringify(r), 'NX');
  await c.zadd(LIST, Date.now(), r.id);
}

export async function removeSweep(c: Redis, id: string): Promise<void> {
  await c.del(key(id));
  await c.zrem(LIST, id);
}

export async function sweepIds(c: Redis): Promise<string[]> {
  return c.zrevrange(LIST, 0, -1);
}

/** The sweep `id`, or the newest one; an error saying what there is when none matches. */
export async function findSweep(c: Redis, id: string | undefined, shown: string): Promise<SweepRecord> {
  const ids = await sweepIds(c);
  if (!ids.length) throw new Error(`no sweep on ${shown}: enqueue one with "medianomaly bench ... --queue ${shown}"`);
  const want = id ?? ids[0];
  const match = ids.filter((x) => x.startsWith(want));
  if (match.length !== 1) throw new Error(`${match.length ? 'more than one' : 'no'} sweep on ${shown} matches "${want}"; sweeps: ${ids.join(', ')}`);
  const s = await c.get(key(match[0]));
  if (!s) throw new Error(`sweep ${match[0]} on ${shown} has no record (drained?)`);
  return JSON.parse(s) as SweepRecord;
}
