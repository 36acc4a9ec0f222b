// `medianomaly predict --run DIR IMAGE... [--out DIR] [--json]`: the anomaly score of each
// image and, for methods with pixel maps, a heat-map overlay PNG per image in --out.
import type { CommandModule } from 'yargs';
import { predictFiles } from '../../harness/predict.js';
import { textTable } from '../table.js';
import { decodeLimits, limitOptions, type LimitArgs } from '../data-options.js';

interface Args extends LimitArgs {
  run: string;
  images: string[];
  out: string;
  json?: boolean;
}

export const predictCommand: CommandModule<object, Args> = {
  command: 'predict <images..>',
  describe: 'Score image files with a trained run; write a heat-map overlay PNG per image',
  builder: (y) =>
    limitOptions(y)
      .positional('images', { type: 'string', array: true, describe: 'image files (PNG, JPEG, TIFF, DICOM, NIfTI: first frame/slice)' })
      .option('run', { type: 'string', demandOption: true, describe: 'the trained run folder' })
      .option('out', { type: 'string', default: 'predictions', describe: 'folder for the overlay PNGs' })
      .option('json', { type: 'boolean', describe: 'print scores and overlay paths as JSON on stdout' }) as never,
  handler: async (args) => {
    const r = await predictFiles(args.run, args.images, args.out, decodeLimits(args));
    if (args.json) {
      process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      return;
    }
    console.log(textTable(['image', 'score', 'overlay'], r.predictions.map((p) => [p.path, p.score.toPrecision(5), p.overlay ?? '(no pixel map)']), [1]));
    if (r.range) console.log(`\noverlay colours span map values ${r.range.lo.toPrecision(3)} (blue) to ${r.range.hi.toPrecision(3)} (red), shared by these images`);
  },
};
