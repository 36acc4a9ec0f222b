// GEMM and convolution throughput of the native `cpu` backend.
//
//   node --import tsx bench/gemm.ts [--threads 1] [--size 1024] [--batch 64] [--no-ts]
//
// 1. sgemm at size³ (default 1024³): the built-in micro-kernel vs OpenBLAS, on
//    `threads` threads (default 1).
// 2. Every conv layer of the unified AE at batch 64, 64×64, 1 channel (encoder convs
//    1→16→32→64→64, 4×4 s2 p1, and the mirrored transposed convs of the decoder), each
//    as forward, input gradient and weight gradient; native vs the ts reference kernels.
//    (The native convolutions run their own direct kernels; only the input gradient of
//    layers with < 8 channels per group goes through the GEMM engine selected by
//    MEDIANOMALY_BLAS / setBlas.)
import { fileURLToPath } from 'node:url';
import { cpuBackend, getBlas, getThreads, setBlas, setThreads } from '../src/backend/native.js';
import { tsKernels } from '../src/backend/ts/index.js';
import type { Conv2dParams, KernelTable } from '../src/backend/types.js';

export interface BenchRow {
  /** What was measured, e.g. 'sgemm 1024³' or 'E2 conv 16→32 forward'. */
  name: string;
  engine: 'builtin' | 'openblas' | 'native' | 'ts';
  threads: number;
  /** Median wall time of one call. */
  ms: number;
  gflops: number;
}

export interface BenchGemmOptions {
  threads?: number;
  size?: number;
  batch?: number;
  /** Also time the ts reference convolutions (slow: seconds per layer at batch 64). */
  includeTs?: boolean;
  /** Called with one formatted line per result as it is measured. */
  log?: (line: string) => void;
}

/**
 * Median time in ms of fn(), after one warm-up call, over ≥ 3 runs and ≥ minMs of total
 * time (the median, not the best: the figure a training loop would see).
 */
