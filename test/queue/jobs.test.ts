// Job ids: a hash of what decides a cell's numbers, so the same sweep names the same jobs
// (enqueue twice adds nothing) and any change that alters the numbers names new ones.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BenchSettings } from '../../src/harness/bench.js';
import { canonicalJson, mismatch, sweepId, sweepJobs } from '../../src/queue/jobs.js';
import { version } from '../../src/version.js';

const base: BenchSettings = {
  methods: ['ae', 'vae'],
  datasets: [{ name: 'synth-brain', options: { size: 32 } as BenchSettings['datasets'][number]['options'] }],
  seeds: [0, 1],
  options: { epochs: 1, size: 32, hidden: 32 },
};

test('canonical JSON ignores key order and undefined values', () => {
  assert.is(canonicalJson({ b: 1, a: [{ y: 2, x: undefined, z: 'q' }] }), canonicalJson({ a: [{ z: 'q', y: 2 }], b: 1 }));
});

test('the same sweep names the same jobs, in the local order; a change that alters numbers names others', () => {
  const a = sweepJobs(base);
  const b = sweepJobs({ ...base, options: { hidden: 32, size: 32, epochs: 1 } });
  assert.equal(a.map((j) => j.id), b.map((j) => j.id));
  assert.equal(a.map((j) => j.data.dir), ['ae-synth-brain-s0', 'ae-synth-brain-s1', 'vae-synth-brain-s0', 'vae-synth-brain-s1']);
  assert.ok(a.every((j) => /^[\w.-]+-[0-9a-f]{16}$/.test(j.id) && !j.id.includes(':')));
  assert.is(new Set(a.map((j) => j.id)).size, 4);
  const other = sweepJobs({ ...base, options: { ...base.options, epochs: 2 } });
  assert.ok(other.every((j, i) => j.id !== a[i].id));
  // A seed added: the old cells keep their ids, the sweep gets a new one.
  const more = sweepJobs({ ...base, seeds: [0, 1, 2] });
  assert.ok(a.every((j) => more.some((m) => m.id === j.id)));
  assert.is.not(sweepId({ ...base, seeds: [0, 1, 2] }), sweepId(base));
});

test('a job of this version, schema and backend runs; others are refused with the reason', () => {
  const j = sweepJobs(base)[0].data;
  assert.is(mismatch(j), null);
  assert.match(mismatch({ ...j, version: '0.0.0' })!, /enqueued by medianomaly 0\.0\.0 and this worker runs/);
  assert.match(mismatch({ ...j, schema: 'deadbeef' })!, /options of "ae" differ/);
  assert.match(mismatch({ ...j, backend: 'cuda' })!, /enqueued on the cuda backend/);
  assert.match(mismatch({ ...j, method: 'no-such' })!, /has no method "no-such"/);
  assert.is(j.version, version);
});

test.run();
