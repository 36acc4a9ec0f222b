// The diffusion U-Nets against PyTorch 1.13 in the same run (issue 12):
//   npm run bench -- diffusion [--nets anoddpm,monai] [--sizes 64,128] [--threads 1,2]
//     [--passes train,denoise] [--batch-train 2] [--batch-denoise 4] [--rounds 1] [--steps 1]
//     [--warmup 1] [--no-memory | --memory-only] [--memory-batch 8] [--memory-size 128] [--profile] [--no-torch]
// Quick look: `npm run bench -- diffusion --nets monai --sizes 64 --threads 1 --no-memory`.
//
// Networks: the default AnoDDPM U-Net (C 128, multipliers by size, attention at 32², 16², 8²;
// spec §2.1) and the default MONAI U-Net of AutoDDPM ((128, 256, 256), attention (F, T, T);
// spec §3.1), built with their defaults at 64 and 128 px, 1 channel.
//   train    one training step: t ~ U{0..999} per image, x_t = q-sample(x_0, n) on the linear
//            schedule, ε̂ = net(x_t, t), loss, zero_grad, backward, optimiser step — AnoDDPM:
//            l2, clip-grad-norm 1.0, AdamW(1e-4, wd 0); MONAI: MSE, Adam(1e-4).
//   denoise  one reverse-diffusion step of the batch under noGrad: ε̂ = net(x, t) at the
//            methods' first level (AnoDDPM t = 249, MONAI t = 200), x̂_0 clamped, posterior
//            mean + σ_t z.
// The PyTorch side is scripts/torch_diffusion_step.py (Debian's /usr/bin/python3, torch 1.13):
// the same nets and steps written directly in PyTorch, in one long-running child per thread
// count with OpenMP and OpenBLAS pinned to it (bench/torch-child.ts). The sides alternate, ours
// then torch's, each after a short pause, `rounds` times; each side runs `warmup` untimed steps
// then `steps` timed ones and the best is kept. ratio = PyTorch ms / ours ms on the same
// threads (≥ 1.00: ours is not slower; the issue's target). Weights are each side's default
// initialisation (zero-initialised output layers included): the time does not depend on them.
//
// Memory (unless --no-memory): the peak RSS of one AnoDDPM training step at 128 px, batch 8
// (the issue's memory figure; --memory-batch, --memory-size), ours vs PyTorch, each in a fresh
// process on one thread (bench/memory.ts's footing: process.resourceUsage().maxRSS against
// getrusage's ru_maxrss).
//
// --profile prints our kernel profile (src/engine/profile.ts) of one step per configuration.
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { backends, clamp, Generator, mseLoss, noGrad, profile, rand, randn, setBackend, tensor, type Tensor } from '../src/engine/index.js';
import { getBlas, getThreads, setThreads } from '../src/backend/native.js';
import { AdamW } from '../src/nn/optim/adamw.js';
import { Adam } from '../src/nn/optim/adam.js';
import { clipGradNorm } from '../src/nn/optim/clip-grad.js';
import { NO_TORCH, PinnedTorchChild, torchPython } from './torch-child.js';

export const NETS = ['anoddpm', 'monai'] as const;
export type Net = (typeof NETS)[number];
export const PASSES = ['train', 'denoise'] as const;
export type Pass = (typeof PASSES)[number];

export interface DiffusionBenchOptions {
  nets: Net[];
  sizes: number[];
  threads: number[];
  passes: Pass[];
  batch: Record<Pass, number>;
  rounds: number;
  steps: number;
  warmup: number;
  memory: boolean;
  /** Only the peak-RSS measurement, no timing rows. */
  memoryOnly: boolean;
  memoryBatch: number;
  memorySize: number;
  profile: boolean;
  torch: boolean;
}

export const DEFAULTS: DiffusionBenchOptions = {
  nets: [...NETS],
  sizes: [64, 128],
  threads: [1, 2],
  passes: [...PASSES],
  batch: { train: 2, denoise: 4 },
  rounds: 1,
  steps: 1,
  warmup: 1,
  memory: true,
  memoryOnly: false,
  memoryBatch: 8,
  memorySize: 128,
  profile: false,
  torch: true,
};

const USAGE =
  'diffusion: --nets anoddpm,monai --sizes 64,128 --threads 1,2 --passes train,denoise --batch-train N --batch-denoise N ' +
  '--rounds N --steps N --warmup N --no-memory --memory-only --memory-batch N --memory-size S --profile --no-torch';

