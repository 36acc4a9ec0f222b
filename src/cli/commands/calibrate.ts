// `medianomaly calibrate --run DIR [--quantile Q] [--val-path FOLDER]`: fits (again) the
// threshold, overlay scale and training-image statistics `predict` uses, from the run's
// training data, without retraining; for runs trained before these were saved, or to fit
// the threshold on held-out normal images instead of the training images.
import type { CommandModule } from 'yargs';
import { calibrateRunFolder } from '../../harness/calibrate-run.js';
import { CALIBRATION_FILE, DEFAULT_QUANTILE, percentileName } from '../../harness/calibration.js';
import { decodeLimits, limitOptions, type LimitArgs } from '../data-options.js';

interface Args extends LimitArgs {
  run: string;
  quantile?: number;
  valPath?: string;
  dataRoot?: string;
  json?: boolean;
}

export const calibrateCommand: CommandModule<object, Args> = {
  command: 'calibrate',
  describe: "Fit a trained run's normal/abnormal threshold, overlay scale and input checks from its training data (no retraining)",
  builder: (y) =>
    limitOptions(y)
      .option('run', { type: 'string', demandOption: true, describe: 'the trained run folder' })
      .option('quantile', { type: 'number', describe: `quantile of normal scores the threshold sits at (default ${DEFAULT_QUANTILE})` })
      .option('val-path', { type: 'string', describe: 'a folder of held-out normal images (not used in training) to fit the threshold on, instead of the training images' })
      .option('data-root', { type: 'string', describe: 'dataset root, when the data moved since training' })
      .option('json', { type: 'boolean', describe: `print the calibration (as written to ${CALIBRATION_FILE}) as JSON on stdout` }) as never,
  handler: async (args) => {
    const c = await calibrateRunFolder(args.run, { quantile: args.quantile, valPath: args.valPath, root: args.dataRoot, limits: decodeLimits(args) });
    if (args.json) {
      process.stdout.write(JSON.stringify(c, null, 2) + '\n');
      return;
    }
    const on = c.validation ? `${c.validation.scores.length} held-out normal images (${c.validation.source})` : `${c.trainScores.length} training images`;
    console.log(`threshold ${c.threshold.value.toPrecision(5)}: the ${percentileName(c.threshold.q ?? 0)} of the scores of ${on}`);
    if (c.mapScale) console.log(`overlay scale ${c.mapScale.lo.toPrecision(3)} to ${c.mapScale.hi.toPrecision(3)} (${percentileName(c.mapScale.qLo)} to ${percentileName(c.mapScale.qHi)} of the training maps' pixel values)`);
    console.log(`input checks from ${c.input.count} training images (${c.input.channels === 1 ? 'grey' : 'RGB'} model)`);
    console.log(`wrote ${args.run}/${CALIBRATION_FILE}`);
  },
};
