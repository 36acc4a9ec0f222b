// FAE through the CLI at a test size: `train --method fae --weights random` trains (random
// backbone weights: tests only), scores and records the backbone; a size the autoencoder
// cannot take stops before a run folder exists, naming the option.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from '../../cli/helpers.js';

const root = tempDir('medianomaly-fae-cli-');
const FLAGS = ['--dataset', 'synth-brain', '--weights', 'random', '--train-count', '16', '--test-count', '8', '--batch-size', '8', '--epochs', '1', '--opt', 'hidden=16,16,16,16'];

test('train --method fae --weights random at 64 px trains, scores and records the backbone', () => {
  const r = cli(['train', '--method', 'fae', '--size', '64', ...FLAGS], root);
  assert.is(r.code, 0, r.stderr);
  const dir = join(root, 'runs', 'fae-synth-brain-s0');
  assert.ok(existsSync(join(dir, 'metrics.json')));
  assert.match(r.stderr, /^fae synth-brain epoch 1\/1 .*loss -?\d/m);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal([cfg.options.weights, cfg.options.size, cfg.options.backboneBatchNorm, cfg.featureNetwork.backbone], ['random', 64, 'train', 'resnet18']);
});

test('a size that is not a multiple of 64 stops before training, naming the option', () => {
  const out = join(root, 'bad-size');
  const r = cli(['train', '--method', 'fae', '--size', '96', '--out', out, ...FLAGS], root);
  assert.is(r.code, 1);
  assert.match(r.stderr, /option "size" must be a multiple of 64/);
  assert.not.ok(existsSync(join(out, 'metrics.json')));
});

test.run();
