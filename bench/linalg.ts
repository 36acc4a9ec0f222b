// Gaussian statistics kernels, native (1 and all threads) vs ts, as ratios in one run:
// PaDiM's per-position moments, Cholesky inverses and batched Mahalanobis forms at the
// ResNet18 PaDiM size (d = 100), over fewer positions than the 4096 of 256 px so that the
// ts side finishes quickly (every kernel is linear in the number of positions).
//   node --import tsx bench/linalg.ts [positions=256] [batch=16]
import { cpuBackend, getThreads, setThreads } from '../src/backend/native.js';
import { tsKernels } from '../src/backend/ts/index.js';
import type { KernelTable } from '../src/backend/types.js';

const P = Number(process.argv[2] ?? 256);
const B = Number(process.argv[3] ?? 16);
const d = 100;
if (cpuBackend.unavailableReason()) throw new Error(`bench linalg: ${cpuBackend.unavailableReason()}`);
const native = cpuBackend.kernels as KernelTable;

let seed = 1;
const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
const x = Float32Array.from({ length: B * P * d }, rnd);
// SPD blocks: the moments of 2d random vectors + I.
const sum = new Float64Array(P * d);
const outer = new Float64Array(P * d * d);
const many = Float32Array.from({ length: 2 * d * P * d }, rnd);
tsKernels.gaussianMoments({ B: 2 * d, P, d }, many, null, sum, outer);
for (let j = 0; j < P; j++) for (let i = 0; i < d; i++) outer[j * d * d + i * d + i] += 1;
const inv64 = new Float64Array(outer.length);
tsKernels.choleskyInverse({ P, d }, outer, inv64, new Int32Array(P));
const inv = Float32Array.from(inv64);
const mean = Float32Array.from({ length: P * d }, rnd);

function time(fn: () => void): number {
  fn();
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

const cases: [string, (k: KernelTable) => void, number][] = [
  [`moments B=${B}`, (k) => k.gaussianMoments({ B, P, d }, x, mean, new Float64Array(P * d), new Float64Array(P * d * d)), 2 * B * P * d * d],
  ['choleskyInverse', (k) => k.choleskyInverse({ P, d }, outer, new Float64Array(outer.length), new Int32Array(P)), P * d * d * d],
  [`mahalanobis B=${B}`, (k) => k.mahalanobis({ B, P, d }, x, mean, inv, new Float32Array(B * P)), 2 * B * P * d * d],
];
const all = getThreads();
console.log(`linalg kernels, P = ${P} positions, d = ${d} (ms, best of 3; GFLOP/s)`);
console.log('kernel'.padEnd(22), 'ts'.padStart(9), 'cpu 1t'.padStart(9), `cpu ${all}t`.padStart(9), ' ts/cpu1', ` ts/cpu${all}`, ' GFLOP/s');
for (const [name, fn, flops] of cases) {
  const t = time(() => fn(tsKernels));
  setThreads(1);
  const n1 = time(() => fn(native));
  setThreads(all);
  const nA = time(() => fn(native));
  const f = (v: number) => v.toFixed(1).padStart(9);
  console.log(name.padEnd(22), f(t), f(n1), f(nA), (t / n1).toFixed(1).padStart(8), (t / nA).toFixed(1).padStart(8), (flops / nA / 1e6).toFixed(1).padStart(8));
}
