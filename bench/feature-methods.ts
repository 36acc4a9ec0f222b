// Training speed of the backbone-fed trained methods against PyTorch, in the same run:
// `npm run bench -- feature-methods [--methods rd4ad,cflow] [--threads 1,2] [--rounds 1] [--steps 1]
//   [--batch-rd4ad 8] [--batch-cflow 8] [--size 256] [--zero-grad zeros|none] [--no-torch]`
//
// rd4ad: one training step on an image batch (frozen wide_resnet50_2 teacher to layer3, OCBE
// of width 1024, the reverse decoder, global cosine loss, Adam 0.005 / (0.5, 0.999)).
// cflow: one image batch = the frozen encoder to layer4, then every fiber step of the three
// levels (8 conditional coupling blocks per level, P = 128, fiber batches of 256, one Adam
// step per fiber batch; no rotation augmentation: that is the data loader's work, not the
// step's).
//
// Ours runs through the public Method API — createMethod + fit on a split of random 3-channel
// images at 256 px, epochs 1, `1 + steps` batches: the first is the warm-up, the rest are
// timed from fit's per-step progress — so the figure is the training loop a real run uses.
// The other side is scripts/torch_feature_step.py (Debian's /usr/bin/python3: torch 1.13,
// torchvision 0.14), the same steps written directly in PyTorch, in a long-running child per
// thread count whose OpenMP and OpenBLAS pools are pinned to that count (Debian's torch runs
// some GEMMs on OpenBLAS, whose pool ignores torch.set_num_threads). Both sides use random
// torchvision-initialised weights: the time does not depend on them.
//
// The two sides alternate, one round of ours then one of torch's, each after a 300 ms pause
// (OpenBLAS and OpenMP workers spin for a while after a call; see bench/backbone.ts), and the
// best step of each side over the rounds is compared: on a shared machine the best is the
// least disturbed. The figure that matters is the ratio ours / PyTorch images per second on
// the same threads (target ≥ 1.0). The load average before and after is printed: on a busy
// machine the ratios mean little.
//
// Batches are smaller than the methods' defaults (RD4AD trains with 16, CFlow with 32) so
// that the whole bench runs in minutes on two cores; images/s hardly depends on the batch at
// these sizes, and both sides use the same one.
//
// CFlow's gradient zeroing (`--zero-grad`, both sides): `zeros` (default, the cflow option
// zeroGrad of the official preset) is what torch 1.13's optimizer.zero_grad() does and the
// official code therefore runs — after the first image batch, Adam updates all three flows'
// parameters (82 M) at every fiber step, a momentum-only step for the levels not being
// trained —; `none` (anomalib's, PyTorch ≥ 2) lets Adam skip them.
import { availableParallelism, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { backends, setBackend } from '../src/engine/index.js';
import { getBlas, getThreads, setThreads } from '../src/backend/native.js';
import type { Batch, Item, Split } from '../src/data/types.js';
import { createMethod, methods } from '../src/methods/registry.js';
import { NO_TORCH, PinnedTorchChild, torchPython } from './torch-child.js';

export const FEATURE_METHODS = ['rd4ad', 'cflow'] as const;
export type FeatureMethod = (typeof FEATURE_METHODS)[number];
export type ZeroGrad = 'zeros' | 'none';

export interface FeatureBenchOptions {
  methods: FeatureMethod[];
  threads: number[];
  /** Alternating rounds (each: one fit of ours, one request to torch). */
  rounds: number;
  /** Timed image batches per round and side, after one warm-up batch. */
  steps: number;
  batch: Record<FeatureMethod, number>;
  size: number;
  /** How CFlow zeroes gradients, on both sides (see the header). */
  zeroGrad: ZeroGrad;
  torch: boolean;
}

export const DEFAULTS: FeatureBenchOptions = {
  methods: [...FEATURE_METHODS],
  threads: [1, 2],
  rounds: 1,
  steps: 1,
  batch: { rd4ad: 8, cflow: 8 },
  size: 256,
  zeroGrad: 'zeros',
  torch: true,
};

const USAGE =
  'feature-methods: --methods rd4ad,cflow --threads 1,2 --rounds N --steps N --batch-rd4ad N --batch-cflow N --size S --zero-grad zeros|none --no-torch';

function positiveInt(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < 1) throw new Error(`feature-methods: ${flag} takes a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Command-line arguments → options (unknown flags and bad values throw, naming the flag). */
export function parseArgs(argv: string[]): FeatureBenchOptions {
  const o: FeatureBenchOptions = { ...DEFAULTS, methods: [...DEFAULTS.methods], threads: [...DEFAULTS.threads], batch: { ...DEFAULTS.batch } };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[i + 1];
    switch (flag) {
      case '--methods': {
        const list = (v ?? '').split(',').filter(Boolean);
        const bad = list.filter((m) => !(FEATURE_METHODS as readonly string[]).includes(m));
        if (!list.length || bad.length) throw new Error(`feature-methods: --methods takes a list of ${FEATURE_METHODS.join(', ')}, got ${JSON.stringify(v)}`);
        o.methods = list as FeatureMethod[];
        i++;
        break;
      }
      case '--threads':
        o.threads = (v ?? '').split(',').map((t) => positiveInt('--threads', t));
        i++;
        break;
      case '--rounds':
        o.rounds = positiveInt(flag, v);
        i++;
        break;
      case '--steps':
        o.steps = positiveInt(flag, v);
        i++;
        break;
      case '--batch-rd4ad':
        o.batch.rd4ad = positiveInt(flag, v);
        i++;
        break;
      case '--batch-cflow':
        o.batch.cflow = positiveInt(flag, v);
        i++;
        break;
      case '--size':
        o.size = positiveInt(flag, v);
        if (o.size % 32) throw new Error(`feature-methods: --size must be a multiple of 32 (the backbones' stride), got ${o.size}`);
        i++;
        break;
      case '--zero-grad':
        if (v !== 'zeros' && v !== 'none') throw new Error(`feature-methods: --zero-grad takes zeros or none, got ${JSON.stringify(v)}`);
        o.zeroGrad = v;
        i++;
        break;
      case '--no-torch':
        o.torch = false;
        break;
      default:
        throw new Error(`feature-methods: unknown argument ${JSON.stringify(flag)}\n${USAGE}`);
    }
  }
  return o;
}

