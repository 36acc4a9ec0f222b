// Backbone speed vs PyTorch: `npm run bench -- backbone [layers|nets|all] [--threads 1,2] [--repeats 3]`
//
// 1. layers: every distinct convolution shape of resnet18, wide_resnet50_2 and the VGG19
//    feature stack at 224×224, batch 8 (the stem, 3×3 stride 1 and 2, the 1×1 convs of the
//    bottlenecks, VGG's 3×3 at 224/112/56/28/14), our native conv2d kernel vs torch's
//    Conv2d (bias-free, eval, no_grad) on the same shape, and each shape's count in the
//    networks, so the weighted sums show where the time goes.
// 2. nets: a forward (eval, no gradient) of each backbone's feature trunk: resnet18 and
//    wide_resnet50_2 through layer4, vgg19 up to relu4_2 and all of its features,
//    from src/models/backbones (when present), vs scripts/torch_backbone.py's torchvision
//    trunks (Debian's /usr/bin/python3: torch 1.13, torchvision 0.14).
//
// Both sides report the best of `repeats` calls after a warm-up (the machine may be shared:
// the best is the least disturbed), on 1 and 2 threads, in the same run, alternating one call
// of ours with one of torch's (a long-running torch child per thread count answers timing
// requests), so load from other processes falls on both alike; the figures that matter are
// the ratios ours / PyTorch (≤ 1 = at least as fast). `--only <substring>` picks layers/trunks.
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpuBackend, getBlas, getThreads, setThreads } from '../src/backend/native.js';
import type { Conv2dParams, KernelTable } from '../src/backend/types.js';
import { NO_TORCH, PinnedTorchChild, torchPython } from './torch-child.js';

export interface ConvShape {
  name: string;
  N: number;
  C: number;
  K: number;
  H: number;
  k: number;
  s: number;
  p: number;
  /** How often the shape occurs in each network's trunk. */
  count: { resnet18?: number; wide_resnet50_2?: number; vgg19?: number };
}

