// Managing a sweep: clear errors for a wrong URL, an unreachable Redis and a job from
// another version; a job that keeps failing ends as failed (retried with backoff first),
// the sweep reports it instead of hanging, and `queue retry` runs it again without
// duplicating anything.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { BenchSettings } from '../../src/harness/bench.js';
import { bullConnection, probeRedis } from '../../src/queue/connection.js';
import { enqueueSweep } from '../../src/queue/enqueue.js';
import { QUEUE_NAME, sweepJobs } from '../../src/queue/jobs.js';
import { parseQueueUrl } from '../../src/queue/url.js';
import { freePort } from './redis.js';
import { runCli, startWorker, withQueue } from './workers.js';

const root = mkdtempSync(join(tmpdir(), 'medianomaly-queue-manage-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const run = (args: string[]) => runCli(args, root);

const SETTINGS: BenchSettings = {
  methods: ['ae'],
  datasets: [{ name: 'synth-brain', options: { size: 32, count: { train: 16, testNormal: 4, testAbnormal: 4 } } as BenchSettings['datasets'][number]['options'] }],
  seeds: [0],
  options: { epochs: 1, size: 32, batchSize: 8, hidden: 32 },
};

test('a bad --queue value names the flag and the form it takes', () => {
  for (const bad of ['', 'localhost:6379', 'http://127.0.0.1:6379', 'redis://127.0.0.1:99999', 'redis://127.0.0.1:6379/x', 'redis://127.0.0.1:6379/99']) {
    assert.throws(() => parseQueueUrl(bad), /--queue: .*redis:\/\/HOST:PORT\[\/DB\]/, bad);
  }
  const a = parseQueueUrl('redis://:secret@10.0.0.5:6380/2');
  assert.equal([a.host, a.port, a.db, a.password, a.tls], ['10.0.0.5', 6380, 2, 'secret', false]);
  assert.not.match(a.shown, /secret/);
  assert.is(parseQueueUrl('rediss://h').port, 6379);
});

test('an unreachable Redis is an error at once, from bench --queue and worker alike', async () => {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const err = await probeRedis(url).then(() => null, (x: Error) => x);
  assert.match(err?.message ?? '', /cannot use Redis at/);
  const r = await run(['bench', '--methods', 'ae', '--datasets', 'synth-brain', '--seeds', '1', '--epochs', '1', '--train-count', '16', '--test-count', '8', '--queue', url, '--no-report']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /--queue: cannot use Redis at redis:\/\/127\.0\.0\.1:\d+\/0: .*(ECONNREFUSED|connect)/);
  const w = await run(['worker', '--queue', url]);
  assert.is(w.code, 1);
  assert.match(w.stderr, /cannot use Redis at/);
});

withQueue(test, (fx) => {

  test('a job of another version: enqueue refuses to mix, a worker fails it with the reason', async () => {
    const job = sweepJobs(SETTINGS)[0];
    const queue = new Queue(QUEUE_NAME, { connection: bullConnection(parseQueueUrl(fx.redis.url)) });
    await queue.add('ae', { ...job.data, version: '0.0.1-old' }, { jobId: job.id, attempts: 3 });
    const e = await enqueueSweep(fx.redis.url, SETTINGS).then(() => null, (x: Error) => x);
    assert.ok(e, 'enqueue mixed versions');
    assert.match(e!.message, /holds job .* from medianomaly 0\.0\.1-old, and this is /);
    const w = startWorker(fx.redis.url, join(root, 'runs-version'), ['--name', 'vcheck']);
    fx.workers.push(w);
    let state = '';
    for (let i = 0; i < 400 && state !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      state = await (await queue.getJob(job.id))!.getState();
    }
    const failed = (await queue.getJob(job.id))!;
    assert.is(state, 'failed');
    assert.match(failed.failedReason, /worker vcheck cannot run job .*: it was enqueued by medianomaly 0\.0\.1-old and this worker runs/);
    assert.is(failed.attemptsMade, 1, 'an unrecoverable mismatch is not retried');
    await failed.remove();
    await queue.close();
    await w.stop();
  });

  test('a job that keeps failing ends as failed after its retries, is reported, and retry runs it once more', async () => {
    const runs = join(root, 'runs-retry');
    const e = await enqueueSweep(fx.redis.url, SETTINGS, { attempts: 2, backoffSeconds: 0.1 });
    assert.is(e.added, 1);
    // Something in the job folder that the run cannot get past: bench.json that is not JSON.
    const jobDir = join(runs, e.jobs[0]);
    mkdirSync(jobDir, { recursive: true });
    writeFileSync(join(jobDir, 'bench.json'), 'not json');
    const w = startWorker(fx.redis.url, runs, ['--name', 'retrier']);
    fx.workers.push(w);
    const first = await run(['queue', 'results', '--queue', fx.redis.url, '--wait', '--out', join(root, 'retry-out'), '--no-report']);
    assert.is(first.code, 1, first.stderr);
    assert.match(first.stderr, /failed: ae-synth-brain-s0-[0-9a-f]{16} after 2 attempts \(last on retrier\): .*JSON/);
    assert.match(first.stderr, /no table was written\. Retry with: medianomaly queue retry/);
    rmSync(join(jobDir, 'bench.json'));
    const retry = await run(['queue', 'retry', '--queue', fx.redis.url]);
    assert.match(retry.stdout, /1 failed job back on the queue/);
    const second = await run(['queue', 'results', '--queue', fx.redis.url, '--wait', '--out', join(root, 'retry-out'), '--no-report']);
    assert.is(second.code, 0, second.stderr);
    assert.match(second.stdout, /\| ae /);
    // Three starts in all (two failed tries, one after the retry), one result.
    assert.is((w.log().match(/: started \(attempt/g) ?? []).length, 3);
    assert.is((w.log().match(/: done,/g) ?? []).length, 1);
    const client = new Redis(fx.redis.port, '127.0.0.1');
    assert.equal(await client.keys('medianomaly:result:*'), [`medianomaly:result:${e.jobs[0]}`]);
    client.disconnect();
    // drain --all removes the sweep: enqueuing it again adds its job afresh.
    const drain = await run(['queue', 'drain', '--all', '--queue', fx.redis.url]);
    assert.match(drain.stdout, /1 job removed, 0 kept/);
    const status = await run(['queue', 'status', '--queue', fx.redis.url]);
    assert.match(status.stderr, /no sweep on redis:\/\/127\.0\.0\.1:\d+\/0/);
  });
});

test.run();
