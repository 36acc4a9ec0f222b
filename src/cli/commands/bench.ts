// `medianomaly bench [--methods ...] [--datasets ...] [--seeds N] [...]`: trains and tests
// every method × dataset × seed into a bench folder (default bench-results/<timestamp>),
// prints the table (mean ± std over seeds) and writes results.md, bench.json and
// report.html. With no --methods and no --datasets (or with --quick) it runs the quick
// benchmark, the reduced setting of ../../harness/quick.ts. Runs of the reference setting
// use the reference defaults (64 px, 250 epochs — 600 on brain-tumor —, 3 seeds).
import type { CommandModule } from 'yargs';
import { backends, currentBackend } from '../../engine/index.js';
import { hideBin } from 'yargs/helpers';
import { BenchInterrupted, type BenchSettings, runBench } from '../../harness/bench.js';
import { QUICK, quickCounts, quickDescription, quickMethods } from '../../harness/quick.js';
import type { DatasetSpec } from '../../harness/run-folder.js';
import { type DataArgs, dataOptions, datasetSpec } from '../data-options.js';
import { onInterrupt, resumeCommand } from '../interrupt.js';
import { type MethodArgs, checkMethodName, checkWeightsFlag, methodOptionValues, methodOptions } from '../method-options.js';
import { type Estimator, estimator } from '../estimate.js';
import { formatDuration, progressReporter, type ProgressReporter } from '../progress.js';
import { benchOutput } from './bench-output.js';
import { queueBench } from './queue-sweep.js';

interface Args extends DataArgs, MethodArgs {
  methods?: string[];
  datasets?: string[];
  seeds?: number;
  out?: string;
  quick?: boolean;
  report?: boolean;
  json?: boolean;
  queue?: string;
  detach?: boolean;
  attempts?: number;
}

/** "a,b c" → ["a", "b", "c"]. */
function names(values: string[] | undefined): string[] | undefined {
  if (!values) return undefined;
  return values.flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean);
}

function timestamp(d = new Date()): string {
  return d.toISOString().replace(/\..*$/, '').replace(/:/g, '-');
}