function count(flag: string, v: string | undefined, min = 1): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min) throw new Error(`diffusion: ${flag} takes an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function listOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T[] {
  const list = (v ?? '').split(',').filter(Boolean);
  const bad = list.filter((x) => !(allowed as readonly string[]).includes(x));
  if (!list.length || bad.length) throw new Error(`diffusion: ${flag} takes a list of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return list as T[];
}

function size(flag: string, v: string | undefined): number {
  const s = count(flag, v, 32);
  // AnoDDPM's default multipliers exist for 32, 64, 128, 256, 512 only; MONAI needs S divisible by 4.
  if (![32, 64, 128, 256].includes(s)) throw new Error(`diffusion: ${flag} takes 32, 64, 128 or 256 (AnoDDPM's sizes with default multipliers), got ${s}`);
  return s;
}

/** Command-line arguments → options (unknown flags and bad values throw, naming the flag). */
export function parseArgs(argv: string[]): DiffusionBenchOptions {
  const o: DiffusionBenchOptions = { ...DEFAULTS, nets: [...DEFAULTS.nets], sizes: [...DEFAULTS.sizes], threads: [...DEFAULTS.threads], passes: [...DEFAULTS.passes], batch: { ...DEFAULTS.batch } };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[i + 1];
    const takes = () => i++;
    switch (flag) {
      case '--nets':
        o.nets = listOf(flag, v, NETS);
        takes();
        break;
      case '--passes':
        o.passes = listOf(flag, v, PASSES);
        takes();
        break;
      case '--sizes':
        o.sizes = (v ?? '').split(',').map((s) => size(flag, s));
        takes();
        break;
      case '--threads':
        o.threads = (v ?? '').split(',').map((t) => count(flag, t));
        takes();
        break;
      case '--batch-train':
        o.batch.train = count(flag, v);
        takes();
        break;
      case '--batch-denoise':
        o.batch.denoise = count(flag, v);
        takes();
        break;
      case '--rounds':
        o.rounds = count(flag, v);
        takes();
        break;
      case '--steps':
        o.steps = count(flag, v);
        takes();
        break;
      case '--warmup':
        o.warmup = count(flag, v, 0);
        takes();
        break;
      case '--memory-batch':
        o.memoryBatch = count(flag, v);
        takes();
        break;
      case '--memory-size':
        o.memorySize = size(flag, v);
        takes();
        break;
      case '--no-memory':
        o.memory = false;
        break;
      case '--memory-only':
        o.memory = o.memoryOnly = true;
        break;
      case '--profile':
        o.profile = true;
        break;
      case '--no-torch':
        o.torch = false;
        break;
      default:
        throw new Error(`diffusion: unknown argument ${JSON.stringify(flag)}\n${USAGE}`);
    }
  }
  return o;
}

// ---------------------------------------------------------------- our side

/** What the bench needs of a U-Net (the Denoiser contract of src/models/diffusion/denoiser.ts). */
interface BenchDenoiser {
  forward(x: Tensor, t: Float32Array): Tensor;
  parameters(): Tensor[];
  train(mode?: boolean): unknown;
}

const NET_MODULES: Record<Net, { path: string; className: string }> = {
  anoddpm: { path: '../src/models/diffusion/anoddpm-unet.js', className: 'AnoDDPMUNet' },
  monai: { path: '../src/models/diffusion/monai-unet.js', className: 'MonaiUNet' },
};

/** Our default network of `net` at `size` px, or why it cannot be built here. */
async function buildOurs(net: Net, size: number): Promise<BenchDenoiser | string> {
  const { path, className } = NET_MODULES[net];
  let mod: Record<string, unknown>;
  try {
    mod = (await import(path)) as Record<string, unknown>;
  } catch (e) {
    return `${path.slice(3)} does not load: ${(e as Error).message.split('\n')[0]}`;
  }
  const Ctor = mod[className] as (new (o: Record<string, unknown>) => BenchDenoiser) | undefined;
  if (typeof Ctor !== 'function') return `${path.slice(3)} exports no ${className}`;
  const generator = new Generator(0);
  return net === 'anoddpm' ? new Ctor({ size, generator }) : new Ctor({ generator });
}

/** The linear schedule (T = 1000, float64): β_t, ᾱ_t, ᾱ_{t−1}. */
function linearSchedule(): { betas: Float64Array; ac: Float64Array; prev: Float64Array } {
  const T = 1000;
  const betas = new Float64Array(T), ac = new Float64Array(T), prev = new Float64Array(T);
  let p = 1;
  for (let t = 0; t < T; t++) {
    betas[t] = 1e-4 + ((0.02 - 1e-4) * t) / (T - 1);
    prev[t] = p;
    p *= 1 - betas[t];
    ac[t] = p;
  }
  return { betas, ac, prev };
}
const SCHEDULE = linearSchedule();

