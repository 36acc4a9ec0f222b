#!/usr/bin/env node
// Runs every test file under test/ (uvu, through tsx) in its own process, two at a
// time, and ends with the one summary line CI reads: "N passed, N failed, N skipped".
// One file per process so that a crash in one file (it should never happen: native
// code throws instead of aborting) is counted as a failure instead of hiding the rest.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cpus } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv.slice(2);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (name === 'fixtures' || name === 'helpers') continue;
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.test\.(ts|mjs|js)$/.test(name)) out.push(p);
  }
  return out;
}

let files = walk(join(root, 'test'));
if (filter.length) files = files.filter((f) => filter.some((s) => f.includes(s)));

function runFile(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code, signal) => {
      const num = (label) => {
        const m = out.match(new RegExp(`${label}:\\s+(\\d+)`));
        return m ? Number(m[1]) : 0;
      };
      let total = num('Total');
      let passed = num('Passed');
      const skipped = num('Skipped');
      let failed = Math.max(0, total - passed - skipped);
      if (code !== 0 && failed === 0) failed = 1; // crashed or failed outside a test
      if (total === 0 && code === 0) failed = 0;
      resolve({ file, code, signal, out, passed, failed, skipped, total });
    });
  });
}

const jobs = Math.max(1, Math.min(Number(process.env.MEDIANOMALY_TEST_JOBS) || cpus().length, 4));
const results = [];
let next = 0;
async function worker() {
  while (next < files.length) {
    const file = files[next++];
    const r = await runFile(file);
    results.push(r);
    const name = relative(root, file);
    const tag = r.failed ? 'FAIL' : 'ok  ';
    process.stdout.write(`${tag} ${name}  (${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped)\n`);
    if (r.failed) process.stdout.write(r.out.split('\n').map((l) => '    ' + l).join('\n') + '\n');
  }
}
await Promise.all(Array.from({ length: jobs }, worker));

const sum = (k) => results.reduce((a, r) => a + r[k], 0);
const passed = sum('passed');
const failed = sum('failed');
const skipped = sum('skipped');
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