/** A training split of `n` seeded random 3-channel images in [-1, 1] (random weights see no difference to real ones). */
export function randomSplit(n: number, size: number, seed = 1): Split {
  const channels = 3;
  const per = channels * size * size;
  const images = new Float32Array(n * per);
  let s = seed >>> 0;
  for (let i = 0; i < images.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    images[i] = s / 2 ** 31 - 1;
  }
  const ids = Array.from({ length: n }, (_, i) => `random-${i}`);
  const labels = new Uint8Array(n);
  const item = async (i: number): Promise<Item> => {
    if (!(i >= 0 && i < n)) throw new RangeError(`item ${i} outside [0, ${n})`);
    return { id: ids[i], path: ids[i], label: 0, image: images.slice(i * per, (i + 1) * per) };
  };
  return {
    dataset: 'random',
    name: 'train',
    length: n,
    channels,
    size,
    ids,
    paths: ids,
    labels,
    hasMasks: false,
    counts: { normal: n, abnormal: 0 },
    item,
    async batch(indices: ArrayLike<number>): Promise<Batch> {
      const idx = Array.from(indices);
      const out = new Float32Array(idx.length * per);
      idx.forEach((k, j) => out.set(images.subarray(k * per, (k + 1) * per), j * per));
      return { n: idx.length, channels, size, ids: idx.map((k) => ids[k]), labels: new Uint8Array(idx.length), images: out };
    },
    images: async () => images,
    masks: async () => undefined,
  };
}