/** One (net, size) model of ours with its optimiser and a seeded generator for the data. */
class OurStep {
  private opt: Adam | null = null;
  private readonly g = new Generator(1);
  constructor(readonly net: Net, readonly size: number, readonly model: BenchDenoiser) {}

  train(batch: number): void {
    const { net, size, model, g } = this;
    this.opt ??= net === 'anoddpm' ? new AdamW(model.parameters(), { lr: 1e-4, weightDecay: 0 }) : new Adam(model.parameters(), { lr: 1e-4 });
    model.train(true);
    const x0 = rand([batch, 1, size, size], { generator: g }).mul(2).sub(1);
    const t = new Float32Array(batch);
    const sa = new Float32Array(batch), sb = new Float32Array(batch);
    for (let i = 0; i < batch; i++) {
      t[i] = g.int(1000);
      const a = Math.fround(SCHEDULE.ac[t[i]]);
      sa[i] = Math.sqrt(a);
      sb[i] = Math.sqrt(1 - a);
    }
    const n = randn([batch, 1, size, size], { generator: g });
    const xt = x0.mul(tensor(sa, [batch, 1, 1, 1])).add(n.mul(tensor(sb, [batch, 1, 1, 1])));
    const eps = model.forward(xt, t);
    const loss = mseLoss(eps, n); // AnoDDPM's per-image mean then batch mean: the same mean at equal image sizes
    this.opt.zeroGrad();
    loss.backward();
    if (net === 'anoddpm') clipGradNorm(model.parameters(), 1);
    this.opt.step();
  }

  denoise(batch: number): void {
    const { net, size, model, g } = this;
    model.train(false);
    const t = net === 'anoddpm' ? 249 : 200;
    const b = SCHEDULE.betas[t], a = SCHEDULE.ac[t], ap = SCHEDULE.prev[t];
    const c1 = (b * Math.sqrt(ap)) / (1 - a), c2 = ((1 - ap) * Math.sqrt(1 - b)) / (1 - a);
    const sigma = Math.sqrt(net === 'anoddpm' ? b : Math.max((b * (1 - ap)) / (1 - a), 1e-20));
    const x = rand([batch, 1, size, size], { generator: g }).mul(2).sub(1);
    noGrad(() => {
      const eps = model.forward(x, new Float32Array(batch).fill(t));
      const x0 = clamp(x.mul(Math.sqrt(1 / a)).sub(eps.mul(Math.sqrt(1 / a - 1))), -1, 1);
      return x0.mul(c1).add(x.mul(c2)).add(randn(x.shape, { generator: g }).mul(sigma));
    });
  }

  run(pass: Pass, batch: number): void {
    if (pass === 'train') this.train(batch);
    else this.denoise(batch);
  }
}

/** Best wall ms and best process CPU ms (user + system, all threads) over `steps` calls after `warmup`. */
function bestMs(fn: () => void, warmup: number, steps: number): { ms: number; cpu: number } {
  for (let i = 0; i < warmup; i++) fn();
  let ms = Infinity, cpu = Infinity;
  for (let i = 0; i < steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    ms = Math.min(ms, performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
  }
  return { ms, cpu };
}

// ---------------------------------------------------------------- memory

interface Peak {
  baseMB: number;
  readyMB: number;
  peakMB: number;
}

/** In a fresh process (this file with --memory-child): one training step's resident high-water mark. */
async function memoryChild(argv: string[]): Promise<void> {
  const [net, sizeArg, batchArg, stepsArg] = argv;
  const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  const base = process.memoryUsage().rss;
  const model = await buildOurs(net as Net, Number(sizeArg));
  if (typeof model === 'string') throw new Error(model);
  const step = new OurStep(net as Net, Number(sizeArg), model);
  const ready = process.memoryUsage().rss;
  for (let i = 0; i < Number(stepsArg); i++) step.train(Number(batchArg));
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ baseMB: mb(base), readyMB: mb(ready), peakMB: mb(peak) }));
}

function parsePeak(r: ReturnType<typeof spawnSync>, who: string): Peak | string {
  if (r.status !== 0) return `${who} failed: ${String(r.stderr).trim().split('\n').pop()}`;
  return JSON.parse(String(r.stdout).trim().split('\n').pop()!) as Peak;
}

