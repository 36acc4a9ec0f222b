// `medianomaly bench` on a reduced setting: the table on stdout, results.md, bench.json
// and a self-contained report.html; Ctrl-C between runs keeps the finished ones and the
// printed command continues the bench.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, cliAsync, sh, tempDir } from './helpers.js';
import { writeIdx } from '../data/helpers/files.js';

const root = tempDir();
const SMALL = ['--quick', '--train-count', '24', '--test-count', '12', '--batch-size', '8', '--opt', 'hidden=64'];

test('bench writes the table as markdown, JSON and an HTML report', () => {
  const out = join(root, 'b1');
  const r = cli(['bench', '--methods', 'ae', '--datasets', 'synth-brain', '--seeds', '2', '--epochs', '1', ...SMALL, '--out', out], root);
  assert.is(r.code, 0, r.stderr);
  // The reduced setting is stated, and the table printed.
  assert.match(r.stdout, /Quick benchmark, reduced setting: 32 × 32 px, 24 training and 12 test images .* 1 epoch, 2 seeds/);
  assert.match(r.stdout, /^Images that ran: synth-brain 24 training \+ 12 test images\.$/m);
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
  assert.match(html, /images that ran.*synth-brain 24 training \+ 12 test images/);
  assert.not.match(html, /<script|<link/);
});

test('--quick reduces every dataset (a seeded limit for a real one) and says what ran; long work is visible', () => {
  // A small MNIST in its published layout: 90 training images (30 of class 0, the normal
  // class) and 40 test images (10 normal), more than the quick setting keeps.
  const data = join(root, 'data');
  const raw = join(data, 'MNIST', 'raw');
  const px = (n: number) => new Uint8Array(n * 28 * 28).map((_, i) => (i * 37 + (i >> 9)) & 0xff);
  writeIdx(join(raw, 'train-images-idx3-ubyte'), [90, 28, 28], px(90));
  writeIdx(join(raw, 'train-labels-idx1-ubyte'), [90], Uint8Array.from({ length: 90 }, (_, i) => i % 3));
  writeIdx(join(raw, 't10k-images-idx3-ubyte'), [40, 28, 28], px(40));
  writeIdx(join(raw, 't10k-labels-idx1-ubyte'), [40], Uint8Array.from({ length: 40 }, (_, i) => i % 4));
  const out = join(root, 'mixed');
  const r = cli(['bench', '--methods', 'ae', '--datasets', 'synth-brain', 'mnist', '--data-root', data, '--epochs', '1', ...SMALL, '--no-report', '--out', out], root, { MEDIANOMALY_HEARTBEAT_S: '0' });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /24 training and 12 test images \(half abnormal\) per synthetic dataset, a seeded subset of at most 24 images per split of each other dataset/);
  assert.match(r.stdout, /^Images that ran: synth-brain 24 training \+ 12 test images; mnist 24 \+ 24\.$/m);
  const j = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8'));
  assert.equal(j.images, { 'synth-brain': { train: 24, test: 12 }, mnist: { train: 24, test: 24 } });
  assert.is(j.settings.datasets[1].options.limit, 24);
  assert.match(readFileSync(join(out, 'results.md'), 'utf8'), /- images that ran: synth-brain 24 training \+ 12 test images; mnist 24 \+ 24/);
  // Progress of every run: the estimate, step heartbeats, scoring counts.
  assert.match(r.stderr, /^\[2\/2\] ae mnist s0 estimated training time \d+:\d\d \(1 epoch × 24 images at 32 px;/m);
  assert.match(r.stderr, /^\[1\/2\] ae synth-brain s0 estimated training time .*\n\[1\/2\] ae synth-brain s0 {3}then 1 more run: about \d+:\d\d if they are alike$/m);
  assert.match(r.stderr, /^\[2\/2\] ae mnist s0 epoch 1\/1 step 1\/3 /m);
  assert.match(r.stderr, /^\[2\/2\] ae mnist s0 scored 24\/24 test images /m);
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
  const resume = /Resume with: (node \S+ bench .*)$/m.exec(r.stderr);
  assert.ok(resume, r.stderr);
  const j = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8'));
  assert.is(j.status, 'interrupted');
  assert.equal(j.unfinished, ['runs/ae-synth-cxr-s0']);
  assert.ok(existsSync(join(out, 'runs/ae-synth-brain-s0/metrics.json')));

  const cont = sh(`${resume![1]} --no-report`, root);
  assert.is(cont.code, 0, cont.stderr);
  assert.match(cont.stderr, /\[1\/2\] ae synth-brain s0 already finished, kept/);
  assert.is(JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')).status, 'complete');
});

test.run();
