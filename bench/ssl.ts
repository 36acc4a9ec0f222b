// Self-supervised training steps vs PyTorch: `npm run bench -- ssl [one-stage|generate|projection|all] [--threads 1,2] [--repeats 3] [--rounds 2] [--batch 16] [--size 224]`
//
// one-stage   one training step of the one-stage SSL network (methods.md §4.5: the ResNet18
//             encoder–decoder) at batch 16, 224 px: zero_grad, forward, BCE, backward,
//             Adam 1e-3; ours on the cpu backend vs scripts/torch_ssl_step.py (PyTorch 1.13,
//             the reference module) in the same run, on each thread count, the two sides
//             alternating; torch's child pinned with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS
//             (Debian's torch runs 1×1 convolutions on OpenBLAS, whose pool ignores
//             set_num_threads). Best of `repeats` steps after two warm-up steps, over
//             `rounds` rounds in which the two sides alternate.
// generate    synthetic samples per second at 224 px for each one-stage preset, on one
//             thread (transforms + patchEx), set against the trainer's images per second:
//             the ratio says how many sample workers keep the trainer fed.
// projection  the two-stage ProjectionNet step (bench/ssl-two-stage.ts).
//
// Figures are ratios within one run (ours / PyTorch: ≤ 1 is at least as fast); the machine
// may be shared, so the best of several steps is reported, never a mean.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { backends, bceWithLogitsLoss, Generator, setBackend, Tensor } from '../src/engine/index.js';
import { getBlas, getThreads, setThreads } from '../src/backend/native.js';
import { SslResNet } from '../src/models/ssl-resnet.js';
import { Adam } from '../src/nn/optim/adam.js';
import { patchExPresets } from '../src/anomalies/index.js';
import { oneStageGeometry, makeSample, type SampleSettings } from '../src/methods/self-supervised/one-stage-data.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

function python(): string | null {
  const py = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const probe = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
  return probe.status === 0 ? py : null;
}

/** PyTorch's step in ms on `threads` threads, or the reason there is none. */
export function torchSslStep(threads: number, batch: number, size: number, repeats: number): number | string {
  const py = python();
  if (!py) return 'no python3 with torch (apt-get install python3-torch)';
  const script = fileURLToPath(new URL('../scripts/torch_ssl_step.py', import.meta.url));
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  const r = spawnSync(py, [script, 'bench', '--threads', String(threads), '--batch', String(batch), '--size', String(size), '--repeats', String(repeats)], { encoding: 'utf8', env, maxBuffer: 1 << 24 });
  if (r.status !== 0) return `torch_ssl_step.py failed: ${r.stderr.trim().split('\n').pop()}`;
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number }).ms;
}

