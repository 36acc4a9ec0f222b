// The addon's glibc malloc tuning (native/binding/malloc_tuning.cc): on by default where
// glibc is the allocator, off with MEDIANOMALY_MALLOC_TUNING=0, and never overriding
// MALLOC_* settings the user put in the environment.
import { spawnSync } from 'node:child_process';
import * as assert from 'uvu/assert';
import { nativeAddonPath } from '../../src/backend/native.js';
import { nativeSuite } from './helpers.js';

const { it, run } = nativeSuite('glibc malloc tuning');

const glibc = Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })?.header?.glibcVersionRuntime);

function tuningIn(env: Record<string, string>): unknown {
  const r = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(nativeAddonPath)}).info().mallocTuning))`], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

it('is applied by default on glibc and reported by info()', () => {
  assert.is(tuningIn({}), glibc);
});

it('MEDIANOMALY_MALLOC_TUNING=0 leaves the allocator alone', () => {
  assert.is(tuningIn({ MEDIANOMALY_MALLOC_TUNING: '0' }), false);
});

it("the user's own MALLOC_ settings win", () => {
  assert.is(tuningIn({ MALLOC_TRIM_THRESHOLD_: '1048576' }), false);
});

run();
