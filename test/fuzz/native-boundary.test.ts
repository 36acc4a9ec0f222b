// Seeded fuzz of the native boundary: random public-op calls on ts and cpu (same
// inputs, fresh per backend) must either both throw the same error or both compute the
// same values; hostile direct calls into the addon's kernel table must return or throw a
// JS error. Everything runs in child processes, so a crash is a failure, not the end.
// The longer run is scripts/fuzz-native.ts (--cases N --seed S).
import * as assert from 'uvu/assert';
import { nativeSuite } from '../native/helpers.js';
import { fuzz } from './run.js';

const { it, run } = nativeSuite('native boundary fuzz (seeded)');
const SEED = 20261206;

it('4,000 random public-op calls: cpu and ts agree (same error, or same values)', async () => {
  const s = await fuzz('ops', SEED, 4000, 1000, 2);
  assert.is(s.cases, 4000);
  assert.equal(s.findings.map((f) => f.what), []);
  // The generator must exercise both outcomes, not only argument errors.
  assert.ok(s.bothComputed > 1000 && s.bothThrew > 600, `computed ${s.bothComputed}, threw ${s.bothThrew}`);
});

it('6,000 hostile direct addon calls: never a crash, only returns or JS errors', async () => {
  const s = await fuzz('addon', SEED, 6000, 3000, 2);
  assert.is(s.cases, 6000);
  assert.equal(s.findings.map((f) => f.what), []);
  assert.ok(s.returned > 100 && s.threw > 2000, `returned ${s.returned}, threw ${s.threw}`);
});

run();
