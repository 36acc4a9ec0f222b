// `medianomaly backends [--json]`: which compute backends exist here, which one is
// chosen, which BLAS and how many threads the native one uses, and why one is missing.
import type { CommandModule } from 'yargs';
import { backends, currentBackend } from '../../engine/index.js';

interface Args {
  json?: boolean;
}

export const backendsCommand: CommandModule<object, Args> = {
  command: 'backends',
  describe: 'List the compute backends, the one in use, and why any is unavailable',
  builder: (y) => y.option('json', { type: 'boolean', describe: 'machine-readable output on stdout' }) as never,
  handler: (args) => {
    const rows = backends();
    const chosen = currentBackend();
    if (args.json) {
      process.stdout.write(JSON.stringify({ current: chosen, backends: rows }, null, 2) + '\n');
      return;
    }
    for (const b of rows) {
      const mark = b.name === chosen ? '*' : ' ';
      const state = b.available ? 'available' : `unavailable: ${b.reason}`;
      const facts = Object.entries(b.info ?? {})
        .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        .join(' ');
      console.log(`${mark} ${b.name.padEnd(5)} ${state}${facts ? `  (${facts})` : ''}`);
    }
    console.log(`\nin use: ${chosen}  (override with MEDIANOMALY_BACKEND=ts|cpu|cuda)`);
  },
};
