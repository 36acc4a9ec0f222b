// The long native-boundary fuzz: `node --import tsx scripts/fuzz-native.ts --cases N
// --seed S [--jobs J] [--batch B] [--kind ops|addon|both]`. Same cases as the seeded test
// (test/fuzz/), just more of them; prints the tallies, every finding with its
// (kind, seed, index) for replay, and exits 1 when there is any.
import { cpus } from 'node:os';
import { fuzz, type Summary } from '../test/fuzz/run.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}

const cases = Number(arg('cases', '20000'));
const seed = Number(arg('seed', '1'));
const jobs = Number(arg('jobs', String(Math.max(1, cpus().length))));
const batch = Number(arg('batch', '1000'));
const kind = arg('kind', 'both');
if (!Number.isInteger(cases) || cases < 1 || !Number.isInteger(seed) || !Number.isInteger(jobs) || jobs < 1 || !Number.isInteger(batch) || batch < 1) {
  console.error('usage: fuzz-native.ts --cases N --seed S [--jobs J] [--batch B] [--kind ops|addon|both]');
  process.exit(2);
}

const t0 = performance.now();
const report = (name: string, s: Summary) =>
  console.log(
    `${name}: ${s.cases} cases (seed ${seed}): ${s.bothComputed + s.returned} computed, ${s.bothThrew + s.threw} rejected, ` +
      `${s.crashes} child deaths, ${s.findings.length} findings`,
  );
let findings = 0;
for (const k of kind === 'both' ? (['ops', 'addon'] as const) : [kind as 'ops' | 'addon']) {
  const s = await fuzz(k, seed, cases, batch, jobs);
  report(k, s);
  for (const f of s.findings) console.log(`  ${f.kind} seed=${f.seed} index=${f.index}: ${f.what}`);
  if (process.argv.includes('--errors')) for (const e of [...s.errors].sort()) console.log(`  rejected: ${e}`);
  findings += s.findings.length;
}
console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s on ${jobs} jobs`);
process.exit(findings ? 1 : 0);
