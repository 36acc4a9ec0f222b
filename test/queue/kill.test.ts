// A worker killed with SIGKILL mid-epoch loses nothing: its job's lock expires, the other
// worker takes it and resumes from the last epoch checkpoint in the shared runs folder,
// and the result equals an uninterrupted run's; the job completes exactly once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchFile } from '../../src/harness/bench.js';
import { BIN, CLI_ENV, runCli, startWorker, withQueue } from './workers.js';

// 2 steps an epoch, 14 epochs: long enough to kill in the middle.
const SWEEP = ['bench', '--methods', 'ae', '--datasets', 'synth-brain', '--seeds', '1', '--epochs', '14', '--size', '32', '--train-count', '16', '--test-count', '8', '--batch-size', '8', '--opt', 'hidden=32', '--no-report'];

const root = mkdtempSync(join(tmpdir(), 'medianomaly-queue-kill-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const run = (args: string[]) => runCli(args, root);

/** The checkpointed epoch of the one run under `runs`, or 0. */
function checkpointed(runs: string): number {
  if (!existsSync(runs)) return 0;
  for (const job of readdirSync(runs)) {
    const p = join(runs, job, 'runs', 'ae-synth-brain-s0', 'checkpoint', 'checkpoint.json');
    if (existsSync(p)) {
      try {
        return JSON.parse(readFileSync(p, 'utf8')).epoch ?? 0;
      } catch {
        return 0; // being replaced
      }
    }
  }
  return 0;
}

withQueue(test, (fx) => {

  test('SIGKILL a worker mid-epoch: another resumes from the checkpoint; the result equals an uninterrupted run', async () => {
    const runs = join(root, 'shared-runs');
    const a = startWorker(fx.redis.url, runs, ['--name', 'doomed', '--lock-seconds', '1']);
    fx.workers.push(a);
    const sweep = run([...SWEEP, '--queue', fx.redis.url, '--out', join(root, 'queued')]);
    // Kill as soon as a few epochs are checkpointed: the worker is then inside a later epoch.
    for (let i = 0; i < 600 && checkpointed(runs) < 3; i++) await new Promise((r) => setTimeout(r, 25));
    const at = checkpointed(runs);
    assert.ok(at >= 3 && at < 14, `killed after epoch ${at}`);
    a.child.kill('SIGKILL');
    await a.exited;
    const b = startWorker(fx.redis.url, runs, ['--name', 'survivor', '--lock-seconds', '1']);
    fx.workers.push(b);
    const q = await sweep;
    assert.is(q.code, 0, q.stderr + b.log());
    const resumed = /resuming from the checkpoint of epoch (\d+)/.exec(b.log());
    assert.ok(resumed && Number(resumed[1]) >= at, `the survivor did not resume: ${b.log()}`);
    assert.is((b.log().match(/: done,/g) ?? []).length, 1);
    assert.not.match(a.log(), /: done,/);

    const local = spawnSync(process.execPath, [BIN, ...SWEEP, '--out', join(root, 'local')], { cwd: root, env: CLI_ENV, encoding: 'utf8' });
    assert.is(local.status, 0, local.stderr);
    const read = (d: string) => JSON.parse(readFileSync(join(root, d, 'bench.json'), 'utf8')) as BenchFile;
    assert.equal(read('queued').runs.map((r) => r.metrics), read('local').runs.map((r) => r.metrics));
    // Every epoch logged once, with the uninterrupted run's losses.
    const losses = (d: string) => readFileSync(join(root, d, 'runs', 'ae-synth-brain-s0', 'log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((l) => [l.epoch, l.loss]);
    assert.equal(losses('queued'), losses('local'));
  });
});

test.run();
