// The queue path's cost, measured in one run against its own redis-server (127.0.0.1,
// append-only file on, as the tests run it):
//  1. queue mechanics per job: N trivial jobs through BullMQ exactly as a sweep's jobs
//     go (add with a deterministic id, a Worker with the sweep's lock settings takes it,
//     the result stored once with SET NX, completion seen by the bench's state poll);
//     the per-job figure is the wall time over N with 1 and 4 jobs at once.
//  2. end to end, many tiny cells: the same sweep of tiny runs locally (`bench`) and on
//     the queue with one worker process (`bench --queue`), both 1 thread: the difference
//     over the number of cells is the queue's overhead per job (target < 50 ms).
//  3. 2 workers × 1 thread vs 1 local run × 2 threads on one sweep of small runs.
//
//   node --import tsx bench/queue.ts [--jobs 200] [--cells 12] [--rounds 2] [--skip-scaling]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { currentBackend } from '../src/engine/index.js';
import { bullConnection, openClient } from '../src/queue/connection.js';
import { storeResult } from '../src/queue/results.js';
import { sweepState } from '../src/queue/state.js';
import { parseQueueUrl } from '../src/queue/url.js';
import { NO_REDIS, startRedis } from '../test/queue/redis.js';

const argN = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? d : Number(process.argv[i + 1]);
};
const JOBS = argN('jobs', 200);
const CELLS = argN('cells', 12);
const ROUNDS = argN('rounds', 2);
const BIN = new URL('../bin/medianomaly.js', import.meta.url).pathname;

if (NO_REDIS) {
  console.error(`bench queue: ${NO_REDIS}`);
  process.exit(2);
}
const redis = await startRedis();
const root = mkdtempSync(join(tmpdir(), 'medianomaly-bench-queue-'));
const a = parseQueueUrl(redis.url);
console.log(`bench queue: redis-server on ${redis.url}, backend ${currentBackend()}, load ${loadavg()[0].toFixed(1)} on this machine`);
if (currentBackend() === 'ts') console.log('bench queue: the ts backend runs one thread, so "2 threads" below means 1; build the native addon (npm run build:native) for the thread comparison');

async function mechanics(concurrency: number): Promise<number> {
  const name = `mechanics-${concurrency}`;
  const queue = new Queue(name, { connection: bullConnection(a) });
  const client = openClient(a);
  const worker = new Worker(
    name,
    async (job) => {
      await storeResult(client, `${name}-${job.id}`, { record: { method: 'x', dataset: 'y', seed: 0, dir: 'd', metrics: {} as never, seconds: 0 }, worker: 'bench', path: '/nowhere', files: { 'metrics.json': Buffer.from('{}') } });
      return { worker: 'bench' };
    },
    { connection: bullConnection(a), concurrency, lockDuration: 30000, stalledInterval: 30000, maxStalledCount: 3 },
  );
  await worker.waitUntilReady();
  const ids = Array.from({ length: JOBS }, (_, i) => `job-${i}-0123456789abcdef`);
  const t0 = performance.now();
  for (const id of ids) await queue.add('x', { i: id }, { jobId: id, attempts: 3, backoff: { type: 'exponential', delay: 10000 }, removeOnComplete: false, removeOnFail: false });
  for (;;) {
    const s = await sweepState(queue, ids);
    if (s.done === s.total) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const ms = (performance.now() - t0) / JOBS;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  client.disconnect();
  return ms;
}

function cli(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: root, env: { ...process.env, FORCE_COLOR: '0', MEDIANOMALY_BACKEND: currentBackend(), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? res((performance.now() - t0) / 1000) : rej(new Error(`medianomaly ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`))));
  });
}

/** Resolves once every worker has said it is on the queue. */
function ready(ws: Array<ReturnType<typeof spawn>>): Promise<void> {
  return Promise.all(ws.map((w) => new Promise<void>((r) => {
    let t = '';
    w.stderr!.on('data', (d) => {
      t += d;
      if (/medianomaly: worker .* on /.test(t)) r();
    });
  }))).then(() => {});
}