/** Every distinct conv shape of the three trunks at `size` px, batch `N`. */
export function backboneConvShapes(N = 8, size = 224): ConvShape[] {
  const s2 = size / 2, s4 = size / 4, s8 = size / 8, s16 = size / 16, s32 = size / 32;
  const c = (name: string, C: number, K: number, H: number, k: number, s: number, count: ConvShape['count']): ConvShape => ({
    name,
    N,
    C,
    K,
    H,
    k,
    s,
    p: k === 7 ? 3 : k === 3 ? 1 : 0,
    count,
  });
  return [
    // ResNet stem (both ResNets).
    c('stem 7×7 s2 3→64', 3, 64, size, 7, 2, { resnet18: 1, wide_resnet50_2: 1 }),
    // resnet18 basic blocks.
    c('3×3 64→64 @56', 64, 64, s4, 3, 1, { resnet18: 4 }),
    c('3×3 s2 64→128 @56', 64, 128, s4, 3, 2, { resnet18: 1 }),
    c('1×1 s2 64→128 @56', 64, 128, s4, 1, 2, { resnet18: 1 }),
    c('3×3 128→128 @28', 128, 128, s8, 3, 1, { resnet18: 3 }),
    c('3×3 s2 128→256 @28', 128, 256, s8, 3, 2, { resnet18: 1 }),
    c('1×1 s2 128→256 @28', 128, 256, s8, 1, 2, { resnet18: 1 }),
    c('3×3 256→256 @14', 256, 256, s16, 3, 1, { resnet18: 3, wide_resnet50_2: 0 }),
    c('3×3 s2 256→512 @14', 256, 512, s16, 3, 2, { resnet18: 1 }),
    c('1×1 s2 256→512 @14', 256, 512, s16, 1, 2, { resnet18: 1 }),
    c('3×3 512→512 @7', 512, 512, s32, 3, 1, { resnet18: 3 }),
    // wide_resnet50_2 bottlenecks (width 2× planes; stride on the 3×3).
    c('1×1 64→128 @56', 64, 128, s4, 1, 1, { wide_resnet50_2: 1 }),
    c('3×3 128→128 @56', 128, 128, s4, 3, 1, { wide_resnet50_2: 3 }),
    c('1×1 128→256 @56', 128, 256, s4, 1, 1, { wide_resnet50_2: 3 }),
    c('1×1 64→256 @56', 64, 256, s4, 1, 1, { wide_resnet50_2: 1 }),
    c('1×1 256→128 @56', 256, 128, s4, 1, 1, { wide_resnet50_2: 2 }),
    c('1×1 256→256 @56', 256, 256, s4, 1, 1, { wide_resnet50_2: 1 }),
    c('3×3 s2 256→256 @56', 256, 256, s4, 3, 2, { wide_resnet50_2: 1 }),
    c('1×1 s2 256→512 @56', 256, 512, s4, 1, 2, { wide_resnet50_2: 1 }),
    c('1×1 256→512 @28', 256, 512, s8, 1, 1, { wide_resnet50_2: 4 }),
    c('1×1 512→256 @28', 512, 256, s8, 1, 1, { wide_resnet50_2: 3 }),
    c('3×3 256→256 @28', 256, 256, s8, 3, 1, { wide_resnet50_2: 3, vgg19: 0 }),
    c('1×1 512→512 @28', 512, 512, s8, 1, 1, { wide_resnet50_2: 1 }),
    c('3×3 s2 512→512 @28', 512, 512, s8, 3, 2, { wide_resnet50_2: 1 }),
    c('1×1 s2 512→1024 @28', 512, 1024, s8, 1, 2, { wide_resnet50_2: 1 }),
    c('1×1 512→1024 @14', 512, 1024, s16, 1, 1, { wide_resnet50_2: 6 }),
    c('1×1 1024→512 @14', 1024, 512, s16, 1, 1, { wide_resnet50_2: 5 }),
    c('3×3 512→512 @14', 512, 512, s16, 3, 1, { wide_resnet50_2: 5, vgg19: 4 }),
    c('1×1 1024→1024 @14', 1024, 1024, s16, 1, 1, { wide_resnet50_2: 1 }),
    c('3×3 s2 1024→1024 @14', 1024, 1024, s16, 3, 2, { wide_resnet50_2: 1 }),
    c('1×1 s2 1024→2048 @14', 1024, 2048, s16, 1, 2, { wide_resnet50_2: 1 }),
    c('1×1 1024→2048 @7', 1024, 2048, s32, 1, 1, { wide_resnet50_2: 3 }),
    c('1×1 2048→1024 @7', 2048, 1024, s32, 1, 1, { wide_resnet50_2: 2 }),
    c('3×3 1024→1024 @7', 1024, 1024, s32, 3, 1, { wide_resnet50_2: 2 }),
    // VGG19 features.
    c('3×3 3→64 @224', 3, 64, size, 3, 1, { vgg19: 1 }),
    c('3×3 64→64 @224', 64, 64, size, 3, 1, { vgg19: 1 }),
    c('3×3 64→128 @112', 64, 128, s2, 3, 1, { vgg19: 1 }),
    c('3×3 128→128 @112', 128, 128, s2, 3, 1, { vgg19: 1 }),
    c('3×3 128→256 @56', 128, 256, s4, 3, 1, { vgg19: 1 }),
    c('3×3 256→256 @56', 256, 256, s4, 3, 1, { vgg19: 3 }),
    c('3×3 256→512 @28', 256, 512, s8, 3, 1, { vgg19: 1 }),
    c('3×3 512→512 @28', 512, 512, s8, 3, 1, { vgg19: 3 }),
  ];
}

export function convParams(l: ConvShape): Conv2dParams {
  const OH = Math.floor((l.H + 2 * l.p - l.k) / l.s) + 1;
  return { N: l.N, C: l.C, H: l.H, W: l.H, K: l.K, OH, OW: OH, kh: l.k, kw: l.k, sh: l.s, sw: l.s, ph: l.p, pw: l.p, dh: 1, dw: 1, groups: 1 };
}

export function convGflop(l: ConvShape): number {
  const p = convParams(l);
  return (2 * p.N * p.K * p.C * p.kh * p.kw * p.OH * p.OW) / 1e9;
}

