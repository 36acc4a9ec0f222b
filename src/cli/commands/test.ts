// `medianomaly test --run DIR [--json] [--data-root DIR] [--test-path DIR|CSV]`: tests a trained run folder
// again (reloads its model and its dataset) and writes metrics.json and scores.json.
import type { CommandModule } from 'yargs';
import { testRun } from '../../harness/train.js';
import { formatMetrics } from '../format.js';
import { progressReporter } from '../progress.js';

interface Args {
  run: string;
  json?: boolean;
  dataRoot?: string;
  testPath?: string;
}

export const testCommand: CommandModule<object, Args> = {
  command: 'test',
  describe: "Test a trained run folder on its dataset's test split (writes metrics.json)",
  builder: (y) =>
    y
      .option('run', { type: 'string', demandOption: true, describe: 'the run folder (from medianomaly train)' })
      .option('json', { type: 'boolean', describe: 'print the metrics as JSON on stdout' })
      .option('data-root', { type: 'string', describe: 'dataset root, when the data moved since training' })
      .option('test-path', { type: 'string', describe: 'folder, dicom, nifti runs: test data (a folder with normal/ and abnormal/, or a CSV path,label[,mask])' }) as never,
  handler: async (args) => {
    const progress = progressReporter(`${args.run} `);
    // Loading a large test split (Fashion-MNIST: 10 000 images) takes seconds before the first scored batch.
    progress.line('loading the test split, then scoring it');
    const metrics = await testRun(args.run, { root: args.dataRoot, testPath: args.testPath }, (p) => progress.scoring(p));
    progress.done();
    if (args.json) {
      process.stdout.write(JSON.stringify(metrics, null, 2) + '\n');
      return;
    }
    console.log(`${args.run}`);
    console.log(formatMetrics(metrics));
  },
};
