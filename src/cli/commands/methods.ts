// `medianomaly methods [--json]`: the registered methods with their family, whether they
// give pixel maps, their default input size and (with --json) every option and default.
import type { CommandModule } from 'yargs';
import { methods } from '../../methods/registry.js';
import { textTable } from '../table.js';

interface Args {
  json?: boolean;
}

export const methodsCommand: CommandModule<object, Args> = {
  command: 'methods',
  describe: 'List the anomaly-detection methods (name, family, pixel maps, default size)',
  builder: (y) => y.option('json', { type: 'boolean', describe: 'machine-readable output on stdout (includes every option)' }) as never,
  handler: (args) => {
    const list = methods.list();
    if (args.json) {
      process.stdout.write(JSON.stringify(list, null, 2) + '\n');
      return;
    }
    const rows = list.map((m) => [m.name, m.title, m.family, m.pixelMaps ? 'yes' : 'no', String(m.defaultSize)]);
    console.log(textTable(['name', 'title', 'family', 'pixel maps', 'default size'], rows, [4]));
    console.log(`\n${list.length} method${list.length === 1 ? '' : 's'}; options of each: medianomaly methods --json`);
  },
};
