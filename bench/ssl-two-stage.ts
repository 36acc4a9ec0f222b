// The two-stage SSL training step (methods.md §3.3): ProjectionNet on 64 + 64 images at
// 224 px (2 views; `--views 3` for 3-way), cross-entropy, backward, SGD(0.03, 0.9, 3e-5),
// on the cpu backend with 1 and 2 threads, against scripts/torch_projection_step.py
// (PyTorch 1.13 / torchvision 0.14, the reference module) in the same run, its thread pools
// pinned with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS. The two sides alternate for `rounds`
// rounds (each: a warm-up step, then `steps` timed steps) and the best step of each side is
// compared: on a shared machine the best is the least disturbed. Figures are ratios within
// one run (ours / PyTorch: ≤ 1 is at least as fast). Then the time to make one sample's
// views on one thread (ColorJitter + CutPaste-Normal, + Scar for 3-way, or AnatPaste) at the
// same size, against the trainer's images per second: the worker threads must keep up.
//
//   npm run bench -- ssl-two-stage [--batch 64] [--views 2] [--size 224] [--steps 1] [--rounds 2] [--threads 1,2]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { backends, crossEntropy, Generator, randn, setBackend } from '../src/engine/index.js';
import { getBlas, getThreads, setThreads } from '../src/backend/native.js';
import { ProjectionNet } from '../src/models/projection-net.js';
import { SGD } from '../src/nn/optim/index.js';
import { syntheticDataset } from '../src/data/synthetic/index.js';
import { makeSamples, type TwoStageVariant, type ViewSettings } from '../src/methods/self-supervised/two-stage-views.js';

export interface ProjectionStepOptions {
  batch: number;
  views: number;
  size: number;
  steps: number;
  rounds: number;
  threads: number[];
}

interface Row {
  threads: number;
  oursMs: number;
  torchMs: number | null;
}

/** Best ms of `steps` ProjectionNet training steps after one warm-up, on the current backend and threads. */
export function timeProjectionStep(o: Omit<ProjectionStepOptions, 'threads' | 'rounds'>): number {
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
  return Math.min(...t);
}

function torchStep(o: Omit<ProjectionStepOptions, 'threads' | 'rounds'>, threads: number): number | string {
  const py = '/usr/bin/python3';
  if (!existsSync(py)) return 'no /usr/bin/python3';
  const script = fileURLToPath(new URL('../scripts/torch_projection_step.py', import.meta.url));
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  const args = [script, '--threads', String(threads), '--batch', String(o.batch), '--views', String(o.views), '--size', String(o.size), '--steps', String(o.steps)];
  const r = spawnSync(py, args, { encoding: 'utf8', env, maxBuffer: 1 << 24 });
  if (r.status !== 0) return `torch_projection_step.py failed: ${(r.stderr || '').trim().split('\n').pop()}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!).best_ms as number;
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
  console.log(
    `ProjectionNet training step: ${o.views} views × ${o.batch} images at ${o.size} px (${o.views * o.batch} per step); ` +
      `best step of ${o.rounds} alternating rounds × ${o.steps} after a warm-up; GEMM ${getBlas().active}`,
  );
  for (const th of o.threads) {
    setThreads(th);
    let ours = Infinity;
    let torch: number | string = Infinity;
    for (let r = 0; r < o.rounds; r++) {
      ours = Math.min(ours, timeProjectionStep(o));
      const t = torchStep(o, th);
      torch = typeof t === 'number' && typeof torch === 'number' ? Math.min(torch, t) : t;
    }
    const row: Row = { threads: th, oursMs: ours, torchMs: typeof torch === 'number' ? torch : null };
    rows.push(row);
    const ratio = row.torchMs ? `${(ours / row.torchMs).toFixed(2)}× PyTorch's time (PyTorch ${row.torchMs.toFixed(0)} ms)` : `PyTorch: ${torch}`;
    console.log(`  ${th} thread${th > 1 ? 's' : ' '}: ours ${ours.toFixed(0)} ms, ${ratio}`);
  }
  setThreads(before);
  return rows;
}

/** ms to make one sample's views (jitter + the variant's generator) on this thread, at `size` px, over `count` samples. */
export async function timeViews(variant: TwoStageVariant, size: number, count: number): Promise<number> {
  const ds = syntheticDataset(variant === 'anatpaste' ? 'synth-cxr' : 'synth-brain', { size, count: { train: 16, testNormal: 0, testAbnormal: 0 }, seed: 1 });
  const images = await ds.train.images();
  const vs: ViewSettings = { variant, seed: 0, batchSize: count, repeat3000: true, anatPasteDarkRegion: true, anatPasteEmptyRange255: true };
  makeSamples(images, 16, 1, size, vs, 0, 0, 2);
  const t0 = performance.now();
  makeSamples(images, 16, 1, size, vs, 1, 0, count);
  return (performance.now() - t0) / count;
}

function parseArgs(argv: string[]): ProjectionStepOptions {
  const o: ProjectionStepOptions = { batch: 64, views: 2, size: 224, steps: 1, rounds: 2, threads: [1, 2] };
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
      case '--rounds':
        o.rounds = Number(v);
        i++;
        break;
      case '--threads':
        o.threads = v.split(',').map(Number);
        i++;
        break;
      default:
        throw new Error(`ssl-two-stage: unknown argument ${argv[i]} (--batch, --views, --size, --steps, --rounds, --threads)`);
    }
  }
  return o;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const rows = benchProjectionStep(o);
  console.log(`\nViews per sample on one thread at ${o.size} px (ColorJitter + generator, ToTensor + Normalize):`);
  for (const v of ['normal', '3way', 'anatpaste'] as const) {
    const ms = await timeViews(v, o.size, 32);
    const need = rows.length ? Math.min(...rows.map((r) => r.oursMs)) / o.batch : NaN;
    console.log(`  ${v.padEnd(9)} ${ms.toFixed(1)} ms per sample${rows.length ? `; the trainer uses a sample every ${need.toFixed(0)} ms: ${Math.ceil(ms / need)} worker(s) keep up` : ''}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
