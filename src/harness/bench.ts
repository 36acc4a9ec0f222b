// A benchmark: every method × dataset × seed trained and tested into its own run folder
// under one bench folder, then summarised (mean ± std over seeds) and reported.
//
//   <bench>/bench.json    settings, every run's metrics, the summary table (data)
//   <bench>/results.md    the table in markdown, with the settings
//   <bench>/report.html   the self-contained HTML report (./report/)
//   <bench>/runs/<method>-<dataset>-s<seed>/   one run folder each (./run-folder.ts)
//
// Runs execute one at a time in a worker thread. A bench folder can be continued: finished
// runs are kept, an interrupted one resumes from its checkpoint; the settings must match.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { currentBackend } from '../engine/index.js';
import { methods } from '../methods/registry.js';
import type { Progress, ScoreProgress } from '../methods/types.js';
import { version } from '../version.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import type { RunMetrics } from './evaluate.js';
import { fitInWorker } from './in-worker.js';
import { RunInterrupted } from './interrupted.js';
import type { TrainPlan } from './train.js';
import { type DatasetSpec, METRICS_FILE, isRunFolder, readJson, readRunFile } from './run-folder.js';
import { type RunRecord, type SummaryRow, markdownTable, summarize } from './summary.js';

export interface BenchSettings {
  methods: string[];
  datasets: DatasetSpec[];
  seeds: number[];
  /** Method options given to every run (epochs, size, batchSize, ...); unset ones take the reference defaults. */
  options: Record<string, unknown>;
  /** A line saying what setting this is (e.g. the reduced quick setting), printed and reported. */
  description?: string;
}

export interface BenchRunRef {
  method: string;
  dataset: string;
  seed: number;
  /** Relative to the bench folder. */
  dir: string;
  index: number;
  total: number;
}

export interface BenchHooks {
  signal?: AbortSignal;
  onRunStart?: (run: BenchRunRef, reused: boolean) => void;
  onProgress?: (run: BenchRunRef, p: Progress) => void;
  /** What a run is about to train (not for runs already finished). */
  onPlan?: (run: BenchRunRef, plan: TrainPlan) => void;
  /** Scoring of a run's test split. */
  onScore?: (run: BenchRunRef, p: ScoreProgress) => void;
  onRunEnd?: (run: BenchRunRef, record: RunRecord) => void;
}

export interface BenchFile {
  format: 'medianomaly-bench';
  version: 1;
  settings: BenchSettings;
  status: 'running' | 'interrupted' | 'complete';
  started: string;
  finished?: string;
  environment: { backend: string; library: string; node: string; cpus: number; platform: string };
  runs: RunRecord[];
  summary: SummaryRow[];
  /** Runs not finished when the bench was interrupted. */
  unfinished?: string[];
  /** Images each dataset's runs trained and tested on: what ran, whatever the settings asked. */
  images?: Record<string, { train: number; test: number }>;
}

export interface BenchResult {
  dir: string;
  file: BenchFile;
  markdown: string;
}

export class BenchInterrupted extends Error {
  override name = 'AbortError';
  constructor(
    readonly dir: string,
    readonly finished: string[],
    readonly unfinished: string[],
    readonly current: RunInterrupted | null,
  ) {
    super(`${dir}: benchmark interrupted with ${finished.length} run${finished.length === 1 ? '' : 's'} finished and ${unfinished.length} not finished`);
  }
}

export const BENCH_FILE = 'bench.json';
export const RESULTS_FILE = 'results.md';
export const REPORT_FILE = 'report.html';

export function runDirName(method: string, dataset: string, seed: number): string {
  return `${method}-${dataset}-s${seed}`;
}

