// The bench report: one self-contained HTML page (inline CSS, inline SVG, images as PNG
// data: URIs) that opens from disk. Sections: settings, the results table, ROC curves per
// dataset, example test images per method (input with mask outline, reconstruction,
// score-map overlay), and the per-kernel profile of one training step per method.
import { join } from 'node:path';
import type { ProfileRow } from '../../engine/profile.js';
import { methods } from '../../methods/registry.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { type BenchFile, describeImages } from '../bench.js';
import { SCORES_FILE, type ScoresFile, readJson } from '../run-folder.js';
import { COLUMNS, type Cell, type SummaryRow, formatCell } from '../summary.js';
import { type RunExamples, runExamples, pickExamples } from './examples.js';
import { escapeHtml as esc } from './html-util.js';
import { profileStep, type StepProfile } from './profile-step.js';
import { rocPoints, rocSvg, type RocSeries } from './roc.js';
import { STYLE } from './style.js';

export interface ReportOptions {
  /** Profile one training step per method (default true). */
  profile?: boolean;
  /** Example images per method and dataset (default true). */
  examples?: boolean;
}

export interface ReportInputs {
  file: BenchFile;
  examples: RunExamples[];
  profiles: StepProfile[];
  rocs: Map<string, RocSeries[]>;
  /** Problems met while building optional sections (shown in the page, never fatal). */
  notes: string[];
}

function methodTitle(name: string): string {
  try {
    return methods.info(name).title;
  } catch {
    return name;
  }
}

function resultsTable(rows: readonly SummaryRow[]): string {
  const datasets = [...new Set(rows.map((r) => r.dataset))];
  const methodNames = [...new Set(rows.map((r) => r.method))];
  const colsOf = (d: string) => COLUMNS.filter((c) => !c.key.startsWith('pixel') || rows.some((r) => r.dataset === d && r.pixelAp));
  const best = new Map<string, number>();
  for (const d of datasets) {
    for (const c of colsOf(d)) {
      const vals = rows.filter((r) => r.dataset === d).map((r) => (r[c.key] as Cell | undefined)?.mean ?? -Infinity);
      best.set(`${d}/${c.key}`, Math.max(...vals));
    }
  }
  const head1 = `<tr class="group"><th></th>${datasets.map((d) => `<th colspan="${colsOf(d).length}">${esc(d)}</th>`).join('')}</tr>`;
  const head2 = `<tr><th>method</th>${datasets.map((d) => colsOf(d).map((c) => `<th>${esc(c.label)}</th>`).join('')).join('')}</tr>`;
  const body = methodNames
    .map((m) => {
      const cells = datasets
        .map((d) =>
          colsOf(d)
            .map((c) => {
              const cell = rows.find((r) => r.method === m && r.dataset === d)?.[c.key] as Cell | undefined;
              const isBest = cell && methodNames.length > 1 && cell.mean === best.get(`${d}/${c.key}`);
              return `<td${isBest ? ' class="best"' : ''}>${esc(formatCell(cell))}</td>`;
            })
            .join(''),
        )
        .join('');
      return `<tr><td title="${esc(methodTitle(m))}">${esc(m)}</td>${cells}</tr>`;
    })
    .join('\n');
  return `<table class="results"><thead>${head1}${head2}</thead><tbody>${body}</tbody></table>`;
}

/** A map value for the colour scale; values negligible next to the top of the scale read 0. */
function mapValue(x: number, top: number): string {
  return Math.abs(x) < 1e-4 * Math.abs(top) ? '0' : x.toPrecision(3);
}

