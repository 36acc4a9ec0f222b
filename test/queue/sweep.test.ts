// A sweep on the queue equals the same sweep run locally, number for number: 3 methods ×
// 2 synthetic datasets × 2 seeds at a tiny budget across 2 worker processes. Enqueuing it
// again adds nothing, and collecting the results again (re-attach) writes the same files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import type { BenchFile } from '../../src/harness/bench.js';
import { BIN, CLI_ENV, runCli, startWorker, withQueue } from './workers.js';

const SWEEP = ['bench', '--methods', 'ae,ae-l1,vae', '--datasets', 'synth-brain,synth-cxr', '--seeds', '2', '--epochs', '1', '--size', '32', '--train-count', '8', '--test-count', '4', '--batch-size', '8', '--opt', 'hidden=32', '--no-report'];

const root = mkdtempSync(join(tmpdir(), 'medianomaly-queue-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: 'utf8', env: CLI_ENV });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const cliAsync = (args: string[]) => runCli(args, root);

/** What must agree between two bench folders: every run's numbers and the table, not timings. */
function numbers(dir: string) {
  const f = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')) as BenchFile;
  return {
    status: f.status,
    settings: f.settings,
    runs: f.runs.map((r) => ({ ...r, seconds: undefined })),
    summary: f.summary.map((s) => ({ ...s, trainSeconds: undefined })),
    images: f.images,
  };
}

withQueue(test, (fx) => {

  test('3 methods × 2 datasets × 2 seeds on 2 workers = the local sweep, number for number', async () => {
    const runs = join(root, 'runs');
    fx.workers.push(startWorker(fx.redis.url, runs, ['--name', 'w1']), startWorker(fx.redis.url, runs, ['--name', 'w2']));
    await Promise.all(fx.workers.map((w) => w.ready()));
    // The local sweep (`bench` without --queue) runs at the same time: the same numbers whatever the load.
    const [queued, local] = await Promise.all([cliAsync([...SWEEP, '--queue', fx.redis.url, '--out', join(root, 'queued')]), cliAsync([...SWEEP, '--out', join(root, 'local')])]);
    assert.is(queued.code, 0, queued.stderr);
    assert.match(queued.stderr, /12 jobs, 12 added, 0 already on the queue/);
    assert.match(queued.stderr, /12\/12 done/);
    // Both workers took jobs, and the progress named the worker of each running job.
    for (const w of fx.workers) assert.ok(/: done,/.test(w.log()), `a worker took no job: ${w.log()}`);
    assert.match(queued.stderr, /-s[01] on w[12], /);
    assert.is(local.code, 0, local.stderr);
    assert.equal(numbers(join(root, 'queued')), numbers(join(root, 'local')));
    assert.is(readFileSync(join(root, 'queued', 'results.md'), 'utf8'), readFileSync(join(root, 'local', 'results.md'), 'utf8'));
    // The same table on stdout.
    const table = (out: string) => out.split('\n').filter((l) => l.startsWith('|')).join('\n');
    assert.is(table(queued.stdout), table(local.stdout));
    assert.ok(table(local.stdout).split('\n').length === 5, local.stdout);
  });

  test('enqueue twice adds nothing; detach, then re-attach writes the same results', async () => {
    const again = cli([...SWEEP, '--queue', fx.redis.url, '--detach', '--out', join(root, 'again')]);
    assert.is(again.code, 0, again.stderr);
    assert.match(again.stderr, /12 jobs, 0 added, 12 already on the queue/);
    const sweep = again.stdout.trim();
    assert.match(sweep, /^[0-9a-f]{12}$/);
    const status = cli(['queue', 'status', '--queue', fx.redis.url, '--json']);
    const s = JSON.parse(status.stdout);
    assert.is(s.sweep, sweep);
    assert.equal([s.total, s.done, s.failed], [12, 12, 0]);
    const attached = cli(['queue', 'results', '--queue', fx.redis.url, '--sweep', sweep.slice(0, 6), '--out', join(root, 'again'), '--wait', '--no-report']);
    assert.is(attached.code, 0, attached.stderr);
    assert.equal(numbers(join(root, 'again')), numbers(join(root, 'local')));
    // Once more into the same folder: nothing changes (results are written once).
    const before = numbers(join(root, 'again'));
    assert.is(cli(['queue', 'results', '--queue', fx.redis.url, '--out', join(root, 'again'), '--no-report']).code, 0);
    assert.equal(numbers(join(root, 'again')), before);
    // Workers on other machines: their runs folder is not here, the run folders come from Redis.
    rmSync(join(root, 'runs'), { recursive: true, force: true });
    assert.is(cli(['queue', 'results', '--queue', fx.redis.url, '--out', join(root, 'from-redis')]).code, 0);
    assert.equal(numbers(join(root, 'from-redis')), numbers(join(root, 'local')));
    assert.ok(existsSync(join(root, 'from-redis', 'report.html')));
    // No job ran twice: 12 starts across both workers' logs.
    const starts = fx.workers.map((w) => (w.log().match(/: started \(attempt/g) ?? []).length).reduce((a, b) => a + b, 0);
    assert.is(starts, 12);
  });
});

test.run();