function workers(n: number, runs: string, threads: string): Array<ReturnType<typeof spawn>> {
  return Array.from({ length: n }, (_, i) =>
    spawn(process.execPath, [BIN, 'worker', '--queue', redis.url, '--runs', runs, '--name', `bench-w${i + 1}`], {
      env: { ...process.env, FORCE_COLOR: '0', MEDIANOMALY_BACKEND: currentBackend(), MEDIANOMALY_THREADS: threads },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
}

async function stop(ws: Array<ReturnType<typeof spawn>>): Promise<void> {
  await Promise.all(ws.map((w) => new Promise<void>((r) => (w.exitCode !== null ? r() : (w.once('exit', () => r()), w.kill('SIGTERM'))))));
}

try {
  for (const c of [1, 4]) console.log(`queue mechanics: ${JOBS} trivial jobs, ${c} at once: ${(await mechanics(c)).toFixed(1)} ms per job (add, take, store result, complete, seen by the poll)`);

  // Many tiny cells: one seed each of `seeds` seeds, so the cells are alike.
  const tiny = (hidden: number) => ['bench', '--methods', 'ae', '--datasets', 'synth-brain', '--seeds', String(CELLS), '--epochs', '1', '--size', '32', '--train-count', '8', '--test-count', '4', '--batch-size', '8', '--opt', `hidden=${hidden}`, '--no-report'];
  // The worker is started and ready first; local and queued runs alternate (the machine's load drifts).
  const w1 = workers(1, join(root, 'tiny-runs'), '1');
  await ready(w1);
  const diffs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const tag = `-r${round}`;
    const local = await cli([...tiny(32 + round), '--out', join(root, `tiny-local${tag}`)], { MEDIANOMALY_THREADS: '1' });
    // A fresh sweep each round (another hidden size), so the queue runs every job again.
    const queued = await cli([...tiny(32 + round), '--queue', redis.url, '--out', join(root, `tiny-queued${tag}`)], { MEDIANOMALY_THREADS: '1' });
    const local2 = await cli([...tiny(32 + round), '--out', join(root, `tiny-local2${tag}`)], { MEDIANOMALY_THREADS: '1' });
    const l = (local + local2) / 2;
    diffs.push((1000 * (queued - l)) / CELLS);
    console.log(`tiny cells round ${round + 1} (${CELLS} × ae, 8 images, 1 epoch), 1 thread: local ${local.toFixed(1)} / ${local2.toFixed(1)} s, queue with 1 worker ${queued.toFixed(1)} s: ${diffs[round].toFixed(0)} ms per job`);
  }
  await stop(w1);
  diffs.sort((x, y) => x - y);
  const mid = diffs.length / 2;
  const median = diffs.length % 2 ? diffs[Math.floor(mid)] : (diffs[mid - 1] + diffs[mid]) / 2;
  console.log(`queue overhead per tiny job, end to end (median of ${ROUNDS} rounds): ${median.toFixed(0)} ms`);

  if (!process.argv.includes('--skip-scaling')) {
    const small = ['bench', '--methods', 'ae,ae-l1', '--datasets', 'synth-brain,synth-cxr', '--seeds', '2', '--epochs', '3', '--size', '32', '--train-count', '64', '--test-count', '16', '--batch-size', '16', '--no-report'];
    const l2 = await cli([...small, '--out', join(root, 'small-local')], { MEDIANOMALY_THREADS: '2' });
    const w2 = workers(2, join(root, 'small-runs'), '1');
    await ready(w2);
    const q2 = await cli([...small, '--queue', redis.url, '--out', join(root, 'small-queued')], { MEDIANOMALY_THREADS: '1' });
    await stop(w2);
    console.log(`8 small cells (ae, ae-l1 × 2 datasets × 2 seeds, 64 images, 3 epochs): 1 local × 2 threads ${l2.toFixed(1)} s, 2 workers × 1 thread ${q2.toFixed(1)} s: ${(l2 / q2).toFixed(2)}× the local throughput`);
  }
  console.log(`load at the end: ${loadavg()[0].toFixed(1)}`);
} finally {
  await redis.stop();
  rmSync(root, { recursive: true, force: true });
}
