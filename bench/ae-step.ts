// The unified AE training step (batch 64, 64×64, 1 channel, latent 16, hidden 1024 — the
// MedIAnomaly reference configuration) on every backend available here, and PyTorch's time
// for the same network from scripts/torch_ae_step.py in the same run when
// Debian's python3 with python3-torch is present. Figures are ratios within one run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { backends, mseLoss, noGrad, randn, setBackend, type Tensor } from '../src/engine/index.js';
import { getBlas, getThreads, setThreads } from '../src/backend/native.js';
import { UnifiedAE } from '../src/models/unified-ae.js';
import { Adam } from '../src/nn/optim/adam.js';

export interface StepTiming {
  label: string;
  trainStepMs: number;
  inferMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Times `steps` training steps and `steps` inference passes after `warmup` of each. */
export function timeAeStep(label: string, opts: { batch: number; size: number; steps: number; warmup: number }): StepTiming {
  const model = new UnifiedAE({ size: opts.size, seed: 0 });
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const x = randn([opts.batch, 1, opts.size, opts.size], { seed: 1 });
  const step = (): void => {
    opt.zeroGrad();
    const loss = mseLoss(model.forward(x) as Tensor, x);
    loss.backward();
    opt.step();
  };
  model.train();
  for (let i = 0; i < opts.warmup; i++) step();
  const train: number[] = [];
  for (let i = 0; i < opts.steps; i++) {
    const t = performance.now();
    step();
    train.push(performance.now() - t);
  }
  model.eval();
  const infer: number[] = [];
  noGrad(() => {
    for (let i = 0; i < opts.warmup; i++) model.forward(x);
    for (let i = 0; i < opts.steps; i++) {
      const t = performance.now();
      model.forward(x);
      infer.push(performance.now() - t);
    }
  });
  return { label, trainStepMs: median(train), inferMs: median(infer) };
}

interface TorchRow {
  threads: number;
  train_step_ms: number;
  infer_ms: number;
  torch: string;
}

/** PyTorch's times for the same network, or the reason there are none. */
export function torchAeStep(threads: number[], batch: number, size: number): TorchRow[] | string {
  const script = fileURLToPath(new URL('../scripts/torch_ae_step.py', import.meta.url));
  if (!existsSync(script)) return `no reference script at ${script}`;
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${python} has no torch (apt-get install python3-torch)`;
  // One child per thread count, its BLAS and OpenMP pools pinned to that count: Debian's
  // torch runs some layers on OpenBLAS, whose pool ignores torch.set_num_threads, and a
  // process that already ran at 2 threads keeps that pool for its 1-thread figures.
  const rows: TorchRow[] = [];
  for (const th of threads) {
    const r = spawnSync(python, [script, '--threads', String(th), '--batch', String(batch), '--size', String(size)], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: String(th), OPENBLAS_NUM_THREADS: String(th) },
    });
    if (r.status !== 0) return `torch_ae_step.py failed: ${r.stderr.trim().split('\n').pop()}`;
    rows.push(...r.stdout.trim().split('\n').map((l) => JSON.parse(l) as TorchRow));
  }
  return rows;
}

export function benchAeStep(args: { batch?: number; size?: number; steps?: number } = {}): void {
  const batch = args.batch ?? 64;
  const size = args.size ?? 64;
  const steps = args.steps ?? 10;
  const rows: StepTiming[] = [];
  const cpu = backends().find((b) => b.name === 'cpu');
  if (cpu?.available) {
    setBackend('cpu');
    const before = getThreads();
    for (const th of [1, 2]) {
      setThreads(th);
      rows.push(timeAeStep(`cpu ${th} thread${th > 1 ? 's' : ''} (${getBlas().active})`, { batch, size, steps, warmup: 3 }));
      console.error(`  ${rows[rows.length - 1].label}: done`);
    }
    setThreads(before);
  } else {
    console.log(`cpu backend unavailable: ${cpu?.reason}`);
  }
  setBackend('ts');
  rows.push(timeAeStep('ts', { batch, size, steps: 2, warmup: 1 }));
  const torch = torchAeStep([1, 2], batch, size);

  console.log(`\nUnified AE, batch ${batch}, ${size}×${size}, 1 channel, latent 16, hidden 1024 (median ms per call)\n`);
  console.log('| run | train step ms | inference ms |');
  console.log('|---|---:|---:|');
  for (const r of rows) console.log(`| ${r.label} | ${r.trainStepMs.toFixed(1)} | ${r.inferMs.toFixed(1)} |`);
  if (typeof torch === 'string') console.log(`\nPyTorch: not measured (${torch})`);
  else for (const t of torch) console.log(`| PyTorch ${t.torch} ${t.threads} thread(s) | ${t.train_step_ms.toFixed(1)} | ${t.infer_ms.toFixed(1)} |`);

  console.log('\nRatios (same run):');
  const ts = rows.find((r) => r.label === 'ts')!;
  for (const th of [1, 2]) {
    const ours = rows.find((r) => r.label.startsWith(`cpu ${th} `));
    if (!ours) continue;
    console.log(`  cpu ${th}T vs ts: ${(ts.trainStepMs / ours.trainStepMs).toFixed(1)}× faster (train step)`);
    if (typeof torch !== 'string') {
      const t = torch.find((r) => r.threads === th);
      if (t) {
        console.log(
          `  cpu ${th}T / PyTorch ${th}T time: train ${(ours.trainStepMs / t.train_step_ms).toFixed(2)}×, inference ${(ours.inferMs / t.infer_ms).toFixed(2)}× (target ≤ 0.80)`,
        );
      }
    }
  }
}

/** 1000 training steps: resident memory after warm-up vs at the end, and the peak. */
export function benchAeMemory(steps = 1000): void {
  const cpu = backends().find((b) => b.name === 'cpu');
  setBackend(cpu?.available ? 'cpu' : 'ts');
  const model = new UnifiedAE({ size: 64, seed: 0 });
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const x = randn([64, 1, 64, 64], { seed: 1 });
  const mb = (b: number): string => (b / 2 ** 20).toFixed(1);
  let warm = 0;
  const t0 = performance.now();
  for (let i = 1; i <= steps; i++) {
    opt.zeroGrad();
    mseLoss(model.forward(x) as Tensor, x).backward();
    opt.step();
    if (i === 50) warm = process.memoryUsage().rss;
    if (i % 100 === 0) console.error(`  step ${i}: rss ${mb(process.memoryUsage().rss)} MB`);
  }
  const end = process.memoryUsage().rss;
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(`\n${steps} AE training steps on ${cpu?.available ? 'cpu' : 'ts'} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`rss after 50 steps: ${mb(warm)} MB; at the end: ${mb(end)} MB (growth ${mb(end - warm)} MB); peak ${mb(peak)} MB (target < 300 MB)`);
}
