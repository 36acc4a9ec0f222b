// The two-stage SSL training step (methods.md §3.3): ProjectionNet on 64 + 64 images at
// 224 px (2 views; `--views 3` for 3-way), cross-entropy, backward, SGD(0.03, 0.9, 3e-5),
// on the cpu backend with 1 and 2 threads, against scripts/torch_projection_step.py
// (PyTorch 1.13 / torchvision 0.14, the reference module) in the same run, its thread pools
// pinned with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS. Also the time to generate one
// step's views (jitter + CutPaste on 64 images) in the main thread, which the trainer must
// hide. Figures are ratios within one run (ours / PyTorch: ≤ 1 is at least as fast).
//
//   npm run bench -- ssl-two-stage [--batch 64] [--views 2] [--size 224] [--steps 3] [--threads 1,2]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { backends, crossEntropy, Generator, randn, setBackend } from '../src/engine/index.js';
import { getBlas, getThreads, setThreads } from '../src/backend/native.js';
import { ProjectionNet } from '../src/models/projection-net.js';
import { SGD } from '../src/nn/optim/index.js';

export interface ProjectionStepOptions {
  batch: number;
  views: number;
  size: number;
  steps: number;
  threads: number[];
}

interface Row {
  threads: number;
  oursMs: number;
  torchMs: number | null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median ms of `steps` ProjectionNet training steps after one warm-up, on the current backend and threads. */
export function timeProjectionStep(o: Omit<ProjectionStepOptions, 'threads'>): number {
  const net = new ProjectionNet({ numClasses: o.views, generator: new Generator(0) });
  const opt = new SGD(net.parameters(), { lr: 0.03, momentum: 0.9, weightDecay: 3e-5 });
  const x = randn([o.views * o.batch, 3, o.size, o.size], { seed: 1 });
  const y = new Int32Array(o.views * o.batch);
  for (let i = 0; i < y.length; i++) y[i] = Math.floor(i / o.batch);
  net.train();
  const step = (): void => {
    opt.zeroGrad();
    const loss = crossEntropy(net.forward(x).logits, y);
    loss.backward();
    opt.step();
  };
  step();
  const t: number[] = [];
  for (let i = 0; i < o.steps; i++) {
    const t0 = performance.now();
    step();
    t.push(performance.now() - t0);
  }
  return median(t);
}

function torchStep(o: Omit<ProjectionStepOptions, 'threads'>, threads: number): number | string {
  const py = '/usr/bin/python3';
  if (!existsSync(py)) return 'no /usr/bin/python3';
  const script = fileURLToPath(new URL('../scripts/torch_projection_step.py', import.meta.url));
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  const args = [script, '--threads', String(threads), '--batch', String(o.batch), '--views', String(o.views), '--size', String(o.size), '--steps', String(o.steps)];
  const r = spawnSync(py, args, { encoding: 'utf8', env, maxBuffer: 1 << 24 });
  if (r.status !== 0) return `torch_projection_step.py failed: ${(r.stderr || '').trim().split('\n').pop()}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!).median_ms as number;
}

/** Ours vs PyTorch per thread count; prints a table and returns the rows. */
export function benchProjectionStep(o: ProjectionStepOptions): Row[] {
  const cpu = backends().find((b) => b.name === 'cpu');
  if (!cpu?.available) {
    console.log(`ssl-two-stage: the cpu backend is not available (${cpu?.reason}); build it with npm run build:native`);
    return [];
  }
  setBackend('cpu');
  const before = getThreads();
  const rows: Row[] = [];
  console.log(`ProjectionNet training step: ${o.views} views × ${o.batch} images at ${o.size} px (${o.views * o.batch} per step), median of ${o.steps} after a warm-up; GEMM ${getBlas().active}`);
  for (const th of o.threads) {
    setThreads(th);
    const ours = timeProjectionStep(o);
    const torch = torchStep(o, th);
    const row: Row = { threads: th, oursMs: ours, torchMs: typeof torch === 'number' ? torch : null };
    rows.push(row);
    const ratio = row.torchMs ? `${(ours / row.torchMs).toFixed(2)}× PyTorch's time (PyTorch ${row.torchMs.toFixed(0)} ms)` : `PyTorch: ${torch}`;
    console.log(`  ${th} thread${th > 1 ? 's' : ' '}: ours ${ours.toFixed(0)} ms, ${ratio}`);
  }
  setThreads(before);
  return rows;
}

function parseArgs(argv: string[]): ProjectionStepOptions {
  const o: ProjectionStepOptions = { batch: 64, views: 2, size: 224, steps: 3, threads: [1, 2] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--batch':
        o.batch = Number(v);
        i++;
        break;
      case '--views':
        o.views = Number(v);
        i++;
        break;
      case '--size':
        o.size = Number(v);
        i++;
        break;
      case '--steps':
        o.steps = Number(v);
        i++;
        break;
      case '--threads':
        o.threads = v.split(',').map(Number);
        i++;
        break;
      default:
        throw new Error(`ssl-two-stage: unknown argument ${argv[i]} (--batch, --views, --size, --steps, --threads)`);
    }
  }
  return o;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) benchProjectionStep(parseArgs(process.argv.slice(2)));
