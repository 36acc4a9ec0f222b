// Redis restarted in the middle of a sweep (append-only file on): the workers and the
// waiting bench reconnect, no job is lost, and the sweep completes with every result once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchFile } from '../../src/harness/bench.js';
import { runCli, startWorker, withQueue } from './workers.js';

const SWEEP = ['bench', '--methods', 'ae', '--datasets', 'synth-brain', '--seeds', '4', '--epochs', '3', '--size', '32', '--train-count', '16', '--test-count', '8', '--batch-size', '8', '--opt', 'hidden=32', '--no-report'];
const root = mkdtempSync(join(tmpdir(), 'medianomaly-queue-restart-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

withQueue(test, (fx) => {

  test('Redis restarted mid-sweep: the sweep completes, each result once', async () => {
    const w = startWorker(fx.redis.url, join(root, 'runs'), ['--name', 'steady']);
    fx.workers.push(w);
    let restarted: Promise<void> | null = null;
    const r = await runCli([...SWEEP, '--queue', fx.redis.url, '--out', join(root, 'out')], root, (stderr) => {
      // After the first job is done, with the others waiting or running: stop Redis, start it again.
      if (!restarted && /1\/4 done/.test(stderr)) restarted = fx.redis.restart(1500);
    });
    assert.ok(restarted, `no restart happened: ${r.stderr}`);
    await restarted;
    assert.is(r.code, 0, r.stderr + w.log());
    assert.match(r.stderr, /4\/4 done, 0 running, 0 failed/);
    const f = JSON.parse(readFileSync(join(root, 'out', 'bench.json'), 'utf8')) as BenchFile;
    assert.is(f.status, 'complete');
    assert.equal(f.runs.map((x) => x.seed), [0, 1, 2, 3]);
    assert.is((w.log().match(/: done,/g) ?? []).length, 4);
  });
});

test.run();