/** Our step in ms (best of `repeats` after two warm-ups), on the current backend and threads. */
export function oursSslStep(batch: number, size: number, repeats: number): number {
  const net = new SslResNet({ generator: new Generator(0) });
  net.train();
  const opt = new Adam(net.parameters(), { lr: 1e-3 });
  const g = new Generator(1);
  const n = batch * size * size;
  const x = Tensor.fromData(Float32Array.from({ length: n }, () => g.uniformFloat32()), [batch, 1, size, size]);
  const t = Tensor.fromData(Float32Array.from({ length: n }, () => (g.uniform() > 0.9 ? 1 : 0)), [batch, 1, size, size]);
  const step = () => {
    opt.zeroGrad();
    bceWithLogitsLoss(net.logits(x), t).backward();
    opt.step();
  };
  step();
  step();
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    step();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

export function benchOneStage(threads: number[], repeats: number, batch: number, size: number, rounds = 2): Map<number, { ours: number; torch: number | string }> {
  if (!backends().find((b) => b.name === 'cpu')?.available) throw new Error('bench ssl one-stage needs the native addon (npm run build:native)');
  setBackend('cpu');
  const before = getThreads();
  const rows = new Map<number, { ours: number; torch: number | string }>();
  // Rounds alternate the two sides, so that a busy spell on a shared machine hits both; each keeps its best.
  for (let round = 0; round < rounds; round++) {
    for (const th of threads) {
      setThreads(th);
      const torch = torchSslStep(th, batch, size, repeats);
      const ours = oursSslStep(batch, size, repeats);
      const prev = rows.get(th);
      const bestTorch = typeof torch === 'number' && typeof prev?.torch === 'number' ? Math.min(torch, prev.torch) : typeof torch === 'number' ? torch : (prev?.torch ?? torch);
      rows.set(th, { ours: Math.min(ours, prev?.ours ?? Infinity), torch: bestTorch });
    }
  }
  setThreads(before);
  console.log(`\nOne-stage SSL training step, batch ${batch}, ${size} px (best of ${repeats} steps × ${rounds} alternating rounds; cpu, ${getBlas().active})\n`);
  console.log('| threads | ours ms | PyTorch 1.13 ms | ours / PyTorch | speed vs PyTorch |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const [th, r] of rows) {
    const t = typeof r.torch === 'number' ? r.torch : NaN;
    console.log(`| ${th} | ${r.ours.toFixed(0)} | ${Number.isNaN(t) ? '—' : t.toFixed(0)} | ${Number.isNaN(t) ? '—' : (r.ours / t).toFixed(2)} | ${Number.isNaN(t) ? '—' : `${(t / r.ours).toFixed(2)}×`} |`);
  }
  for (const r of rows.values()) if (typeof r.torch === 'string') console.log(`PyTorch: ${r.torch}`);
  return rows;
}

/** Samples per second of each preset on this thread, at 224 px from 256 px images. */
export function benchGenerate(count: number, trainerImagesPerSecond?: number): void {
  const g = oneStageGeometry('bench', 256, null);
  const plane = 256 * 256;
  // Disc-shaped "organs" with texture, so that the object checks of patchEx pass as on real images.
  const images = new Uint8Array(8 * plane);
  const rng = new Generator(2);
  for (let k = 0; k < 8; k++) {
    const r = 90 + 20 * rng.uniform();
    for (let y = 0; y < 256; y++)
      for (let x = 0; x < 256; x++) {
        const d = Math.hypot(x - 128, y - 128);
        images[k * plane + y * 256 + x] = d < r ? 60 + Math.round(120 * rng.uniform() * 0.3 + 80 * Math.sin(x / 9 + k) ** 2) : 0;
      }
  }
  const n = g.crop * g.crop;
  const input = new Float32Array(n);
  const label = new Float32Array(n);
  console.log(`\nSynthetic samples at ${g.crop} px (transforms + patchEx), one thread${trainerImagesPerSecond ? `; trainer ${trainerImagesPerSecond.toFixed(1)} images/s` : ''}\n`);
  console.log(`| preset | ms / sample | samples/s |${trainerImagesPerSecond ? ' workers to keep up |' : ''}`);
  console.log(`|---|---:|---:|${trainerImagesPerSecond ? '---:|' : ''}`);
  for (const preset of ['cutpaste', 'fpi', 'pii', 'nsa'] as const) {
    const settings: SampleSettings = { seed: 0, geometry: g, patch: patchExPresets[preset] };
    const t0 = performance.now();
    let done = 0;
    let failure = '';
    try {
      for (let i = 0; i < count; i++, done++) makeSample(images, { index: i % 8, source: (i + 7) % 8, epoch: 1, position: i }, settings, input, label, 0);
    } catch (e) {
      failure = (e as Error).message;
    }
    if (failure) {
      console.log(`| ${preset} | — | — |${trainerImagesPerSecond ? ' — |' : ''} (${failure})`);
      continue;
    }
    const ms = (performance.now() - t0) / done;
    const sps = 1000 / ms;
    console.log(`| ${preset} | ${ms.toFixed(1)} | ${sps.toFixed(0)} |${trainerImagesPerSecond ? ` ${(trainerImagesPerSecond / sps).toFixed(2)} |` : ''}`);
  }
}

async function main(): Promise<void> {
  const what = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'all';
  const threads = arg('threads', '1,2').split(',').map(Number);
  const repeats = Number(arg('repeats', '3'));
  const batch = Number(arg('batch', '16'));
  const size = Number(arg('size', '224'));
  let trainerIps: number | undefined;
  if (what === 'one-stage' || what === 'all') {
    const rows = benchOneStage(threads, repeats, batch, size, Number(arg('rounds', '2')));
    const best = Math.min(...[...rows.values()].map((r) => r.ours));
    trainerIps = (batch * 1000) / best;
  }
  if (what === 'generate' || what === 'all') benchGenerate(Number(arg('samples', '40')), trainerIps);
  if (what === 'projection' || what === 'all') {
    const file = new URL('./ssl-two-stage.ts', import.meta.url);
    if (!existsSync(fileURLToPath(file))) console.log('\nprojection: bench/ssl-two-stage.ts is not there yet');
    else {
      const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(file), '--threads', threads.join(',')], { stdio: 'inherit' });
      if (r.status !== 0) process.exitCode = r.status ?? 1;
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