/** Why our side of `m` cannot run here, or null. */
export function unavailable(m: FeatureMethod): string | null {
  if (!methods.names().includes(m)) return `method not available: "${m}" is not registered in this checkout (src/methods/builtin.ts)`;
  const cpu = backends().find((b) => b.name === 'cpu');
  if (!cpu?.available) return `the cpu backend is not available (${cpu?.reason}); build it with npm run build:native`;
  return null;
}

/** The options our side trains with: the method's defaults (the official code) at the bench's geometry. */
export function methodOptions(m: FeatureMethod, o: Pick<FeatureBenchOptions, 'batch' | 'size' | 'zeroGrad'>): Record<string, unknown> {
  const common = { size: o.size, channels: 3, epochs: 1, batchSize: o.batch[m], seed: 0, backbone: 'wide_resnet50_2', weights: 'random' };
  // CFlow's rotation augmentation is the data loader's work in the reference, not the step's.
  return m === 'cflow' ? { ...common, zeroGrad: o.zeroGrad, rotation: 0 } : common;
}

/**
 * Best ms per image batch of our `m` over `steps` timed batches after one warm-up batch, on
 * the current backend and thread count: one fit() on `(1 + steps) · batch` images, timed from
 * its per-step progress reports (the first report also holds building the networks).
 */
export async function oursStep(m: FeatureMethod, o: Pick<FeatureBenchOptions, 'batch' | 'size' | 'steps' | 'zeroGrad'>): Promise<number> {
  const batch = o.batch[m];
  const split = randomSplit(batch * (1 + o.steps), o.size);
  const name: string = m; // through the run-time-checked signature: the methods may not be built in yet
  const method = createMethod(name, methodOptions(m, o));
  const stamps: number[] = [];
  await method.fit(split, { onProgress: () => stamps.push(performance.now()), onMessage: () => {} });
  if (stamps.length !== 1 + o.steps) throw new Error(`feature-methods: ${m}.fit made ${stamps.length} steps, expected ${1 + o.steps}`);
  let best = Infinity;
  for (let i = 1; i < stamps.length; i++) best = Math.min(best, stamps[i] - stamps[i - 1]);
  return best;
}

interface TorchAnswer {
  ms: number;
  all_ms: number[];
  fiber_steps: number | null;
  torch: string;
}

const SETTLE_MS = 300;
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/** True when the 1-minute load average is above the cores plus one (the bench's own process). */
function busy(): boolean {
  return loadavg()[0] > availableParallelism() + 1;
}

function loadNote(): string {
  const [l1, l5] = loadavg();
  return `load average ${l1.toFixed(1)} / ${l5.toFixed(1)} (1 / 5 min) on ${availableParallelism()} cores`;
}

export interface FeatureRow {
  method: FeatureMethod;
  threads: number;
  batch: number;
  /** Best ms per image batch; a string says why there is none. */
  ours: number | string;
  torch: number | string;
  fiberSteps?: number | null;
}

