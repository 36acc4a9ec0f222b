// `medianomaly bench` on a reduced setting: the table on stdout, results.md, bench.json
// and a self-contained report.html; Ctrl-C between runs keeps the finished ones and the
// printed command continues the bench.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, cliAsync, tempDir } from './helpers.js';

const root = tempDir();
const SMALL = ['--quick', '--train-count', '24', '--test-count', '12', '--batch-size', '8', '--opt', 'hidden=64'];

test('bench writes the table as markdown, JSON and an HTML report', () => {
  const out = join(root, 'b1');
  const r = cli(['bench', '--methods', 'ae', '--datasets', 'synth-brain', '--seeds', '2', '--epochs', '1', ...SMALL, '--out', out], root);
  assert.is(r.code, 0, r.stderr);
  // The reduced setting is stated, and the table printed.
  assert.match(r.stdout, /Quick benchmark, reduced setting: 32 × 32 px, 24 training and 12 test images .* 1 epoch, 2 seeds/);
  assert.match(r.stdout, /^\| method \| synth-brain AUROC \|/m);
  assert.match(r.stdout, /^\| ae +\| +\d+\.\d ± \d+\.\d \|/m);
  assert.match(r.stderr, /\[1\/2\] ae synth-brain s0: AUROC \d+\.\d/);
  assert.match(r.stderr, /\[2\/2\] ae synth-brain s1: AUROC \d+\.\d/);

  const md = readFileSync(join(out, 'results.md'), 'utf8');
  assert.match(md, /^# medianomaly benchmark/);
  assert.match(md, /\| ae +\| +\d+\.\d ± \d+\.\d \|/);
  const j = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8'));
  assert.is(j.status, 'complete');
  assert.is(j.runs.length, 2);
  assert.equal(j.settings.seeds, [0, 1]);
  assert.is(j.summary[0].imageAuroc.n, 2);
  assert.ok(j.summary[0].pixelDice, 'synthetic masks give ⌈Dice⌉');
  for (const run of j.runs) assert.ok(existsSync(join(out, run.dir, 'metrics.json')));

  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<table class="results">/);
  assert.match(html, /<svg [^>]*class="roc"/);
  assert.match(html, /src="data:image\/png;base64,/);
  assert.match(html, /Quick benchmark, reduced setting/);
  assert.not.match(html, /<script|<link/);
});

test('Ctrl-C between runs: finished runs stay, the rest is named, the printed command continues', async () => {
  const out = join(root, 'b2');
  const args = ['bench', '--methods', 'ae', '--datasets', 'synth-brain', 'synth-cxr', '--epochs', '40', ...SMALL, '--out', out];
  let sent = false;
  const r = await cliAsync(args, root, (err, child) => {
    if (!sent && /\[1\/2\] ae synth-brain s0: AUROC/.test(err)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  assert.ok(sent, r.stderr);
  assert.is(r.code, 130, r.stderr);
  assert.match(r.stderr, /finished and kept: runs\/ae-synth-brain-s0/);
  assert.match(r.stderr, /not finished: runs\/ae-synth-cxr-s0/);
  const resume = /Resume with: (medianomaly .*)$/m.exec(r.stderr);
  assert.ok(resume);
  const j = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8'));
  assert.is(j.status, 'interrupted');
  assert.equal(j.unfinished, ['runs/ae-synth-cxr-s0']);
  assert.ok(existsSync(join(out, 'runs/ae-synth-brain-s0/metrics.json')));

  const cont = cli([...resume![1].split(' ').slice(1), '--no-report'], root);
  assert.is(cont.code, 0, cont.stderr);
  assert.match(cont.stderr, /\[1\/2\] ae synth-brain s0 already finished, kept/);
  assert.is(JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')).status, 'complete');
});

test.run();
