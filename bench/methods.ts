// Method training throughput (images/s) through the public Method API — the same fit()
// loop a real run uses: batching, forward, backward, Adam — for ae, memae and dae at their
// reference sizes (64 px batch 64; DAE 128 px batch 16), on the native cpu backend with 1
// thread and with every core, on the ts reference backend, and in PyTorch (CPU) when
// Debian's python3 has torch. Prints the ratios of one run, then the projected wall time
// of the full reference AE benchmark (7 datasets, 250 epochs — 600 on brain-tumor —, train
// counts of methods.md §2.1).
//
//   node --import tsx bench/methods.ts [--methods ae,memae,dae] [--ts-dae] [--no-torch]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { backends, setBackend } from '../src/engine/index.js';
import { getBlas, getThreads, setThreads } from '../src/backend/native.js';
import { syntheticDataset } from '../src/data/synthetic/index.js';
import { createMethod, methods } from '../src/methods/registry.js';

interface Config {
  method: string;
  size: number;
  batch: number;
  /** Steps timed after the warm-up, per backend kind. */
  steps: { native: number; ts: number };
  warmup: number;
}

interface Row {
  method: string;
  run: string;
  imagesPerSecond: number;
  stepMs: number;
}

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const listArg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1].split(',') : undefined;
};

function config(method: string): Config {
  const info = methods.info(method);
  const batch = Number(info.options.find((o) => o.name === 'batchSize')?.default ?? 64);
  const heavy = info.defaultSize >= 128;
  return { method, size: info.defaultSize, batch, steps: { native: heavy ? 2 : 6, ts: heavy ? 1 : 2 }, warmup: heavy ? 1 : 2 };
}

/** Median images/s over `steps` training steps after `warmup`, timed from fit's per-step progress reports. */
async function throughput(c: Config, steps: number, label: string): Promise<Row> {
  const n = c.batch * (c.warmup + steps);
  const data = syntheticDataset('synth-brain', { size: c.size, count: { train: n, testNormal: 1, testAbnormal: 1 } });
  await data.train.images(); // generation is not training
  const m = createMethod(c.method, { size: c.size, epochs: 1, batchSize: c.batch, seed: 0 });
  const stamps: number[] = [];
  const start = performance.now();
  await m.fit(data.train, { onProgress: () => stamps.push(performance.now()) });
  const times = [start, ...stamps];
  const durations = times.slice(1 + c.warmup).map((t, i) => t - times[c.warmup + i]).sort((a, b) => a - b);
  const stepMs = durations[Math.floor(durations.length / 2)];
  process.stderr.write(`  ${c.method} ${label}: ${stepMs.toFixed(0)} ms/step\n`);
  return { method: c.method, run: label, stepMs, imagesPerSecond: (1000 * c.batch) / stepMs };
}

interface TorchRow {
  threads: number;
  train_step_ms: number;
  images_per_s?: number;
  batch: number;
  torch: string;
}

function python(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** PyTorch rows for `c`, or the reason there are none. */
function torchRows(c: Config, threads: number[]): TorchRow[] | string {
  const py = python();
  if (spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0) return `${py} has no torch (apt-get install python3-torch)`;
  const ref = fileURLToPath(new URL('../scripts/torch_ae_step.py', import.meta.url));
  const own = fileURLToPath(new URL('../scripts/torch_method_step.py', import.meta.url));
  let cmd: string[];
  if (c.method === 'ae') {
    if (!existsSync(ref)) return `no reference script at ${ref}`;
    cmd = [ref, '--threads', threads.join(','), '--batch', String(c.batch), '--size', String(c.size), '--steps', String(c.steps.native)];
  } else if (c.method === 'memae' || c.method === 'dae') {
    cmd = [own, '--method', c.method, '--threads', threads.join(','), '--steps', String(c.steps.native), '--warmup', String(c.warmup)];
  } else return `no PyTorch script for ${c.method}`;
  const r = spawnSync(py, cmd, { encoding: 'utf8' });
  if (r.status !== 0) return `PyTorch script failed: ${r.stderr.trim().split('\n').pop()}`;
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TorchRow);
}

/** Train counts (methods.md §2.1) and reference epochs (§3.1) of the seven datasets. */
const REFERENCE_RUNS = [
  { dataset: 'rsna', train: 3851, epochs: 250 },
  { dataset: 'vincxr', train: 4000, epochs: 250 },
  { dataset: 'brain-tumor', train: 1000, epochs: 600 },
  { dataset: 'lag', train: 1500, epochs: 250 },
  { dataset: 'isic2018', train: 6705, epochs: 250 },
  { dataset: 'camelyon16', train: 5088, epochs: 250 },
  { dataset: 'brats2021', train: 4211, epochs: 250 },
];