/** Every (dataset, method, seed) of the settings, in the order they run. */
export function plannedRuns(s: BenchSettings): Array<Omit<BenchRunRef, 'index' | 'total'> & { spec: DatasetSpec }> {
  const out: Array<Omit<BenchRunRef, 'index' | 'total'> & { spec: DatasetSpec }> = [];
  for (const spec of s.datasets) {
    for (const method of s.methods) {
      for (const seed of s.seeds) out.push({ method, dataset: spec.name, seed, dir: join('runs', runDirName(method, spec.name, seed)), spec });
    }
  }
  return out;
}

function sameSettings(a: BenchSettings, b: BenchSettings): boolean {
  const key = (s: BenchSettings) => JSON.stringify({ m: s.methods, d: s.datasets, s: s.seeds, o: s.options });
  return key(a) === key(b);
}

/** Per dataset, the images its runs used (the first run that recorded them). */
export function imagesPerDataset(runs: readonly RunRecord[]): Record<string, { train: number; test: number }> {
  const out: Record<string, { train: number; test: number }> = {};
  for (const r of runs) if (r.images && !out[r.dataset]) out[r.dataset] = r.images;
  return out;
}

/** "synth-brain 200 training + 100 test images; fashion-mnist 200 + 200", or '' when none is known. */
export function describeImages(images: BenchFile['images']): string {
  const e = Object.entries(images ?? {});
  return e.map(([name, c], i) => `${name} ${c.train}${i ? '' : ' training'} + ${c.test}${i ? '' : ' test images'}`).join('; ');
}

/** The markdown page: title, settings, table. */
export function resultsMarkdown(file: BenchFile): string {
  const s = file.settings;
  const lines = [
    '# medianomaly benchmark',
    '',
    ...(s.description ? [s.description, ''] : []),
    `- methods: ${s.methods.join(', ')}`,
    `- datasets: ${s.datasets.map((d) => d.name + (d.options && Object.keys(d.options).length ? ` (${JSON.stringify(d.options)})` : '')).join(', ')}`,
    ...(describeImages(file.images) ? [`- images that ran: ${describeImages(file.images)}`] : []),
    `- seeds: ${s.seeds.join(', ')}`,
    `- options: ${Object.keys(s.options).length ? JSON.stringify(s.options) : 'reference defaults'}`,
    `- backend: ${file.environment.backend}, ${file.environment.cpus} CPUs, medianomaly ${file.environment.library}, Node ${file.environment.node}`,
    '',
    'Image AUROC / AP and, where the test set has masks, pixel AP and ⌈Dice⌉, in %, mean ± sample std over seeds. ⌈Dice⌉ fits its threshold on the test set (an upper bound, as in the reference).',
    '',
    markdownTable(file.summary),
    '',
  ];
  if (file.unfinished?.length) lines.push(`Not finished (interrupted): ${file.unfinished.join(', ')}`, '');
  return lines.join('\n');
}

/**
 * The bench options one method gets: those it declares (and size, which sets the data). Bench
 * options apply to every method that has them: a quick bench's epochs mean nothing to a
 * method fitted in one pass (PatchCore); an option no benched method declares is an error.
 */
export function benchOptionsFor(method: string, options: Record<string, unknown>): Record<string, unknown> {
  const known = new Set(methods.info(method).options.map((o) => o.name));
  return Object.fromEntries(Object.entries(options).filter(([k]) => k === 'size' || known.has(k)));
}

function checkBenchOptions(settings: BenchSettings): void {
  const known = new Set(settings.methods.flatMap((m) => methods.info(m).options.map((o) => o.name)));
  const unknown = Object.keys(settings.options).filter((k) => k !== 'size' && !known.has(k) && settings.options[k] !== undefined);
  if (unknown.length) {
    throw new Error(`bench: no benched method (${settings.methods.join(', ')}) has the option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (see: medianomaly methods)`);
  }
}

