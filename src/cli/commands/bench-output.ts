// What `bench` prints and writes after its runs, local or queued alike: report.html, then
// the table (or bench.json with --json), what ran, and where it was written.
import { type BenchResult, describeImages } from '../../harness/bench.js';
import { writeReport } from '../../harness/report/index.js';
import { markdownTable } from '../../harness/summary.js';
import { formatDuration } from '../progress.js';

export interface BenchOutputOptions {
  report?: boolean;
  json?: boolean;
  /** Start of the command, for the total time. */
  t0: number;
}

export async function benchOutput(result: BenchResult, o: BenchOutputOptions): Promise<void> {
  const description = result.file.settings.description;
  const seeds = result.file.settings.seeds.length;
  let reportPath: string | undefined;
  if (o.report !== false) {
    console.error('medianomaly: writing the HTML report (example images, one profiled training step per method)');
    reportPath = await writeReport(result.dir, result.file);
  }
  if (o.json) {
    process.stdout.write(JSON.stringify(result.file, null, 2) + '\n');
    return;
  }
  if (description) console.log(description);
  // What ran, whatever was asked: the images of each dataset.
  if (describeImages(result.file.images)) console.log(`Images that ran: ${describeImages(result.file.images)}.`);
  if (description || describeImages(result.file.images)) console.log('');
  console.log(markdownTable(result.file.summary));
  const spread = seeds === 1 ? 'one seed, so no std' : `mean ± sample std over ${seeds} seeds`;
  console.log(`\nImage AUROC / AP, pixel AP / ⌈Dice⌉ in %, ${spread} (backend ${result.file.environment.backend}).`);
  console.log(`Written: ${result.dir}/results.md, ${result.dir}/bench.json${reportPath ? `, ${reportPath}` : ''}`);
  console.log(`Total time ${formatDuration((Date.now() - o.t0) / 1000)}.`);
}