function hours(seconds: number): string {
  return seconds >= 3600 ? `${(seconds / 3600).toFixed(1)} h` : `${(seconds / 60).toFixed(0)} min`;
}

async function main(): Promise<void> {
  const registered = new Set(methods.names());
  const wanted = (listArg('methods') ?? ['ae', 'memae', 'dae']).filter((m) => {
    if (!registered.has(m)) console.log(`${m}: not registered here, skipped`);
    return registered.has(m);
  });
  const cores = availableParallelism();
  const cpu = backends().find((b) => b.name === 'cpu');
  const rows: Row[] = [];
  const torch = new Map<string, TorchRow[] | string>();
  for (const m of wanted) {
    const c = config(m);
    if (cpu?.available) {
      setBackend('cpu');
      const before = getThreads();
      for (const th of cores > 1 ? [1, cores] : [1]) {
        setThreads(th);
        rows.push(await throughput(c, c.steps.native, `cpu ${th}T`));
      }
      setThreads(before);
    }
    if (c.size < 128 || flag('ts-dae')) {
      setBackend('ts');
      rows.push(await throughput(c, c.steps.ts, 'ts'));
    }
    if (!flag('no-torch')) torch.set(m, torchRows(c, cores > 1 ? [1, cores] : [1]));
  }

  console.log(`\nTraining throughput through Method.fit (images/s, median step; ${cores} CPUs${cpu?.available ? `, BLAS ${getBlas().active}` : ''})\n`);
  console.log('| method | size | batch | run | ms/step | images/s |');
  console.log('|---|---:|---:|---|---:|---:|');
  for (const m of wanted) {
    const c = config(m);
    for (const r of rows.filter((x) => x.method === m)) console.log(`| ${m} | ${c.size} | ${c.batch} | ${r.run} | ${r.stepMs.toFixed(0)} | ${r.imagesPerSecond.toFixed(1)} |`);
    const t = torch.get(m);
    if (Array.isArray(t)) for (const tr of t) console.log(`| ${m} | ${c.size} | ${c.batch} | PyTorch ${tr.torch} ${tr.threads}T | ${tr.train_step_ms.toFixed(0)} | ${((1000 * tr.batch) / tr.train_step_ms).toFixed(1)} |`);
    else if (t) console.log(`| ${m} | ${c.size} | ${c.batch} | PyTorch: ${t} | | |`);
    if (c.size >= 128 && !flag('ts-dae')) console.log(`| ${m} | ${c.size} | ${c.batch} | ts: skipped (minutes per step; --ts-dae to include) | | |`);
  }

  console.log('\nRatios (same run; > 1 means faster than the reference point):');
  for (const m of wanted) {
    const get = (run: string) => rows.find((r) => r.method === m && r.run === run)?.imagesPerSecond;
    const one = get('cpu 1T');
    const all = get(`cpu ${cores}T`);
    const ts = get('ts');
    const parts: string[] = [];
    if (one && ts) parts.push(`cpu 1T / ts ${(one / ts).toFixed(1)}×`);
    if (one && all && cores > 1) parts.push(`cpu ${cores}T / cpu 1T ${(all / one).toFixed(2)}×`);
    const t = torch.get(m);
    if (Array.isArray(t)) {
      for (const tr of t) {
        const ours = tr.threads === 1 ? one : all;
        if (ours) parts.push(`cpu ${tr.threads}T / PyTorch ${tr.threads}T ${(ours / ((1000 * tr.batch) / tr.train_step_ms)).toFixed(2)}×`);
      }
    }
    console.log(`  ${m}: ${parts.join(', ') || 'no pair measured'}`);
  }

  const ae = rows.filter((r) => r.method === 'ae');
  if (ae.length) {
    const images = REFERENCE_RUNS.reduce((a, r) => a + r.train * r.epochs, 0);
    console.log(`\nProjected training time of the full reference AE benchmark: ${REFERENCE_RUNS.length} datasets, ${(images / 1e6).toFixed(2)} M training images per seed`);
    console.log(`(${REFERENCE_RUNS.map((r) => `${r.dataset} ${r.train}×${r.epochs}`).join(', ')}; test passes and data loading not included)\n`);
    console.log('| run | images/s | one seed | 3 seeds |');
    console.log('|---|---:|---:|---:|');
    const t = torch.get('ae');
    const points = [...ae.map((r) => ({ run: r.run, ips: r.imagesPerSecond })), ...(Array.isArray(t) ? t.map((tr) => ({ run: `PyTorch ${tr.threads}T`, ips: (1000 * tr.batch) / tr.train_step_ms })) : [])];
    for (const p of points) console.log(`| ${p.run} | ${p.ips.toFixed(0)} | ${hours(images / p.ips)} | ${hours((3 * images) / p.ips)} |`);
  }
}

await main();