export async function benchFeatureMethods(o: FeatureBenchOptions): Promise<FeatureRow[]> {
  const py = o.torch ? torchPython() : null;
  const noTorch = !o.torch ? 'not asked for (--no-torch)' : py ? null : NO_TORCH;
  const cpuUp = backends().find((b) => b.name === 'cpu')?.available;
  if (cpuUp) setBackend('cpu');
  const before = cpuUp ? getThreads() : 1;
  const rows: FeatureRow[] = [];
  const loadBefore = loadNote();
  let wasBusy = busy();
  let version = '';
  try {
    for (const m of o.methods) {
      const why = unavailable(m);
      if (why) console.error(`  ${m}: ${why}; PyTorch side only`);
      for (const th of o.threads) {
        if (!why) setThreads(th);
        // scripts/torch_feature_step.py answers `steps` timed image batches (the first request
        // for a model also builds it and runs a warm-up batch) with the best.
        const server = py ? new PinnedTorchChild<TorchAnswer>(py, 'torch_feature_step.py', th) : null;
        const row: FeatureRow = { method: m, threads: th, batch: o.batch[m], ours: why ?? Infinity, torch: noTorch ?? Infinity };
        const failed = (e: unknown) => (e as Error).message.split('\n')[0];
        try {
          for (let r = 0; r < o.rounds; r++) {
            // One side failing (memory, a missing module) still reports the other.
            if (typeof row.ours === 'number') {
              await settle();
              try {
                row.ours = Math.min(row.ours, await oursStep(m, o));
              } catch (e) {
                row.ours = failed(e);
              }
            }
            if (server && typeof row.torch === 'number') {
              await settle();
              try {
                const a = await server.ask({ method: m, batch: o.batch[m], size: o.size, steps: o.steps, zero_grad: o.zeroGrad });
                row.torch = Math.min(row.torch, a.ms);
                row.fiberSteps = a.fiber_steps;
                version = a.torch;
              } catch (e) {
                row.torch = failed(e);
              }
            }
          }
        } finally {
          server?.close();
        }
        wasBusy ||= busy();
        const f = (v: number | string) => (typeof v === 'number' ? `${v.toFixed(0)} ms` : '–');
        console.error(`  ${m} ${th}T batch ${row.batch}: ours ${f(row.ours)}, torch ${f(row.torch)}`);
        rows.push(row);
      }
    }
  } finally {
    if (cpuUp) setThreads(before);
  }

  const ips = (batch: number, ms: number | string) => (typeof ms === 'number' ? (1000 * batch) / ms : NaN);
  const cell = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
  console.log(
    `\nFeature-method training at ${o.size} px, wide_resnet50_2 (random weights): images/s, best image batch of ${o.rounds} round(s) × ${o.steps} ` +
      `after a warm-up, ours and PyTorch alternating${cpuUp ? `; cpu ${getBlas().active}` : ''}`,
  );
  console.log(`before: ${loadBefore}; after: ${loadNote()}\n`);
  console.log('| method | batch | threads | ours ms/batch | ours images/s | PyTorch ms/batch | PyTorch images/s | ours / PyTorch |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const a = ips(r.batch, r.ours);
    const b = ips(r.batch, r.torch);
    const ms = (v: number | string) => (typeof v === 'number' ? v.toFixed(0) : '–');
    console.log(`| ${r.method} | ${r.batch} | ${r.threads} | ${ms(r.ours)} | ${cell(a, 2)} | ${ms(r.torch)} | ${cell(b, 2)} | ${cell(a / b, 2)} |`);
  }
  const notes = new Set<string>();
  for (const r of rows) {
    if (typeof r.ours === 'string') notes.add(`${r.method} ours: ${r.ours}`);
    if (typeof r.torch === 'string') notes.add(`${r.method} PyTorch: ${r.torch}`);
  }
  for (const n of notes) console.log(`\n${n}`);
  const cf = rows.find((r) => r.method === 'cflow' && r.fiberSteps);
  if (cf) console.log(`\ncflow: ${cf.fiberSteps} fiber steps (Adam steps) per image batch of ${cf.batch}; zero-grad ${o.zeroGrad} on both sides`);
  console.log(`\nratio = ours / PyTorch${version ? ` ${version}` : ''} images/s on the same threads (target ≥ 1.00)`);
  if (wasBusy || busy()) {
    // Seen here: torch's CFlow batch at 2 threads took 25 s on a quiet machine and 140–170 s at load 5.
    console.log(
      `\nThe machine was busy during the run (load average above ${availableParallelism() + 1}): the ratios are not reliable. ` +
        "PyTorch's OpenMP workers spin-wait at every parallel region and slow down sharply when cores are oversubscribed, " +
        'above all in CFlow\'s many small fiber steps at 2 threads; rerun on a quiet machine.',
    );
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let opts: FeatureBenchOptions | null = null;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 2;
  }
  if (opts) await benchFeatureMethods(opts);
}
