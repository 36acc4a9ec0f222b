// The CLI's errors: unknown commands, methods, datasets and options, a dataset that is
// not present, a folder that is not a run. Each exits non-zero with a message that says
// what exists.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cli, tempDir } from './helpers.js';

test('unknown command, method, dataset and option: exit code and a message that lists what exists', () => {
  const cmd = cli(['trian']);
  assert.is(cmd.code, 2);
  assert.match(cmd.stderr, /Unknown argument: trian|Did you mean train/);

  const method = cli(['train', '--method', 'nope', '--dataset', 'synth-brain']);
  assert.is(method.code, 1);
  assert.match(method.stderr, /unknown method "nope"; known methods: ae, ae-l1/);

  const dataset = cli(['train', '--method', 'ae', '--dataset', 'nope']);
  assert.is(dataset.code, 1);
  assert.match(dataset.stderr, /unknown dataset "nope"; known datasets: .*synth-brain, synth-cxr/);

  const option = cli(['train', '--method', 'ae', '--dataset', 'synth-brain', '--epoch', '3']);
  assert.is(option.code, 2);
  assert.match(option.stderr, /Unknown argument: epoch/);

  const methodOption = cli(['train', '--method', 'ae', '--dataset', 'synth-brain', '--opt', 'latnet=3']);
  assert.is(methodOption.code, 1);
  assert.match(methodOption.stderr, /unknown option "latnet"; valid options: epochs, batchSize/);

  const missing = cli(['train', '--method', 'ae', '--dataset', 'brats2021', '--data-root', tempDir()]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /dataset "brats2021" is not present \(looked in .*BraTS2021\): download/);

  const benchMethod = cli(['bench', '--methods', 'ae,nope']);
  assert.is(benchMethod.code, 1);
  assert.match(benchMethod.stderr, /unknown method "nope"/);

  const notRun = tempDir();
  const t = cli(['test', '--run', notRun]);
  assert.is(t.code, 1);
  assert.match(t.stderr, /is not a medianomaly run folder: no run\.json; it is empty\. A run folder .* holds run\.json, config\.json, model\.safetensors/);
});

test.run();