export const benchCommand: CommandModule<object, Args> = {
  command: 'bench',
  describe: 'Benchmark methods × datasets × seeds: table (markdown, JSON) and an HTML report. No arguments: the quick benchmark',
  builder: (y) =>
    methodOptions(
      dataOptions(
        y
          .option('methods', { type: 'string', array: true, describe: 'method names (space- or comma-separated; see: medianomaly methods)' })
          .option('datasets', { type: 'string', array: true, describe: 'dataset names (see: medianomaly datasets)' })
          .option('seeds', { type: 'number', describe: 'number of seeds (runs 0 … N−1; default 3, quick: 1)' })
          .option('out', { type: 'string', describe: 'bench folder (default bench-results/<timestamp>); an existing one is continued' })
          .option('quick', { type: 'boolean', describe: 'use the quick reduced setting even with --methods / --datasets' })
          .option('report', { type: 'boolean', default: true, describe: 'write report.html (--no-report to skip it)' })
          .option('json', { type: 'boolean', describe: 'print bench.json on stdout instead of the table' })
          .option('queue', { type: 'string', describe: 'run the sweep on a BullMQ queue: redis://HOST:PORT[/DB]; workers: medianomaly worker --queue URL' })
          .option('detach', { type: 'boolean', describe: 'with --queue: enqueue and return (see: medianomaly queue status|results)' })
          .option('attempts', { type: 'number', describe: 'with --queue: tries per job before it ends as failed (default 3, exponential backoff)' }),
      ),
    ) as never,
  handler: async (args) => {
    const t0 = Date.now();
    let methodList = names(args.methods);
    let datasetList = names(args.datasets);
    const quick = args.quick === true || (methodList === undefined && datasetList === undefined);
    methodList = methodList?.map(checkMethodName);
    const options = methodOptionValues(args, methodList);
    let seeds = args.seeds;
    let description: string | undefined;
    // The data flags of each dataset: as given, or (quick) reduced for every dataset.
    let dataArgs = (_name: string): DataArgs => args;
    if (quick) {
      methodList ??= quickMethods();
      datasetList ??= [...QUICK.datasets];
      options.size ??= QUICK.size;
      options.epochs ??= QUICK.epochs;
      seeds ??= QUICK.seeds;
      const isSynthetic = (name: string) => name.startsWith('synth-');
      dataArgs = (name) => {
        const reduced = quickCounts(isSynthetic(name), args);
        // Counts and difficulty are synthetic-only flags; a real dataset gets the limit instead.
        return isSynthetic(name) ? { ...args, ...reduced } : { ...args, trainCount: undefined, testCount: undefined, difficulty: undefined, ...reduced };
      };
      const real = datasetList.find((d) => !isSynthetic(d));
      const synth = quickCounts(true, args);
      description = quickDescription({
        size: options.size as number,
        trainCount: synth.trainCount!,
        testCount: synth.testCount!,
        epochs: options.epochs as number,
        seeds,
        synthetic: datasetList.some(isSynthetic),
        ...(real ? { limit: quickCounts(false, args).limit } : {}),
      });
    }
    if (!methodList?.length) throw new Error('bench: name at least one method with --methods (see: medianomaly methods)');
    if (!datasetList?.length) throw new Error('bench: name at least one dataset with --datasets (see: medianomaly datasets)');
    checkWeightsFlag(args, methodList);
    seeds ??= 3;
    if (!Number.isInteger(seeds) || seeds < 1) throw new RangeError(`--seeds must be a positive integer, got ${seeds}`);
    const datasets: DatasetSpec[] = [];
    for (const d of datasetList) datasets.push(await datasetSpec(d, dataArgs(d)));
    const settings: BenchSettings = {
      methods: methodList,
      datasets,
      seeds: Array.from({ length: seeds }, (_, i) => i),
      options,
      ...(description ? { description } : {}),
    };
    const dir = args.out ?? `bench-results/${timestamp()}`;
    if (description) console.error(`medianomaly: ${description}`);
    if (currentBackend() === 'ts') {
      const cpu = backends().find((b) => b.name === 'cpu');
      if (cpu && !cpu.available) console.error(`medianomaly: running on the ts reference backend, about 10× slower than the native one: ${cpu.reason}`);
    }
    console.error(`medianomaly: bench folder ${dir}`);
    if (args.detach && !args.queue) throw new Error('--detach needs --queue redis://HOST:PORT (the sweep goes on without this command only on a queue)');
    if (args.queue) {
      await queueBench(settings, dir, { queue: args.queue, detach: args.detach, attempts: args.attempts, report: args.report, json: args.json, t0 });
      return;
    }

    const interrupt = onInterrupt();
    let reporter: ProgressReporter | null = null;
    let estimate: Estimator | null = null;
    try {
      const result = await runBench(dir, settings, {
        signal: interrupt.signal,
        onRunStart: (run, reused) => {
          const tag = `[${run.index}/${run.total}] ${run.method} ${run.dataset} s${run.seed} `;
          if (reused) console.error(`${tag}already finished, kept`);
          reporter = progressReporter(tag, process.stderr, { plainEpochs: false });
        },
        onPlan: (_run, plan) => (estimate = estimator(plan, { synthetic: plan.dataset.startsWith('synth-') })),
        onProgress: (run, p) => {
          reporter?.update(p);
          const e = estimate?.observe(p);
          if (!e) return;
          for (const line of e.lines) reporter?.line(line);
          const left = run.total - run.index;
          if (left > 0) reporter?.line(`  then ${left} more run${left === 1 ? '' : 's'}: about ${formatDuration(left * e.seconds)} if they are alike`);
        },
        onScore: (_run, p) => reporter?.scoring(p),
        onRunEnd: (run, rec) => {
          reporter?.done();
          {
            const px = rec.metrics.pixel ? `  pixel AP ${(100 * rec.metrics.pixel.ap).toFixed(1)}` : '';
            console.error(`[${run.index}/${run.total}] ${run.method} ${run.dataset} s${run.seed}: AUROC ${(100 * rec.metrics.image.auroc).toFixed(1)}  AP ${(100 * rec.metrics.image.ap).toFixed(1)}${px}  (${rec.seconds.toFixed(1)} s training)`);
          }
        },
      });
      interrupt.dispose();
      await benchOutput(result, { report: args.report, json: args.json, t0 });
    } catch (e) {
      (reporter as ProgressReporter | null)?.done();
      interrupt.dispose();
      if (e instanceof BenchInterrupted) {
        console.error(`medianomaly: interrupted. ${e.message}.`);
        if (e.current) console.error(`  current run: ${e.current.message}`);
        console.error(`  finished and kept: ${e.finished.length ? e.finished.join(', ') : 'none'}`);
        console.error(`  not finished: ${e.unfinished.join(', ')}`);
        console.error(`  partial table: ${e.dir}/results.md (no HTML report was written)`);
        console.error(`Resume with: ${resumeCommand(hideBin(process.argv), { out: dir })}`);
        process.exitCode = 130;
        return;
      }
      throw e;
    }
  },
};
