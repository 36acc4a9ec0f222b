// A feature-reference method through the CLI: `--weights random` reaches the backbone, the
// one feature pass reports no loss, the run is tested like any other; `--weights` on a
// method without a backbone, and default weights with an empty cache, are clear errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from './helpers.js';

const root = tempDir();
// TINY_FLAGS without the AE's hidden width.
const TINY_FLAGS = ['--size', '32', '--train-count', '24', '--test-count', '12', '--batch-size', '8'];
const emptyCache = { MEDIANOMALY_WEIGHTS: join(root, 'no-weights-here') };

test('patchcore --weights random trains, scores and records the weights', () => {
  const r = cli(['train', '--method', 'patchcore', '--dataset', 'synth-brain', '--weights', 'random', '--opt', 'backbone=resnet18', ...TINY_FLAGS], root, emptyCache);
  assert.is(r.code, 0, r.stderr);
  const dir = join(root, 'runs', 'patchcore-synth-brain-s0');
  assert.ok(existsSync(join(dir, 'metrics.json')));
  assert.match(r.stdout, /trained: .*\(1 epoch,/);
  assert.match(r.stderr, /memory bank: \d+ vectors/);
  assert.match(r.stderr, /^patchcore synth-brain epoch 1\/1 +\d/m); // no "loss" for a method without one
  assert.not.match(r.stderr, /loss 0/);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.is(cfg.options.weights, 'random');
});

test('--weights on a method without a backbone names the methods that take it', () => {
  const r = cli(['train', '--method', 'ae', '--dataset', 'synth-brain', '--weights', 'random', ...TINY_FLAGS], root, emptyCache);
  assert.is(r.code, 1);
  assert.match(r.stderr, /--weights applies to methods with an ImageNet backbone \(.*patchcore.*\); ae has none/);
});

test('default weights with an empty cache stop with the fetch command, before a run folder exists', () => {
  const out = join(root, 'padim-run');
  const r = cli(['train', '--method', 'padim', '--dataset', 'synth-brain', '--out', out, ...TINY_FLAGS], root, emptyCache);
  assert.is(r.code, 1);
  assert.match(r.stderr, /medianomaly weights fetch resnet18/);
  assert.match(r.stderr, /--weights random/);
});

test.run();
