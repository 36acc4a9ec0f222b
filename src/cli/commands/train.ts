// `medianomaly train --method M --dataset D [...]`: trains one run into a run folder
// (default runs/<method>-<dataset>-s<seed>), showing progress on stderr, then tests it and
// writes metrics.json. Training runs in a worker thread so Ctrl-C is handled at once: the
// run stops after the current step, keeps its last epoch checkpoint, and the message says
// how to resume.
import type { CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { fitInWorker } from '../../harness/in-worker.js';
import { RunInterrupted } from '../../harness/interrupted.js';
import type { TrainOutcome } from '../../harness/train.js';
import { type DataArgs, dataOptions, datasetSpec } from '../data-options.js';
import { formatMetrics } from '../format.js';
import { onInterrupt, resumeCommand } from '../interrupt.js';
import { type MethodArgs, checkMethodName, checkWeightsFlag, methodOptionValues, methodOptions } from '../method-options.js';
import { type Estimator, estimator } from '../estimate.js';
import { progressReporter } from '../progress.js';

interface Args extends DataArgs, MethodArgs {
  method: string;
  dataset: string;
  seed: number;
  out?: string;
  resume?: boolean;
  json?: boolean;
}

export const trainCommand: CommandModule<object, Args> = {
  command: 'train',
  describe: 'Train a method on a dataset into a run folder, then test it (metrics.json)',
  builder: (y) =>
    methodOptions(
      dataOptions(
        y
          .option('method', { type: 'string', demandOption: true, describe: 'method name (see: medianomaly methods)' })
          .option('dataset', { type: 'string', demandOption: true, describe: 'dataset name (see: medianomaly datasets)' })
          .option('seed', { type: 'number', default: 0, describe: 'seed of initialisation and shuffling' })
          .option('out', { type: 'string', describe: 'run folder (default runs/<method>-<dataset>-s<seed>)' })
          .option('resume', { type: 'boolean', describe: 'continue the unfinished run in --out from its last checkpoint' })
          .option('json', { type: 'boolean', describe: 'print the outcome (folder, options, metrics) as JSON on stdout' }),
      ),
    ) as never,
  handler: async (args) => {
    args.method = checkMethodName(args.method);
    checkWeightsFlag(args, [args.method]);
    if (!Number.isInteger(args.seed) || args.seed < 0) throw new RangeError(`--seed must be a non-negative integer, got ${args.seed}`);
    const dataset = await datasetSpec(args.dataset, args);
    const dir = args.out ?? `runs/${args.method}-${args.dataset}-s${args.seed}`;
    const options = { ...methodOptionValues(args, [args.method]), seed: args.seed };
    const progress = progressReporter(`${args.method} ${args.dataset} `);
    const interrupt = onInterrupt();
    let estimate: Estimator | null = null;
    let outcome: TrainOutcome;
    try {
      outcome = await fitInWorker(
        { method: args.method, options, dataset, dir, resume: args.resume },
        {
          signal: interrupt.signal,
          onPlan: (plan) => (estimate = estimator(plan, { synthetic: args.dataset.startsWith('synth-') })),
          onProgress: (p) => {
            progress.update(p);
            for (const line of estimate?.observe(p)?.lines ?? []) progress.line(line);
          },
          onScore: (p) => progress.scoring(p),
        },
      );
    } catch (e) {
      progress.done();
      if (e instanceof RunInterrupted) {
        console.error(`medianomaly: interrupted. ${e.message}.`);
        console.error(`Not finished: ${e.stage === 'training' ? 'training, then testing' : e.stage === 'testing' ? 'testing (metrics.json)' : 'the whole run'}.`);
        console.error(`Resume with: ${resumeCommand(hideBin(process.argv), { out: dir, resume: true })}`);
        process.exitCode = 130;
        return;
      }
      throw e;
    } finally {
      interrupt.dispose();
    }
    progress.done();
    if (args.json) {
      process.stdout.write(JSON.stringify(outcome, null, 2) + '\n');
      return;
    }
    console.log(`${outcome.reused ? 'already finished' : 'trained'}: ${outcome.dir}${outcome.fit ? ` (${outcome.fit.epochs} epoch${outcome.fit.epochs === 1 ? '' : 's'}, ${outcome.fit.seconds.toFixed(1)} s)` : ''}`);
    if (outcome.metrics) console.log(formatMetrics(outcome.metrics));
    if (outcome.note) console.log(`not tested: ${outcome.note}`);
  },
};
