// `medianomaly predict --run DIR IMAGE... [--out DIR] [--format table|csv|json]`: the anomaly
// score of each image, its decision (normal / abnormal against the run's saved threshold,
// or --threshold / --threshold-quantile), a warning when the image is unlike the training
// images and, for methods with pixel maps, a heat-map overlay PNG per image in --out.
import type { CommandModule } from 'yargs';
import { predictFiles } from '../../harness/predict.js';
import { decodeLimits, limitOptions, type LimitArgs } from '../data-options.js';
import { FORMATS, type Format, formatPredictions, predictionNotices } from '../predictions-output.js';

interface Args extends LimitArgs {
  run: string;
  images: string[];
  out: string;
  format: Format;
  json?: boolean;
  threshold?: number;
  thresholdQuantile?: number;
}

export const predictCommand: CommandModule<object, Args> = {
  command: 'predict <images..>',
  describe: 'Score image files with a trained run: score, normal/abnormal, warnings; a heat-map overlay PNG per image',
  builder: (y) =>
    limitOptions(y)
      .positional('images', { type: 'string', array: true, describe: 'image files (PNG, JPEG, TIFF, DICOM, NIfTI: first frame/slice)' })
      .option('run', { type: 'string', demandOption: true, describe: 'the trained run folder' })
      .option('out', { type: 'string', default: 'predictions', describe: 'folder for the overlay PNGs' })
      .option('format', { type: 'string', choices: FORMATS, default: 'table', describe: 'output on stdout: an aligned table, CSV or JSON' })
      .option('json', { type: 'boolean', describe: 'same as --format json' })
      .option('threshold', { type: 'number', describe: "decide with this score threshold (abnormal = score ≥ it) instead of the run's saved one" })
      .option('threshold-quantile', { type: 'number', describe: "refit the threshold at this quantile (e.g. 0.95) of the run's saved normal scores" })
      .conflicts('threshold', 'threshold-quantile') as never,
  handler: async (args) => {
    const r = await predictFiles(args.run, args.images, args.out, decodeLimits(args), { threshold: args.threshold, thresholdQuantile: args.thresholdQuantile });
    process.stdout.write(formatPredictions(r, args.json ? 'json' : args.format));
    for (const line of predictionNotices(r)) console.error(`medianomaly: ${line}`);
  },
};
