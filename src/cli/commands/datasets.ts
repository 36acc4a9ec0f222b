// `medianomaly datasets [--json] [--data-root DIR]`: every dataset name, whether its data
// is present under the data root, and how to get what is missing.
import type { CommandModule } from 'yargs';
import { dataRoot, list } from '../../data/index.js';
import { textTable } from '../table.js';

interface Args {
  json?: boolean;
  dataRoot?: string;
}

export const datasetsCommand: CommandModule<object, Args> = {
  command: 'datasets',
  describe: 'List the datasets, whether each is present under the data root, and how to get the missing ones',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', describe: 'machine-readable output on stdout' })
      .option('data-root', { type: 'string', describe: 'dataset root (default $MEDIANOMALY_DATA, else ~/MedIAnomaly-Data)' }) as never,
  handler: async (args) => {
    const root = dataRoot(args.dataRoot);
    const all = await list({ root });
    if (args.json) {
      process.stdout.write(JSON.stringify({ root, datasets: all }, null, 2) + '\n');
      return;
    }
    const present = (d: (typeof all)[number]) => (d.kind === 'generic' ? 'needs --path' : d.present ? 'yes' : 'no');
    const rows = all.map((d) => [d.name, d.kind, d.modality, d.hasMasks ? 'yes' : 'no', present(d), d.location ?? '']);
    console.log(`data root: ${root}\n`);
    console.log(textTable(['name', 'kind', 'modality', 'masks', 'present', 'location'], rows));
    const missing = all.filter((d) => !d.present && d.kind !== 'generic');
    if (missing.length) {
      console.log('\nHow to get the missing ones:');
      for (const d of missing) console.log(`  ${d.name}: ${d.howToGet}`);
    }
  },
};
