// `medianomaly queue status|results|retry|drain --queue URL [--sweep ID]`: look at and
// manage a sweep enqueued by `bench --queue` (the newest one unless --sweep names one;
// a prefix of its id is enough).
import type { Argv, CommandModule } from 'yargs';
import { Queue } from 'bullmq';
import { openClient, probeRedis, bullConnection } from '../../queue/connection.js';
import { QUEUE_NAME } from '../../queue/jobs.js';
import { dropResult } from '../../queue/results.js';
import { runningLines, stateLine, sweepState } from '../../queue/state.js';
import { type SweepRecord, findSweep, removeSweep } from '../../queue/sweeps.js';
import type { QueueAddress } from '../../queue/url.js';
import { attachSweep } from './queue-sweep.js';

interface Args {
  action: 'status' | 'results' | 'retry' | 'drain';
  queue: string;
  sweep?: string;
  out?: string;
  wait?: boolean;
  report?: boolean;
  json?: boolean;
  all?: boolean;
}

async function withSweep<T>(a: Args, fn: (address: QueueAddress, queue: Queue, sweep: SweepRecord) => Promise<T>): Promise<T> {
  const address = await probeRedis(a.queue);
  const client = openClient(address);
  const queue = new Queue(QUEUE_NAME, { connection: bullConnection(address) });
  try {
    const sweep = await findSweep(client, a.sweep, address.shown);
    return await fn(address, queue, sweep);
  } finally {
    await queue.close();
    client.disconnect();
  }
}

export const queueCommand: CommandModule<object, Args> = {
  command: 'queue <action>',
  describe: 'A sweep on a queue (bench --queue): status, results (write the bench folder), retry failed jobs, drain',
  builder: (y: Argv) =>
    y
      .positional('action', { choices: ['status', 'results', 'retry', 'drain'] as const, describe: 'status: jobs done / running / failed; results: write the bench folder (--wait for the rest); retry: failed jobs again; drain: remove jobs not running (--all: every job, its result and the sweep)' })
      .option('queue', { type: 'string', demandOption: true, describe: 'the Redis of the queue: redis://HOST:PORT[/DB]' })
      .option('sweep', { type: 'string', describe: 'sweep id or a prefix of it (default: the newest)' })
      .option('out', { type: 'string', describe: 'results: the bench folder to write (default bench-results/sweep-<id>)' })
      .option('wait', { type: 'boolean', describe: 'results: wait for the sweep with a progress display (re-attach)' })
      .option('report', { type: 'boolean', default: true, describe: 'results: write report.html (--no-report to skip it)' })
      .option('json', { type: 'boolean', describe: 'status: as JSON; results: print bench.json' })
      .option('all', { type: 'boolean', describe: 'drain: also finished jobs, their results and the sweep record' }) as never,
  handler: async (a) => {
    const t0 = Date.now();
    if (a.action === 'status') {
      await withSweep(a, async (address, queue, sweep) => {
        const s = await sweepState(queue, sweep.jobs);
        if (a.json) {
          process.stdout.write(JSON.stringify({ sweep: sweep.id, version: sweep.version, created: sweep.created, ...s }, null, 2) + '\n');
          return;
        }
        console.log(`sweep ${sweep.id} on ${address.shown} (medianomaly ${sweep.version}, enqueued ${sweep.created}): ${sweep.settings.methods.length} methods × ${sweep.settings.datasets.length} datasets × ${sweep.settings.seeds.length} seeds`);
        console.log(stateLine(s));
        for (const l of runningLines(s)) console.log(`  running: ${l}`);
        for (const j of s.jobs.filter((x) => x.state === 'failed')) console.log(`  failed: ${j.id} after ${j.attempts} attempts${j.worker ? ` (last on ${j.worker})` : ''}: ${j.error}`);
      });
      return;
    }
    if (a.action === 'results') {
      const sweep = await withSweep(a, async (address, queue, sw) => {
        const s = await sweepState(queue, sw.jobs);
        if (!a.wait && s.done < s.total) throw new Error(`sweep ${sw.id} is not finished (${stateLine(s)}); wait for it with --wait, or see: medianomaly queue status --queue ${address.shown}`);
        return sw;
      });
      await attachSweep(a.queue, sweep, a.out ?? `bench-results/sweep-${sweep.id}`, { report: a.report, json: a.json, t0 });
      return;
    }
    if (a.action === 'retry') {
      await withSweep(a, async (_address, queue, sweep) => {
        let n = 0;
        for (const id of sweep.jobs) {
          const job = await queue.getJob(id);
          if (job && (await job.getState()) === 'failed') {
            await job.retry('failed', { resetAttemptsMade: true });
            n++;
          }
        }
        console.log(`sweep ${sweep.id}: ${n} failed job${n === 1 ? '' : 's'} back on the queue`);
      });
      return;
    }
    await withSweep(a, async (address, queue, sweep) => {
      const client = openClient(address);
      let removed = 0;
      let kept = 0;
      try {
        for (const id of sweep.jobs) {
          const job = await queue.getJob(id);
          if (!job) continue;
          const state = await job.getState();
          if (state === 'active' || (state === 'completed' && !a.all)) {
            kept++;
            continue;
          }
          await job.remove();
          if (a.all) await dropResult(client, id);
          removed++;
        }
        if (a.all && kept === 0) await removeSweep(client, sweep.id);
      } finally {
        client.disconnect();
      }
      console.log(`sweep ${sweep.id}: ${removed} job${removed === 1 ? '' : 's'} removed, ${kept} kept (${a.all ? 'running' : 'running or finished'})`);
    });
  },
};