function timeMs(fn: () => void, minMs = 300, maxRuns = 50): number {
  fn();
  const times: number[] = [];
  let total = 0;
  while (times.length < 3 || (total < minMs && times.length < maxRuns)) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    times.push(dt);
    total += dt;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function random(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

function conv(N: number, C: number, H: number, K: number): Conv2dParams {
  const OH = Math.floor((H + 2 - 4) / 2) + 1;
  return { N, C, H, W: H, K, OH, OW: OH, kh: 4, kw: 4, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, groups: 1 };
}

interface ConvLayer {
  name: string;
  p: Conv2dParams;
  /** Transposed conv: its forward is conv2dBackwardInput of p. */
  transposed: boolean;
}

/** The unified AE's conv layers at 64×64 input, 1 channel, base width 16. */
function unifiedAeLayers(batch: number): ConvLayer[] {
  return [
    { name: 'E1 conv 1→16', p: conv(batch, 1, 64, 16), transposed: false },
    { name: 'E2 conv 16→32', p: conv(batch, 16, 32, 32), transposed: false },
    { name: 'E3 conv 32→64', p: conv(batch, 32, 16, 64), transposed: false },
    { name: 'E4 conv 64→64', p: conv(batch, 64, 8, 64), transposed: false },
    // ConvT Cin→Cout from h to 2h is the gradient of a conv Cout→Cin from 2h to h.
    { name: 'D1 convT 64→64', p: conv(batch, 64, 8, 64), transposed: true },
    { name: 'D2 convT 64→32', p: conv(batch, 32, 16, 64), transposed: true },
    { name: 'D3 convT 32→16', p: conv(batch, 16, 32, 32), transposed: true },
    { name: 'D4 convT 16→1', p: conv(batch, 1, 64, 16), transposed: true },
  ];
}

function convFlops(p: Conv2dParams): number {
  return 2 * p.N * p.K * (p.C / p.groups) * p.kh * p.kw * p.OH * p.OW;
}

export function benchGemm(options: BenchGemmOptions = {}): BenchRow[] {
  const reason = cpuBackend.unavailableReason();
  if (reason) throw new Error(`benchGemm needs the native addon: ${reason}`);
  const threads = options.threads ?? 1;
  const size = options.size ?? 1024;
  const batch = options.batch ?? 64;
  const log = options.log ?? (() => {});
  const native = cpuBackend.kernels as KernelTable;
  const engines: Array<'builtin' | 'openblas'> = cpuBackend.info().openblasLinked ? ['builtin', 'openblas'] : ['builtin'];
  const rows: BenchRow[] = [];
  const record = (row: BenchRow) => {
    rows.push(row);
    log(`${row.name.padEnd(34)} ${row.engine.padEnd(8)} ${String(row.threads).padStart(2)} thr  ${row.ms.toFixed(2).padStart(9)} ms  ${row.gflops.toFixed(1).padStart(7)} GFLOP/s`);
  };

  const savedThreads = getThreads();
  const savedBlas = getBlas().mode;
  setThreads(threads);
  try {
    // 1. Square sgemm.
    const a = random(size * size, 1);
    const b = random(size * size, 2);
    const c = new Float32Array(size * size);
    const gp = { M: size, N: size, K: size, transA: false, transB: false, alpha: 1, beta: 0 };
    for (const engine of engines) {
      setBlas(engine);
      const ms = timeMs(() => native.gemm(gp, a, b, c));
      record({ name: `sgemm ${size}³`, engine, threads, ms, gflops: (2 * size ** 3) / ms / 1e6 });
    }

    // 2. Unified AE conv layers: forward, input gradient, weight gradient.
    for (const layer of unifiedAeLayers(batch)) {
      const { p } = layer;
      const x = random(p.N * p.C * p.H * p.W, 3);
      const w = random(p.K * p.C * p.kh * p.kw, 4);
      const bias = random(p.K, 5);
      const y = random(p.N * p.K * p.OH * p.OW, 6);
      const dx = new Float32Array(x.length);
      const dw = new Float32Array(w.length);
      const out = new Float32Array(y.length);
      const flops = convFlops(p);
      // For a transposed layer the roles swap: forward = backwardInput, input grad = conv2d.
      const passes: Array<[string, (k: KernelTable) => void]> = layer.transposed
        ? [
            ['forward', (k) => k.conv2dBackwardInput(p, y, w, dx)],
            ['input grad', (k) => k.conv2d(p, x, w, null, out)],
            ['weight grad', (k) => k.conv2dBackwardWeight(p, x, y, dw)],
          ]
        : [
            ['forward', (k) => k.conv2d(p, x, w, bias, out)],
            ['input grad', (k) => k.conv2dBackwardInput(p, y, w, dx)],
            ['weight grad', (k) => k.conv2dBackwardWeight(p, x, y, dw)],
          ];
      setBlas(savedBlas);
      for (const [pass, run] of passes) {
        const name = `${layer.name} ${pass}`;
        const ms = timeMs(() => run(native));
        record({ name, engine: 'native', threads, ms, gflops: flops / ms / 1e6 });
        if (options.includeTs) {
          const ms = timeMs(() => run(tsKernels), 0, 3);
          record({ name, engine: 'ts', threads: 1, ms, gflops: flops / ms / 1e6 });
        }
      }
    }
  } finally {
    setThreads(savedThreads);
    setBlas(savedBlas);
  }
  return rows;
}

/** Sum of the median times per engine over the conv rows: one AE step's conv work. */
export function convTotals(rows: BenchRow[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const r of rows) if (!r.name.startsWith('sgemm')) totals[r.engine] = (totals[r.engine] ?? 0) + r.ms;
  return totals;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const opt = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const rows = benchGemm({
    threads: opt('--threads', 1),
    size: opt('--size', 1024),
    batch: opt('--batch', 64),
    includeTs: !args.includes('--no-ts'),
    log: (line) => console.log(line),
  });
  const totals = convTotals(rows);
  console.log(
    'conv layers total (forward + both gradients, all 8 layers): ' +
      Object.entries(totals)
        .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
        .join(', '),
  );
  const sg = rows.filter((r) => r.name.startsWith('sgemm'));
  const builtin = sg.find((r) => r.engine === 'builtin');
  const openblas = sg.find((r) => r.engine === 'openblas');
  if (builtin && openblas) console.log(`built-in / OpenBLAS sgemm: ${((100 * builtin.gflops) / openblas.gflops).toFixed(0)}%`);
}