/** "synth-brain (200 train, 50 + 50 test, 32 px)" style description of a dataset spec. */
function datasetLabel(d: BenchFile['settings']['datasets'][number]): string {
  const o = { ...(d.options ?? {}) } as Record<string, unknown>;
  const parts: string[] = [];
  const count = o.count as { train?: number; testNormal?: number; testAbnormal?: number } | undefined;
  if (count) {
    if (count.train !== undefined) parts.push(`${count.train} train`);
    if (count.testNormal !== undefined) parts.push(`${count.testNormal} + ${count.testAbnormal} test`);
    delete o.count;
  }
  for (const [k, v] of Object.entries(o)) parts.push(`${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return parts.length ? `${d.name} (${parts.join(', ')})` : d.name;
}

/** Settings time stamps as "2026-11-28 14:16 UTC". */
function when(iso: string): string {
  return iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
}

function examplesSection(ex: RunExamples): string {
  const cap = (p: RunExamples['panels'][number]) =>
    `<div class="cap"><span class="tag ${p.label ? 'abn' : 'nor'}">${p.label ? 'abnormal' : 'normal'}</span><br>score <b>${p.score.toPrecision(3)}</b></div>`;
  const img = (src: string | undefined, alt: string) => (src ? `<img src="${src}" width="${ex.side}" height="${ex.side}" alt="${esc(alt)}">` : '');
  const rows: string[] = [];
  rows.push(`<tr><th class="row">${ex.hasMasks ? 'input + mask' : 'input'}</th>${ex.panels.map((p) => `<td>${img(p.input, `input ${p.id}`)}</td>`).join('')}</tr>`);
  if (ex.panels.some((p) => p.reconstruction)) rows.push(`<tr><th class="row">reconstruction</th>${ex.panels.map((p) => `<td>${img(p.reconstruction, `reconstruction ${p.id}`)}</td>`).join('')}</tr>`);
  if (ex.panels.some((p) => p.overlay)) rows.push(`<tr><th class="row">score map</th>${ex.panels.map((p) => `<td>${img(p.overlay, `score map ${p.id}`)}</td>`).join('')}</tr>`);
  rows.push(`<tr><th class="row"></th>${ex.panels.map((p) => `<td>${cap(p)}</td>`).join('')}</tr>`);
  const scale = ex.range
    ? `<div class="scale">map ${mapValue(ex.range.lo, ex.range.hi)} <span class="bar"></span> ${mapValue(ex.range.hi, ex.range.hi)} (99.5th percentile)${ex.hasMasks ? ' · mask outlines: green on the input, white on the map' : ''}</div>`
    : '<div class="scale">this method gives no pixel map</div>';
  return `<h3>${esc(ex.method)} <span class="muted">— ${esc(methodTitle(ex.method))}</span></h3><div class="examples"><table>${rows.join('')}</table></div>${scale}`;
}

function profileTable(p: StepProfile): string {
  const total = p.rows.reduce((a, r) => a + r.ms, 0);
  const top = p.rows.slice(0, 14);
  const rest = p.rows.slice(14);
  const row = (name: string, calls: number, ms: number, gflops: string) =>
    `<tr><td>${esc(name)}</td><td>${calls}</td><td>${ms.toFixed(2)}</td><td>${total > 0 ? ((100 * ms) / total).toFixed(1) : '0.0'}</td><td class="barcell"><div class="pbar" style="width:${total > 0 ? ((100 * ms) / total).toFixed(1) : 0}%"></div></td><td>${gflops}</td></tr>`;
  const body = top.map((r) => row(r.kernel, r.calls, r.ms, r.gflops ? r.gflops.toFixed(2) : '—'));
  if (rest.length) body.push(row(`${rest.length} more kernel${rest.length === 1 ? '' : 's'}`, rest.reduce((a, r) => a + r.calls, 0), rest.reduce((a, r) => a + r.ms, 0), ''));
  const kernelCalls = p.rows.reduce((a, r) => a + r.calls, 0);
  return `<div><h3>${esc(p.method)} <span class="muted">— ${p.batch} images of ${p.size} × ${p.size}, ${esc(p.backend)} backend</span></h3>
<table class="profile"><thead><tr><th>kernel</th><th>calls</th><th>ms</th><th>%</th><th></th><th>GFLOP/s</th></tr></thead><tbody>${body.join('')}</tbody>
<tfoot><tr><td>kernels total</td><td>${kernelCalls}</td><td>${total.toFixed(2)}</td><td>100</td><td></td><td></td></tr></tfoot></table>
<div class="muted" style="font-size:12px">whole step ${p.ms.toFixed(1)} ms; kernels ${total > 0 ? ((100 * total) / p.ms).toFixed(0) : 0}% of it, the rest is TypeScript (autograd, allocation, optimiser bookkeeping)</div></div>`;
}

/** The HTML page. */
export function reportHtml(r: ReportInputs): string {
  const f = r.file;
  const s = f.settings;
  const stamp = when(f.finished ?? f.started);
  const datasets = s.datasets.map((d) => d.name);
  const facts: Array<[string, string]> = [
    ['methods', s.methods.map((m) => `${m} (${methodTitle(m)})`).join(', ')],
    ['datasets', s.datasets.map(datasetLabel).join('; ')],
    ...(describeImages(f.images) ? [['images that ran', describeImages(f.images)] as [string, string]] : []),
    ['seeds', s.seeds.join(', ')],
    ['method options', Object.keys(s.options).length ? Object.entries(s.options).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ') + '; the rest at the reference defaults' : 'reference defaults'],
    ['machine', `${f.environment.backend} backend, ${f.environment.cpus} CPUs, ${f.environment.platform}, Node ${f.environment.node}, medianomaly ${f.environment.library}`],
    ['runs', `${f.runs.length} finished${f.unfinished?.length ? `, ${f.unfinished.length} not finished: ${f.unfinished.join(', ')}` : ''}`],
  ];
  const charts = datasets
    .filter((d) => r.rocs.has(d))
    .map((d) => rocSvg(`ROC — ${d}`, r.rocs.get(d)!))
    .join('\n');
  const exampleHtml = datasets
    .map((d) => {
      const exs = r.examples.filter((e) => e.dataset === d);
      return exs.length ? `<h2>Test images — ${esc(d)}</h2>${exs.map(examplesSection).join('\n')}` : '';
    })
    .join('\n');
  const profiles = r.profiles.length
    ? `<h2>Kernel profile of one training step</h2><p class="muted">One optimiser step (forward, backward, Adam) on one batch, after a warm-up step; every kernel dispatch timed by the profiler (src/engine/profile.ts). Dataset: ${esc(r.profiles[0].dataset)}.</p><div class="profiles">${r.profiles.map(profileTable).join('\n')}</div>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>medianomaly benchmark — ${esc(stamp)}</title>
<style>${STYLE}</style></head>
<body><main>
<h1>medianomaly benchmark</h1>
<div class="muted">${esc(stamp)} · ${esc(f.status)}</div>
${s.description ? `<div class="setting">${esc(s.description)}</div>` : ''}
<dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
<h2>Results</h2>
<p class="muted">In %, mean ± sample standard deviation over seeds (one value with one seed). Image-level AUROC and AP; pixel-level AP and ⌈Dice⌉ where the test set has masks. ⌈Dice⌉ takes its threshold from the test set (an upper bound, as in the reference). Best per column in bold.</p>
${resultsTable(f.summary)}
${charts ? `<h2>ROC curves</h2><div class="charts">${charts}</div>` : ''}
${exampleHtml}
${profiles}
${r.notes.length ? `<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
<footer>Generated by medianomaly ${esc(f.environment.library)}. Data and run folders: runs/ next to this file; the table as data: bench.json.</footer>
</main></body></html>
`;
}

/** Gathers the report's inputs from a finished (or interrupted) bench folder. */
export async function reportInputs(dir: string, file: BenchFile, opts: ReportOptions = {}): Promise<ReportInputs> {
  const notes: string[] = [];
  const rocs = new Map<string, RocSeries[]>();
  for (const row of file.summary) {
    const curves = file.runs
      .filter((r) => r.method === row.method && r.dataset === row.dataset)
      .map((r) => {
        const sc = readJson<ScoresFile>(join(dir, r.dir, SCORES_FILE));
        return rocPoints(sc.scores, sc.labels);
      });
    if (!rocs.has(row.dataset)) rocs.set(row.dataset, []);
    rocs.get(row.dataset)!.push({ label: row.method, curves, auroc: formatCell(row.imageAuroc) });
  }
  const examples: RunExamples[] = [];
  if (opts.examples !== false) {
    for (const row of file.summary) {
      const run = file.runs.find((r) => r.method === row.method && r.dataset === row.dataset)!;
      try {
        examples.push(await runExamples(join(dir, run.dir), (t) => pickExamples(t)));
      } catch (e) {
        notes.push(`examples of ${run.dir}: ${(e as Error).message}`);
      }
    }
  }
  const profiles: StepProfile[] = [];
  if (opts.profile !== false && file.settings.datasets.length) {
    const spec = file.settings.datasets[0];
    for (const m of file.settings.methods) {
      try {
        profiles.push(await profileStep(m, spec, file.settings.options));
      } catch (e) {
        notes.push(`profile of ${m}: ${(e as Error).message}`);
      }
    }
  }
  return { file, examples, profiles, rocs, notes };
}

/** Builds report.html in the bench folder; returns its path. */
export async function writeReport(dir: string, file: BenchFile, opts: ReportOptions = {}): Promise<string> {
  const path = join(dir, 'report.html');
  await writeFileAtomic(path, reportHtml(await reportInputs(dir, file, opts)));
  return path;
}
