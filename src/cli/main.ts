// `medianomaly` command line: one yargs program, one file per command.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { version } from '../version.js';
import { backendsCommand } from './commands/backends.js';
import { benchCommand } from './commands/bench.js';
import { calibrateCommand } from './commands/calibrate.js';
import { datasetsCommand } from './commands/datasets.js';
import { methodsCommand } from './commands/methods.js';
import { predictCommand } from './commands/predict.js';
import { queueCommand } from './commands/queue.js';
import { testCommand } from './commands/test.js';
import { trainCommand } from './commands/train.js';
import { weightsCommand } from './commands/weights.js';
import { workerCommand } from './commands/worker.js';

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('medianomaly')
    .version(version)
    .command(backendsCommand)
    .command(methodsCommand)
    .command(datasetsCommand)
    .command(trainCommand)
    .command(testCommand)
    .command(predictCommand)
    .command(calibrateCommand)
    .command(benchCommand)
    .command(weightsCommand)
    .command(workerCommand)
    .command(queueCommand)
    .demandCommand(1, 'Name a command (see --help).')
    .strict()
    .recommendCommands()
    .fail((msg, err, y) => {
      if (err) throw err;
      console.error(`medianomaly: ${msg}\n`);
      console.error(y.help());
      process.exit(2);
    })
    .help()
    .parseAsync();
}

main(hideBin(process.argv)).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`medianomaly: ${message}`);
  process.exitCode = 1;
});