/** Best time in ms of `repeats` calls after one warm-up. */
export function bestMs(fn: () => void, repeats: number): number {
  fn();
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
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

/**
 * scripts/torch_backbone.py as a pinned child (./torch-child.ts) for one thread count:
 * `time(req)` asks it to run a layer or a trunk `calls` times and answers the best time in ms.
 */
export class TorchServer {
  version = '';

  private constructor(private readonly child: PinnedTorchChild<{ ms: number; torch: string }>) {}

  get threads(): number {
    return this.child.threads;
  }

  /** One server per thread count, or the reason there is none. */
  static start(threads: number): TorchServer | string {
    const py = torchPython();
    if (!py) return NO_TORCH;
    return new TorchServer(new PinnedTorchChild(py, 'torch_backbone.py', threads));
  }

  async time(req: { net?: string; layer?: Record<string, number>; calls?: number }): Promise<number> {
    const r = await this.child.ask({ calls: 1, ...req });
    this.version = r.torch;
    return r.ms;
  }

  close(): void {
    this.child.close();
  }
}

/**
 * Best-of-`repeats` times of ours and torch's, alternating one call of each (after one
 * warm-up call of each): a burst of load from other processes then hits both sides.
 * Each side starts after a pause of SETTLE_MS: OpenBLAS's worker threads (torch's 1×1
 * convolutions run on them) busy-wait for about 2^28 cycles after a call, and OpenMP's for
 * a while too, so without it the call right after torch's shares the cores with torch's
 * spinning threads (seen as resnet18 at 2 threads: 174 ms alternating vs 160 ms alone).
 */
const SETTLE_MS = 300;

export async function interleaved(
  ours: () => void,
  torch: TorchServer | null,
  req: Parameters<TorchServer['time']>[0],
  repeats: number,
): Promise<{ ours: number; torch: number | undefined }> {
  const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  ours();
  if (torch) await torch.time(req);
  let o = Infinity;
  let t = Infinity;
  for (let i = 0; i < repeats; i++) {
    await settle();
    const t0 = performance.now();
    ours();
    o = Math.min(o, performance.now() - t0);
    await settle();
    if (torch) t = Math.min(t, await torch.time(req));
  }
  return { ours: o, torch: torch ? t : undefined };
}

function loadNote(): string {
  const [l1, l5] = loadavg();
  return `load average ${l1.toFixed(1)} / ${l5.toFixed(1)} (1 / 5 min) on ${availableParallelism()} cores`;
}

type Net = 'resnet18' | 'wide_resnet50_2' | 'vgg19';

/** One torch server per thread count, or the reason there are none. */
function servers(threads: number[]): Map<number, TorchServer> | string {
  const out = new Map<number, TorchServer>();
  for (const th of threads) {
    const s = TorchServer.start(th);
    if (typeof s === 'string') return s;
    out.set(th, s);
  }
  return out;
}

export async function benchLayers(threads: number[], repeats: number, filter?: string): Promise<void> {
  const reason = cpuBackend.unavailableReason();
  if (reason) throw new Error(`bench backbone layers needs the native addon: ${reason}`);
  const native = cpuBackend.kernels as KernelTable;
  const shapes = backboneConvShapes().filter((l) => !filter || l.name.includes(filter));
  const torch = servers(threads);
  const before = getThreads();
  const ours = new Map<string, number>();
  const theirs = new Map<string, number>();
  const loadBefore = loadNote();
  try {
    for (const l of shapes) {
      const p = convParams(l);
      const x = random(p.N * p.C * p.H * p.W, 1);
      const w = random(p.K * p.C * p.kh * p.kw, 2).map((v) => v * 0.05);
      const y = new Float32Array(p.N * p.K * p.OH * p.OW);
      const layer = { N: l.N, C: l.C, K: l.K, H: l.H, k: l.k, s: l.s, p: l.p };
      for (const th of threads) {
        setThreads(th);
        const r = await interleaved(() => native.conv2d(p, x, w, null, y), typeof torch === 'string' ? null : torch.get(th)!, { layer }, repeats);
        ours.set(`${th}|${l.name}`, r.ours);
        if (r.torch !== undefined) theirs.set(`${th}|${l.name}`, r.torch);
      }
    }
  } finally {
    setThreads(before);
    if (typeof torch !== 'string') for (const s of torch.values()) s.close();
  }
  console.log(`\nConv layers of the backbones at 224 px, batch 8 (best of ${repeats}, ours and torch alternating; cpu ${getBlas().active})`);
  console.log(`before: ${loadBefore}; after: ${loadNote()}\n`);
  console.log(`| layer | GFLOP | ${threads.map((t) => `ours ${t}T ms | torch ${t}T ms | ratio ${t}T`).join(' | ')} |`);
  console.log(`|---|---:|${threads.map(() => '---:|---:|---:').join('|')}|`);
  const totals: Record<string, { ours: number; torch: number }> = {};
  for (const l of shapes) {
    const cells = threads.map((t) => {
      const o = ours.get(`${t}|${l.name}`)!;
      const q = theirs.get(`${t}|${l.name}`);
      for (const net of Object.keys(l.count) as Net[]) {
        const n = l.count[net] ?? 0;
        const key = `${net} ${t}T`;
        totals[key] ??= { ours: 0, torch: 0 };
        totals[key].ours += n * o;
        totals[key].torch += n * (q ?? NaN);
      }
      return `${o.toFixed(1)} | ${q === undefined ? '–' : q.toFixed(1)} | ${q === undefined ? '–' : (o / q).toFixed(2)}`;
    });
    console.log(`| ${l.name} | ${convGflop(l).toFixed(2)} | ${cells.join(' | ')} |`);
  }
  if (typeof torch === 'string') console.log(`\nPyTorch: not measured (${torch})`);
  console.log('\nConv time summed over each trunk (count × layer; vgg19 = all 16 convs):');
  for (const [k, v] of Object.entries(totals))
    console.log(`  ${k}: ours ${v.ours.toFixed(0)} ms, torch ${v.torch.toFixed(0)} ms, ratio ${(v.ours / v.torch).toFixed(2)}`);
}

export async function benchNets(threads: number[], repeats: number, only?: string): Promise<void> {
  const modPath = fileURLToPath(new URL('../src/models/backbones/index.ts', import.meta.url));
  if (!existsSync(modPath)) {
    console.log(`\nbackbones: not measured (${modPath} does not exist yet)`);
    return;
  }
  const eng = await import('../src/engine/index.js');
  // The contract of src/models/backbones (imported by path: the bench predates the module).
  type Tensor = import('../src/engine/index.js').Tensor;
  const mod = (await import(pathToFileURL(modPath).href)) as {
    backbones: {
      create(name: Net, opts: { weights: string; seed?: number }): {
        eval(): unknown;
        features(x: Tensor, layers: readonly string[]): Record<string, Tensor>;
      };
    };
  };
  const cpu = eng.backends().find((b) => b.name === 'cpu');
  if (!cpu?.available) throw new Error(`bench backbone nets needs the native addon: ${cpu?.reason}`);
  eng.setBackend('cpu');
  const runs: Array<{ key: string; net: Net; layers: string[] }> = [
    { key: 'resnet18', net: 'resnet18', layers: ['layer4'] },
    { key: 'wide_resnet50_2', net: 'wide_resnet50_2', layers: ['layer4'] },
    { key: 'vgg19_relu4_2', net: 'vgg19', layers: ['relu4_2'] },
    { key: 'vgg19', net: 'vgg19', layers: ['pool5'] },
  ].filter((r) => !only || r.key.includes(only)) as Array<{ key: string; net: Net; layers: string[] }>;
  const torch = servers(threads);
  const x = eng.randn([8, 3, 224, 224], { seed: 1 });
  const ours = new Map<string, number>();
  const theirs = new Map<string, number>();
  const before = getThreads();
  const loadBefore = loadNote();
  let version = '';
  try {
    for (const r of runs) {
      const net = mod.backbones.create(r.net, { weights: 'random', seed: 0 });
      net.eval();
      for (const th of threads) {
        setThreads(th);
        const server = typeof torch === 'string' ? null : torch.get(th)!;
        const t = await interleaved(() => eng.noGrad(() => net.features(x, r.layers)), server, { net: r.key }, repeats);
        version ||= server?.version ?? '';
        ours.set(`${th}|${r.key}`, t.ours);
        if (t.torch !== undefined) theirs.set(`${th}|${r.key}`, t.torch);
        console.error(`  ${r.key} ${th}T: ours ${t.ours.toFixed(0)} ms, torch ${t.torch?.toFixed(0) ?? '–'} ms`);
      }
    }
  } finally {
    setThreads(before);
    if (typeof torch !== 'string') for (const s of torch.values()) s.close();
  }
  console.log(`\nBackbone trunks, eval forward, batch 8, 224×224 (best of ${repeats}, ours and torch alternating; cpu ${getBlas().active})`);
  console.log(`before: ${loadBefore}; after: ${loadNote()}\n`);
  console.log(`| trunk | ${threads.map((t) => `ours ${t}T ms | torch ${t}T ms | ratio ${t}T`).join(' | ')} |`);
  console.log(`|---|${threads.map(() => '---:|---:|---:').join('|')}|`);
  for (const r of runs) {
    const cells = threads.map((t) => {
      const o = ours.get(`${t}|${r.key}`)!;
      const q = theirs.get(`${t}|${r.key}`);
      return `${o.toFixed(0)} | ${q === undefined ? '–' : q.toFixed(0)} | ${q === undefined ? '–' : (o / q).toFixed(2)}`;
    });
    console.log(`| ${r.key} | ${cells.join(' | ')} |`);
  }
  if (typeof torch === 'string') console.log(`\nPyTorch: not measured (${torch})`);
  else console.log(`\nratio = ours / PyTorch ${version} time on the same threads (target ≤ 1.00)`);
}

export async function benchBackbone(argv: string[]): Promise<void> {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const what = argv[0] && !argv[0].startsWith('--') ? argv[0] : 'all';
  const threads = (opt('--threads') ?? '1,2').split(',').map(Number);
  const repeats = Number(opt('--repeats') ?? 3);
  if (what === 'layers' || what === 'all') await benchLayers(threads, repeats, opt('--only'));
  if (what === 'nets' || what === 'all') await benchNets(threads, repeats, opt('--only'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchBackbone(process.argv.slice(2));
}