function measureMemory(o: DiffusionBenchOptions, py: string | null): { ours: Peak | string; torch: Peak | string } {
  const args = ['anoddpm', String(o.memorySize), String(o.memoryBatch), '1'];
  const self = fileURLToPath(import.meta.url);
  const ours = parsePeak(
    spawnSync(process.execPath, ['--import', 'tsx', self, '--memory-child', ...args], { encoding: 'utf8', env: { ...process.env, MEDIANOMALY_THREADS: '1' } }),
    'our memory child',
  );
  if (!py) return { ours, torch: o.torch ? NO_TORCH : 'not asked for (--no-torch)' };
  const script = fileURLToPath(new URL('../scripts/torch_diffusion_step.py', import.meta.url));
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
  const torch = parsePeak(
    spawnSync(py, [script, '--mode', 'memory', '--net', 'anoddpm', '--size', args[1], '--batch', args[2], '--steps', '1'], { encoding: 'utf8', env }),
    'torch_diffusion_step.py --mode memory',
  );
  return { ours, torch };
}

// ---------------------------------------------------------------- the run

interface TorchAnswer {
  ms: number;
  cpu_ms: number;
  params: number;
  torch: string;
}

export interface DiffusionRow {
  net: Net;
  size: number;
  pass: Pass;
  batch: number;
  threads: number;
  /** Best ms per step; a string says why there is none. */
  ours: number | string;
  torch: number | string;
  /** Best process CPU ms per step (all threads). */
  oursCpu: number;
  torchCpu: number;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
const busy = () => loadavg()[0] > availableParallelism() + 1;
function loadNote(): string {
  const [l1, l5] = loadavg();
  return `load average ${l1.toFixed(1)} / ${l5.toFixed(1)} (1 / 5 min) on ${availableParallelism()} cores`;
}

export async function benchDiffusion(o: DiffusionBenchOptions): Promise<DiffusionRow[]> {
  const py = o.torch ? torchPython() : null;
  const noTorch = !o.torch ? 'not asked for (--no-torch)' : py ? null : NO_TORCH;
  const cpu = backends().find((b) => b.name === 'cpu');
  if (cpu?.available) setBackend('cpu');
  else console.error(`cpu backend unavailable (${cpu?.reason}): ours runs on ts`);
  const before = cpu?.available ? getThreads() : 1;
  const loadBefore = loadNote();
  let wasBusy = busy();
  let version = '';
  const rows: DiffusionRow[] = [];
  const children = new Map<number, PinnedTorchChild<TorchAnswer>>();
  const child = (th: number) => {
    if (!py) return null;
    if (!children.has(th)) children.set(th, new PinnedTorchChild<TorchAnswer>(py, 'torch_diffusion_step.py', th));
    return children.get(th)!;
  };
  const failed = (e: unknown) => (e as Error).message.split('\n')[0];
  try {
    for (const net of o.memoryOnly ? [] : o.nets) {
      for (const size of o.sizes) {
        const built = await buildOurs(net, size);
        const ours = typeof built === 'string' ? built : new OurStep(net, size, built);
        if (typeof ours === 'string') console.error(`  ${net} ${size} px: ours unavailable (${ours}); PyTorch side only`);
        for (const th of o.threads) {
          if (cpu?.available) setThreads(th);
          for (const pass of o.passes) {
            const batch = o.batch[pass];
            const row: DiffusionRow = { net, size, pass, batch, threads: th, ours: typeof ours === 'string' ? ours : Infinity, torch: noTorch ?? Infinity, oursCpu: Infinity, torchCpu: Infinity };
            for (let r = 0; r < o.rounds; r++) {
              if (typeof ours !== 'string' && typeof row.ours === 'number') {
                await settle();
                try {
                  const b = bestMs(() => ours.run(pass, batch), r === 0 ? o.warmup : 0, o.steps);
                  row.ours = Math.min(row.ours, b.ms);
                  row.oursCpu = Math.min(row.oursCpu, b.cpu);
                } catch (e) {
                  row.ours = failed(e);
                }
              }
              const server = child(th);
              if (server && typeof row.torch === 'number') {
                await settle();
                try {
                  const a = await server.ask({ net, size, batch, pass, steps: o.steps, warmup: r === 0 ? o.warmup : 0 });
                  row.torch = Math.min(row.torch, a.ms);
                  row.torchCpu = Math.min(row.torchCpu, a.cpu_ms);
                  version = a.torch;
                } catch (e) {
                  row.torch = failed(e);
                }
              }
            }
            if (o.profile && typeof ours !== 'string' && typeof row.ours === 'number') {
              profile.reset();
              profile.enable();
              try {
                ours.run(pass, batch);
              } finally {
                profile.disable();
              }
              console.error(`\nour kernel profile: ${net} ${size} px ${pass} batch ${batch}, ${th} thread(s)\n${profile.table()}\n`);
            }
            wasBusy ||= busy();
            const f = (v: number | string) => (typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(0)} ms` : '–');
            console.error(
              `  ${net} ${size} px ${pass} batch ${batch} ${th}T: ours ${f(row.ours)} (CPU ${f(row.oursCpu)}), torch ${f(row.torch)} (CPU ${f(row.torchCpu)})`,
            );
            rows.push(row);
          }
        }
      }
    }
  } finally {
    for (const c of children.values()) c.close();
    if (cpu?.available) setThreads(before);
  }
  const mem = o.memory ? measureMemory(o, py) : null;

  console.log(
    `\nDiffusion U-Nets: best ms per step over ${o.rounds} round(s) × ${o.steps} step(s) after ${o.warmup} warm-up step(s), ours and PyTorch alternating` +
      `${cpu?.available ? `; cpu ${getBlas().active}` : '; ours on ts'}`,
  );
  console.log(`before: ${loadBefore}; after: ${loadNote()}\n`);
  console.log('| net | px | step | batch | threads | ours ms | PyTorch ms | ratio | ours CPU ms | PyTorch CPU ms | CPU ratio |');
  console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const ms = (v: number | string) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(0) : '–');
  const ratioOf = (a: number | string, b: number | string) => (typeof a === 'number' && typeof b === 'number' && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '–');
  for (const r of rows) {
    console.log(
      `| ${r.net} | ${r.size} | ${r.pass} | ${r.batch} | ${r.threads} | ${ms(r.ours)} | ${ms(r.torch)} | ${ratioOf(r.torch, r.ours)} | ` +
        `${ms(r.oursCpu)} | ${ms(r.torchCpu)} | ${ratioOf(r.torchCpu, r.oursCpu)} |`,
    );
  }
  const notes = new Set<string>();
  for (const r of rows) {
    if (typeof r.ours === 'string') notes.add(`${r.net} ours: ${r.ours}`);
    if (typeof r.torch === 'string') notes.add(`${r.net} PyTorch: ${r.torch}`);
  }
  for (const n of notes) console.log(`\n${n}`);
  console.log(`\nratio = PyTorch${version ? ` ${version}` : ''} ms / ours ms on the same threads (target ≥ 1.00: ours not slower)`);
  console.log(
    'CPU = process CPU time (user + system, all threads) of the same best steps: on an oversubscribed machine the 1-thread CPU ratio is the steadier figure ' +
      "(wall time there counts the waits for a core); at 2 threads it also counts either side's idle spinning",
  );
  console.log('train = q-sample + forward + loss + backward + optimiser step (AnoDDPM: clip 1.0 + AdamW; MONAI: Adam); denoise = one noGrad forward + reverse step');
  if (mem) {
    const cell = (p: Peak | string) => (typeof p === 'string' ? `— (${p})` : `${p.peakMB.toFixed(0)} (base ${p.baseMB.toFixed(0)}, model ${p.readyMB.toFixed(0)})`);
    const ratio = typeof mem.ours === 'string' || typeof mem.torch === 'string' ? '—' : `${(mem.ours.peakMB / mem.torch.peakMB).toFixed(2)}×`;
    console.log(`\nPeak RSS, one AnoDDPM training step at ${o.memorySize} px, batch ${o.memoryBatch}, 1 thread (fresh process each):`);
    console.log('| ours MB | PyTorch MB | ours / PyTorch |');
    console.log('|---:|---:|---:|');
    console.log(`| ${cell(mem.ours)} | ${cell(mem.torch)} | ${ratio} |`);
  }
  if (wasBusy || busy()) console.log(`\nThe machine was busy during the run (load average above ${availableParallelism() + 1}): the ratios are not reliable; rerun on a quiet machine.`);
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--memory-child') {
    await memoryChild(argv.slice(1));
  } else {
    let opts: DiffusionBenchOptions | null = null;
    try {
      opts = parseArgs(argv);
    } catch (e) {
      console.error((e as Error).message);
      process.exitCode = 2;
    }
    if (opts) await benchDiffusion(opts);
  }
}
