// Event-loop responsiveness of the host thread while a fit runs in a worker
// (fitInWorker): the longest gap between 5 ms timer ticks on the main thread, next to the
// median training step, measured in one run. The test suite only counts that ticks
// interleave with steps; how long the gaps are depends on the machine's load, so it is
// measured here instead.
//
//   node --import tsx bench/worker.ts [--size 64] [--epochs 8]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitInWorker } from '../src/harness/in-worker.js';
import type { DatasetSpec } from '../src/harness/run-folder.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`bench/worker: --${name} takes a positive integer, got ${process.argv[i + 1]}`);
  return v;
}

const size = arg('size', 64);
const epochs = arg('epochs', 8);
const dir = mkdtempSync(join(tmpdir(), 'medianomaly-bench-worker-'));
const dataset = { name: 'synth-brain', options: { size, count: { train: 24, testNormal: 6, testAbnormal: 6 } } } as DatasetSpec;

const ticks: number[] = [];
const steps: number[] = [];
const timer = setInterval(() => ticks.push(performance.now()), 5);
try {
  await fitInWorker(
    { method: 'ae', dataset, options: { epochs, batchSize: 24, hidden: 64, seed: 1, size }, dir: join(dir, 'run') },
    { onProgress: () => steps.push(performance.now()) },
  );
} finally {
  clearInterval(timer);
  rmSync(dir, { recursive: true, force: true });
}
const durations = steps.slice(1).map((t, i) => t - steps[i]).sort((a, b) => a - b);
const stepMs = durations[Math.floor(durations.length / 2)];
const inside = ticks.filter((t) => t >= steps[0] && t <= steps[steps.length - 1]);
let gap = 0;
for (let i = 1; i < inside.length; i++) gap = Math.max(gap, inside[i] - inside[i - 1]);
const windowMs = steps[steps.length - 1] - steps[0];
console.log(`fit in a worker, ${size} px, ${epochs} steps: median step ${stepMs.toFixed(1)} ms`);
console.log(`main thread: ${inside.length} ticks of 5 ms in ${windowMs.toFixed(0)} ms, longest gap ${gap.toFixed(1)} ms (${(gap / stepMs).toFixed(2)} × a step)`);
console.log(JSON.stringify({ bench: 'worker', size, steps: steps.length, stepMs, ticks: inside.length, windowMs, longestGapMs: gap, gapOverStep: gap / stepMs }));
