// `bench --queue URL`: enqueue the sweep (nothing is added for jobs already there), show
// jobs done / running / failed with the worker each runs on, and when every job is done
// write the bench folder with the local bench's code (src/queue/collect.ts). `--detach`
// returns after enqueuing; `queue results --wait` (or the same bench command) re-attaches.
import type { BenchSettings } from '../../harness/bench.js';
import { openClient, probeRedis } from '../../queue/connection.js';
import { collectSweep } from '../../queue/collect.js';
import { enqueueSweep } from '../../queue/enqueue.js';
import { type SweepState, runningLines, stateLine } from '../../queue/state.js';
import { type SweepRecord, findSweep } from '../../queue/sweeps.js';
import { watchSweep } from '../../queue/watch.js';
import { version } from '../../version.js';
import { benchOutput } from './bench-output.js';

export interface QueueBenchArgs {
  queue: string;
  detach?: boolean;
  attempts?: number;
  report?: boolean;
  json?: boolean;
}

/** A progress display: redrawn in place on a terminal, a line per change otherwise. */
function display(stream: NodeJS.WriteStream = process.stderr): { show: (s: SweepState) => void; note: (line: string) => void; end: () => void } {
  let drawn = 0;
  let lastKey = '';
  const clear = () => {
    if (stream.isTTY && drawn) stream.write(`\x1b[${drawn}A\x1b[J`);
    drawn = 0;
  };
  return {
    show(s) {
      const lines = [`queue: ${stateLine(s)}`, ...runningLines(s).map((l) => `  ${l}`)];
      if (stream.isTTY) {
        clear();
        stream.write(lines.join('\n') + '\n');
        drawn = lines.length;
        return;
      }
      const key = `${s.done}/${s.running}/${s.failed}/${s.jobs.filter((j) => j.state === 'running').map((j) => `${j.id}@${j.worker}`).join(',')}`;
      if (key !== lastKey) stream.write(lines.join('\n') + '\n');
      lastKey = key;
    },
    note(line) {
      clear();
      stream.write(line + '\n');
    },
    end: () => {
      drawn = 0;
    },
  };
}

/** Waits for the sweep, then writes and prints its bench folder; a failed job is reported (exit code 1). */
export async function attachSweep(url: string, sweep: SweepRecord, dir: string, a: { report?: boolean; json?: boolean; t0: number }): Promise<void> {
  const address = await probeRedis(url);
  if (sweep.version !== version) throw new Error(`sweep ${sweep.id} was enqueued by medianomaly ${sweep.version}, and this is ${version}: write its results with that version`);
  const d = display();
  const interrupt = new AbortController();
  const onSig = () => interrupt.abort();
  process.once('SIGINT', onSig);
  let s: SweepState;
  try {
    s = await watchSweep(address, sweep.jobs, {
      signal: interrupt.signal,
      onState: d.show,
      onRedisWait: (sec) => d.note(`queue: waiting for Redis at ${address.shown} (${sec} s); the jobs are kept in its append-only file`),
    });
  } finally {
    process.off('SIGINT', onSig);
    d.end();
  }
  if (interrupt.signal.aborted && s.done + s.failed + s.missing < s.total) {
    console.error(`medianomaly: stopped watching; the workers carry on. Re-attach with: medianomaly queue results --queue ${address.shown} --sweep ${sweep.id} --out ${dir} --wait`);
    process.exitCode = 130;
    return;
  }
  if (s.failed || s.missing) {
    for (const j of s.jobs.filter((x) => x.state === 'failed')) console.error(`failed: ${j.id} after ${j.attempts} attempt${j.attempts === 1 ? '' : 's'}${j.worker ? ` (last on ${j.worker})` : ''}: ${j.error}`);
    for (const j of s.jobs.filter((x) => x.state === 'missing')) console.error(`missing: ${j.id} is no longer on the queue (drained); enqueue the sweep again`);
    console.error(`medianomaly: the sweep has ${s.failed} failed and ${s.missing} missing job${s.failed + s.missing === 1 ? '' : 's'}; no table was written. Retry with: medianomaly queue retry --queue ${address.shown} --sweep ${sweep.id}, then re-attach with: medianomaly queue results --queue ${address.shown} --sweep ${sweep.id} --out ${dir} --wait`);
    process.exitCode = 1;
    return;
  }
  const client = openClient(address);
  try {
    console.error(`medianomaly: all ${s.total} jobs done; writing ${dir}`);
    const result = await collectSweep(client, sweep, dir);
    await benchOutput(result, a);
  } finally {
    client.disconnect();
  }
}

export async function queueBench(settings: BenchSettings, dir: string, a: QueueBenchArgs & { t0: number }): Promise<void> {
  const e = await enqueueSweep(a.queue, settings, { attempts: a.attempts });
  const shown = (await probeRedis(a.queue)).shown;
  console.error(`medianomaly: sweep ${e.sweep} on ${shown}: ${e.jobs.length} jobs, ${e.added} added, ${e.existing} already on the queue`);
  if (a.detach) {
    console.log(e.sweep);
    console.error(`medianomaly: detached. Workers: medianomaly worker --queue ${shown}; progress: medianomaly queue status --queue ${shown} --sweep ${e.sweep}; results: medianomaly queue results --queue ${shown} --sweep ${e.sweep} --out ${dir} --wait`);
    return;
  }
  const client = openClient(await probeRedis(a.queue));
  let sweep: SweepRecord;
  try {
    sweep = await findSweep(client, e.sweep, shown);
  } finally {
    client.disconnect();
  }
  await attachSweep(a.queue, sweep, dir, a);
}
