// The benchmark table: per method × dataset, mean ± std over seeds of image AUROC and AP
// and, where the dataset has masks and the method maps, pixel AP and ⌈Dice⌉; in %, as the
// paper reports them. Rendered as markdown (for the terminal and results.md) and as
// plain data (for bench.json and the HTML report).
import { meanStd } from '../metrics/index.js';
import type { RunMetrics } from './evaluate.js';

export interface RunRecord {
  method: string;
  dataset: string;
  seed: number;
  /** The run folder, relative to the bench folder. */
  dir: string;
  metrics: RunMetrics;
  seconds: number;
  /** Images trained and tested on (absent for runs from before it was recorded). */
  images?: { train: number; test: number };
}

export interface Cell {
  mean: number;
  /** Sample std over seeds (ddof 1); null with one seed. */
  std: number | null;
  n: number;
}

export interface SummaryRow {
  method: string;
  dataset: string;
  seeds: number[];
  imageAuroc: Cell;
  imageAp: Cell;
  pixelAp?: Cell;
  pixelDice?: Cell;
  trainSeconds: Cell;
}

export const COLUMNS = [
  { key: 'imageAuroc', label: 'AUROC' },
  { key: 'imageAp', label: 'AP' },
  { key: 'pixelAp', label: 'AP_pix' },
  { key: 'pixelDice', label: '⌈Dice⌉' },
] as const;

function cell(values: number[]): Cell {
  if (values.length === 1) return { mean: values[0], std: null, n: 1 };
  const s = meanStd(values);
  return { mean: s.mean, std: s.std, n: s.n };
}

/** One summary row per (method, dataset), in the order the runs first appear. */
export function summarize(runs: readonly RunRecord[]): SummaryRow[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const k = `${r.method}\u0000${r.dataset}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  return [...groups.values()].map((g) => {
    const row: SummaryRow = {
      method: g[0].method,
      dataset: g[0].dataset,
      seeds: g.map((r) => r.seed),
      imageAuroc: cell(g.map((r) => r.metrics.image.auroc)),
      imageAp: cell(g.map((r) => r.metrics.image.ap)),
      trainSeconds: cell(g.map((r) => r.seconds)),
    };
    if (g.every((r) => r.metrics.pixel)) {
      row.pixelAp = cell(g.map((r) => r.metrics.pixel!.ap));
      row.pixelDice = cell(g.map((r) => r.metrics.pixel!.bestDice));
    }
    return row;
  });
}

/** "78.4 ± 1.2" (in %), "78.4" with one seed, "—" when absent. */
export function formatCell(c: Cell | undefined): string {
  if (!c) return '—';
  const m = (100 * c.mean).toFixed(1);
  return c.std === null ? m : `${m} ± ${(100 * c.std).toFixed(1)}`;
}

/** The table as GitHub markdown: one row per method, one column group per dataset. */
export function markdownTable(rows: readonly SummaryRow[]): string {
  const datasets = [...new Set(rows.map((r) => r.dataset))];
  const methods = [...new Set(rows.map((r) => r.method))];
  const cols = datasets.flatMap((d) => {
    const hasPixel = rows.some((r) => r.dataset === d && r.pixelAp);
    return COLUMNS.filter((c) => hasPixel || !c.key.startsWith('pixel')).map((c) => ({ dataset: d, ...c }));
  });
  const head = ['method', ...cols.map((c) => `${c.dataset} ${c.label}`)];
  const body = methods.map((m) => [
    m,
    ...cols.map((c) => formatCell(rows.find((r) => r.method === m && r.dataset === c.dataset)?.[c.key])),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`;
  return [line(head), rule, ...body.map(line)].join('\n');
}