/** Runs (or continues) a benchmark in `dirIn`. */
export async function runBench(dirIn: string, settings: BenchSettings, hooks: BenchHooks = {}): Promise<BenchResult> {
  const dir = resolve(dirIn);
  if (!settings.methods.length) throw new RangeError('bench: no methods given');
  if (!settings.datasets.length) throw new RangeError('bench: no datasets given');
  if (!settings.seeds.length) throw new RangeError('bench: no seeds given');
  checkBenchOptions(settings);
  await mkdir(dir, { recursive: true });
  const benchPath = join(dir, BENCH_FILE);
  let started = new Date().toISOString();
  if (existsSync(benchPath)) {
    const prev = JSON.parse(readFileSync(benchPath, 'utf8')) as BenchFile;
    if (prev.format !== 'medianomaly-bench') throw new Error(`${benchPath} is not a medianomaly bench file; choose another --out`);
    if (!sameSettings(prev.settings, settings)) {
      throw new Error(`${dir} holds a benchmark with other settings (${JSON.stringify(prev.settings)}); continue it with the same options or choose another --out`);
    }
    started = prev.started;
  }
  const file: BenchFile = {
    format: 'medianomaly-bench',
    version: 1,
    settings,
    status: 'running',
    started,
    environment: { backend: currentBackend(), library: version, node: process.versions.node, cpus: availableParallelism(), platform: `${process.platform}-${process.arch}` },
    runs: [],
    summary: [],
  };
  await writeJsonAtomic(benchPath, file);

  const plan = plannedRuns(settings);
  const finished: string[] = [];
  for (let i = 0; i < plan.length; i++) {
    const p = plan[i];
    const ref: BenchRunRef = { method: p.method, dataset: p.dataset, seed: p.seed, dir: p.dir, index: i + 1, total: plan.length };
    const runDir = join(dir, p.dir);
    const done = isRunFolder(runDir) && readRunFile(runDir).status === 'complete' && existsSync(join(runDir, METRICS_FILE));
    hooks.onRunStart?.(ref, done);
    let record: RunRecord;
    if (done) {
      const r = readRunFile(runDir);
      record = { method: p.method, dataset: p.dataset, seed: p.seed, dir: p.dir, metrics: readJson<RunMetrics>(join(runDir, METRICS_FILE)), seconds: r.trainSeconds ?? 0, ...(r.images ? { images: r.images } : {}) };
    } else {
      try {
        if (hooks.signal?.aborted) throw new RunInterrupted(runDir, 'loading', 0, 0);
        const outcome = await fitInWorker(
          { method: p.method, dataset: p.spec, options: { ...benchOptionsFor(p.method, settings.options), seed: p.seed }, dir: runDir, resume: isRunFolder(runDir) },
          {
            signal: hooks.signal,
            onProgress: (pr) => hooks.onProgress?.(ref, pr),
            onPlan: (plan) => hooks.onPlan?.(ref, plan),
            onScore: (sp) => hooks.onScore?.(ref, sp),
          },
        );
        const images = readRunFile(runDir).images;
        record = { method: p.method, dataset: p.dataset, seed: p.seed, dir: p.dir, metrics: outcome.metrics!, seconds: outcome.trainSeconds, ...(images ? { images } : {}) };
      } catch (e) {
        if (!(e instanceof RunInterrupted)) throw e;
        const unfinished = plan.slice(i).map((x) => x.dir);
        file.status = 'interrupted';
        file.unfinished = unfinished;
        file.summary = summarize(file.runs);
        await writeJsonAtomic(benchPath, file);
        await writeFileAtomic(join(dir, RESULTS_FILE), resultsMarkdown(file));
        throw new BenchInterrupted(dir, finished, unfinished, e);
      }
    }
    file.runs.push(record);
    finished.push(p.dir);
    file.summary = summarize(file.runs);
    file.images = imagesPerDataset(file.runs);
    await writeJsonAtomic(benchPath, file);
    hooks.onRunEnd?.(ref, record);
  }
  file.status = 'complete';
  file.finished = new Date().toISOString();
  delete file.unfinished;
  const markdown = resultsMarkdown(file);
  await writeFileAtomic(join(dir, RESULTS_FILE), markdown);
  await writeJsonAtomic(benchPath, file);
  return { dir, file, markdown };
}
