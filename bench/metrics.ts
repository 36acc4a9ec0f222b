// Pooled pixel metric timings at 10⁷ pixels (about 2442 maps of 64 × 64, the scale of
// BraTS2021 at 64 px), exact and streaming, plus the sort they rest on.
//
//   node --import tsx bench/metrics.ts [--pixels 1e7] [--side 64] [--bins 65536]
//
// Prints one line per measurement (median of --repeat runs, default 3) and a JSON
// summary on the last line.

import { pathToFileURL } from 'node:url';
import { aupro, bestDice, pixelAp, pixelAuroc, pixelMetrics } from '../src/metrics/index.js';
import { sortFloat32 } from '../src/metrics/radix.js';

interface BenchOptions {
  pixels: number;
  side: number;
  bins: number;
  repeat: number;
}

function parseArgs(argv: string[]): BenchOptions {
  const opts: BenchOptions = { pixels: 1e7, side: 64, bins: 65536, repeat: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '') as keyof BenchOptions;
    const value = Number(argv[i + 1]);
    if (!(key in opts) || !Number.isFinite(value) || value <= 0) throw new Error(`bench/metrics: bad argument ${argv[i]} ${argv[i + 1]}`);
    opts[key] = value;
  }
  return opts;
}

/** Reconstruction-like maps: noise, a zero border, raised scores inside a disc lesion on every other image. */
function makeData(pixels: number, side: number) {
  const images = Math.ceil(pixels / (side * side));
  let state = 12345;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const maps: Float32Array[] = [];
  const masks: Uint8Array[] = [];
  for (let k = 0; k < images; k++) {
    const mask = new Uint8Array(side * side);
    const map = new Float32Array(side * side);
    const cy = side * (0.25 + 0.5 * uniform());
    const cx = side * (0.25 + 0.5 * uniform());
    const r2 = (side * (0.03 + 0.1 * uniform())) ** 2;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const j = y * side + x;
        const lesion = k % 2 === 1 && (y - cy) ** 2 + (x - cx) ** 2 <= r2;
        mask[j] = lesion ? 1 : 0;
        const border = x < side / 16 || y < side / 16;
        map[j] = border ? 0 : uniform() * 0.5 + (lesion ? uniform() * 0.8 : 0);
      }
    }
    maps.push(map);
    masks.push(mask);
  }
  return { maps, masks, images, pixels: images * side * side };
}

function time<T>(repeat: number, fn: () => T): { ms: number; result: T } {
  const runs: number[] = [];
  let result!: T;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    result = fn();
    runs.push(performance.now() - t0);
  }
  runs.sort((a, b) => a - b);
  return { ms: runs[Math.floor(runs.length / 2)], result };
}

export function benchMetrics(opts: BenchOptions): Record<string, number> {
  const { maps, masks, images, pixels } = makeData(opts.pixels, opts.side);
  console.log(`pooled pixels: ${pixels} (${images} maps of ${opts.side}×${opts.side}), bins ${opts.bins}, median of ${opts.repeat}`);
  const out: Record<string, number> = {};
  const report = (name: string, ms: number, value?: unknown) => {
    out[name] = Math.round(ms);
    console.log(`${name.padEnd(34)} ${ms.toFixed(0).padStart(7)} ms${value === undefined ? '' : '   ' + JSON.stringify(value)}`);
  };

  const flat = new Float32Array(pixels);
  maps.forEach((m, i) => flat.set(m, i * m.length));
  report('sort: native Float32Array.sort', time(opts.repeat, () => flat.slice().sort()).ms);
  report('sort: radix sortFloat32', time(opts.repeat, () => sortFloat32(flat.slice())).ms);

  const s = { mode: 'streaming' as const, bins: opts.bins };
  const rows: [string, () => unknown][] = [
    ['exact pixelAuroc', () => pixelAuroc(maps, masks)],
    ['exact pixelAp', () => pixelAp(maps, masks)],
    ['exact bestDice (200 quantiles)', () => bestDice(maps, masks, { fitOnTest: true }).dice],
    ['exact pixelMetrics (AUROC+AP+Dice)', () => pixelMetrics(maps, masks, { bestDice: {}, fitOnTest: true })],
    ['exact aupro (0.3)', () => aupro(maps, masks)],
    ['streaming pixelAuroc', () => pixelAuroc(maps, masks, s)],
    ['streaming pixelAp', () => pixelAp(maps, masks, s)],
    ['streaming bestDice (200 quantiles)', () => bestDice(maps, masks, { ...s, fitOnTest: true })],
    ['streaming aupro (0.3)', () => aupro(maps, masks, s)],
  ];
  for (const [name, fn] of rows) {
    const { ms, result } = time(opts.repeat, fn);
    report(name, ms, result);
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const results = benchMetrics(parseArgs(process.argv.slice(2)));
  console.log(JSON.stringify({ bench: 'metrics', ms: results }));
}
