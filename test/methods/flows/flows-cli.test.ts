// The flows through the CLI at a small size with random backbone weights (mechanics only): the
// run trains, reports progress in optimiser steps, is tested and records the options.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from '../../cli/helpers.js';

const root = tempDir('medianomaly-flows-cli-');
const env = { MEDIANOMALY_WEIGHTS: join(root, 'no-weights-here') };
const SMALL = ['--dataset', 'synth-brain', '--size', '64', '--train-count', '8', '--test-count', '6', '--batch-size', '4', '--epochs', '2', '--weights', 'random'];

test('cflow --weights random --opt backbone=resnet18 trains, tests and records its options', () => {
  const r = cli(['train', '--method', 'cflow', '--opt', 'backbone=resnet18', '--opt', 'fiberBatch=16', '--opt', 'permute=hard', '--opt', 'subEpochs=1', ...SMALL], root, env);
  assert.is(r.code, 0, r.stderr);
  const dir = join(root, 'runs', 'cflow-synth-brain-s0');
  assert.ok(existsSync(join(dir, 'metrics.json')));
  assert.match(r.stdout, /trained: .*\(2 epochs,/);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal([cfg.options.weights, cfg.options.backbone, cfg.options.fiberBatch, cfg.featureNetwork.backbone], ['random', 'resnet18', 16, 'resnet18']);
  assert.is(cfg.training.steps, 2 * 2 * 21);
});

test('fastflow --weights random trains and tests', () => {
  const r = cli(['train', '--method', 'fastflow', ...SMALL], root, env);
  assert.is(r.code, 0, r.stderr);
  assert.ok(existsSync(join(root, 'runs', 'fastflow-synth-brain-s0', 'metrics.json')));
});

test('a cflow option that cannot train stops before the run folder exists, naming the option', () => {
  const out = join(root, 'bad-run');
  const r = cli(['train', '--method', 'cflow', '--opt', 'backbone=resnet18', '--out', out, ...SMALL], root, env);
  assert.is(r.code, 1);
  assert.match(r.stderr, /fewer than fiberBatch 256; lower "fiberBatch"/);
  assert.not.ok(existsSync(join(out, 'config.json')));
});

test.run();
