// Waiting for a sweep: polls its jobs' states until every job is done or failed (a failed
// job ends the wait: the sweep reports it rather than hangs). While Redis is away (a
// restart) the poll waits for it and says so; BullMQ keeps the jobs in its append-only file.
import { Queue } from 'bullmq';
import { bullConnection } from './connection.js';
import { QUEUE_NAME } from './jobs.js';
import { type SweepState, sweepState } from './state.js';
import type { QueueAddress } from './url.js';

export interface WatchOptions {
  pollMs?: number;
  signal?: AbortSignal;
  onState?: (s: SweepState) => void;
  /** Called once each time a poll has waited `stallMs` for Redis. */
  onRedisWait?: (seconds: number) => void;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((res) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      res();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

export async function watchSweep(a: QueueAddress, ids: readonly string[], o: WatchOptions = {}): Promise<SweepState> {
  const queue = new Queue(QUEUE_NAME, { connection: bullConnection(a) });
  queue.on('error', () => {}); // reconnects by itself
  try {
    for (;;) {
      const t0 = Date.now();
      const timer = setInterval(() => o.onRedisWait?.(Math.round((Date.now() - t0) / 1000)), 5000);
      let s: SweepState;
      try {
        s = await sweepState(queue, ids);
      } finally {
        clearInterval(timer);
      }
      o.onState?.(s);
      if (s.done + s.failed + s.missing === s.total) return s;
      if (o.signal?.aborted) return s;
      await sleep(o.pollMs ?? 500, o.signal);
    }
  } finally {
    await queue.close().catch(() => {});
  }
}
