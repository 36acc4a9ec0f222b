import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { methods } from '../../src/methods/index.js';
import { runOptions } from '../../src/harness/options.js';

const data = (name: string) => ({ name, size: 128, channels: 1 });

test('the DAE masks its noise to the foreground on brain datasets only, as the reference does', () => {
  const dae = methods.info('dae');
  assert.is(runOptions(dae, {}, data('brats2021')).foregroundMask, true);
  assert.is(runOptions(dae, {}, data('synth-brain')).foregroundMask, true);
  assert.is(runOptions(dae, {}, data('rsna')).foregroundMask, false);
  assert.is(runOptions(dae, { foregroundMask: false }, data('brats2021')).foregroundMask, false);
  assert.not.ok('foregroundMask' in runOptions(methods.info('ae'), {}, data('brats2021')));
});

test('epochs follow the reference per-dataset rule for reconstruction methods only', () => {
  assert.is(runOptions(methods.info('ae'), {}, data('brain-tumor')).epochs, 600);
  assert.is(runOptions(methods.info('ae'), {}, data('rsna')).epochs, 250);
  assert.is(runOptions(methods.info('ae'), { epochs: 3 }, data('brain-tumor')).epochs, 3);
  assert.is(runOptions(methods.info('fanogan'), {}, data('brain-tumor')).epochs, 3000);
});

test.run();
