import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { meanStd } from '../../src/metrics/index.js';

test('mean ± sample std (ddof 1) and population std (ddof 0)', () => {
  const r = meanStd([0.8, 0.9, 1.0]);
  assert.ok(Math.abs(r.mean - 0.9) < 1e-15);
  assert.ok(Math.abs(r.std - 0.1) < 1e-15);
  assert.equal([r.n, r.ddof], [3, 1]);
  const p = meanStd(Float64Array.from([2, 4, 4, 4, 5, 5, 7, 9]), { ddof: 0 });
  assert.equal([p.mean, p.std], [5, 2]);
});

test('accurate for values with a large common offset', () => {
  const r = meanStd([1e9 + 1, 1e9 + 2, 1e9 + 3]);
  assert.is(r.std, 1);
});

test('refuses empty input, NaN, and a single run with ddof 1', () => {
  assert.throws(() => meanStd([]), /values is empty/);
  assert.throws(() => meanStd([0.5, NaN]), /values\[1\] is NaN/);
  assert.throws(() => meanStd([0.5]), /at least 2 runs/);
  assert.equal(meanStd([0.5], { ddof: 0 }), { mean: 0.5, std: 0, n: 1, ddof: 0 });
  assert.throws(() => meanStd([1, 2], { ddof: 2 as 1 }), /ddof/);
});

test.run();
