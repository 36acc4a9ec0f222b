// `medianomaly weights import|check|fetch|list`: ImageNet backbone weights and LPIPS-squeeze's
// (lpips_squeeze: SqueezeNet 1.1 + LPIPS v0.1 lin layers in one file). `fetch` is the only
// command in the program that downloads anything.
import type { Argv, CommandModule } from 'yargs';
import { basename, dirname, join } from 'node:path';
import { WEIGHTS_ARCHS, archLabel, type WeightsArch } from '../../models/backbones/state.js';
import {
  checkWeights,
  fetchWeights,
  importPth,
  listCachedWeights,
  describeSources,
  weightsCacheDir,
  weightsUrl,
  type FetchProgress,
  type WeightsReport,
} from '../../weights/index.js';

const archOption = <T>(y: Argv<T>) =>
  y
    .option('arch', { type: 'string', choices: [...WEIGHTS_ARCHS], demandOption: true, describe: 'the backbone (or lpips_squeeze) the weights are for' })
    .option('trunk', { type: 'string', describe: "lpips_squeeze: torchvision's SqueezeNet 1.1 file (squeezenet1_1-b8a52dc0.pth), combined with the LPIPS lin-layer file (squeeze.pth)" });

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function listed(names: string[], max = 10): string {
  return names.length > max ? `${names.slice(0, max).join(', ')}, … (${names.length - max} more)` : names.join(', ');
}

/** The report as lines for a person. */
function reportLines(r: WeightsReport): string[] {
  const lines = [`${r.file}: ${r.format === 'safetensors' ? 'safetensors' : `PyTorch checkpoint (${r.format === 'zip' ? 'zip' : 'legacy pre-1.6'} format)`}, ${r.tensors} tensors${r.key ? ` (state dict under "${r.key}")` : ''}`];
  if (r.misshaped.length) {
    lines.push(`  wrong shape (${r.misshaped.length}):`);
    for (const m of r.misshaped.slice(0, 20)) lines.push(`    ${m.name}: [${m.found.join(', ')}], ${r.arch} has [${m.expected.join(', ')}]`);
    if (r.misshaped.length > 20) lines.push(`    … (${r.misshaped.length - 20} more)`);
  }
  if (r.missing.length) lines.push(`  missing (${r.missing.length}): ${listed(r.missing)}`);
  if (r.extra.length) lines.push(`  not in ${r.arch} (${r.extra.length}): ${listed(r.extra)}`);
  if (r.nonFinite.length) lines.push(`  NaN/Inf in (${r.nonFinite.length}): ${listed(r.nonFinite.map((n) => `${n.name} (${n.count})`))}`);
  if (r.ignored.length) lines.push(`  classifier, ignored (${r.ignored.length}): ${listed(r.ignored)}`);
  if (r.absentOptional.length) lines.push(`  num_batches_tracked absent (${r.absentOptional.length}; accepted, written as 0)`);
  for (const c of r.conversions) lines.push(`  converted ${c.from} → ${c.to}: ${c.count} tensor(s)`);
  lines.push(r.ok ? `  OK: fits ${archLabel(r.arch)}` : `  NOT usable as ${r.arch}: ${r.message}`);
  return lines;
}

/** Download progress on stderr: redrawn on a terminal, a line per 10% otherwise (per file). */
function progressPrinter(fallback: string): (p: FetchProgress) => void {
  const tty = process.stderr.isTTY;
  let lastTenth = -1;
  let lastDraw = 0;
  let lastFile: string | undefined;
  return (p) => {
    if (p.file !== lastFile) {
      lastFile = p.file;
      lastTenth = -1;
      lastDraw = 0;
    }
    const label = p.file ?? fallback;
    const pct = p.total ? Math.floor((100 * p.received) / p.total) : null;
    const text = `${label}: ${mb(p.received)}${p.total ? ` of ${mb(p.total)} (${pct}%)` : ''}`;
    if (tty) {
      const now = Date.now();
      if (now - lastDraw < 100 && p.received !== p.total) return;
      lastDraw = now;
      process.stderr.write(`\r${text}\x1b[K${p.received === p.total ? '\n' : ''}`);
    } else {
      const tenth = pct === null ? Math.floor(p.received / 50e6) : Math.floor(pct / 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`${text}\n`);
      }
    }
  };
}

interface ImportArgs {
  file: string;
  arch: WeightsArch;
  out?: string;
  key?: string;
  trunk?: string;
}

const importCommand: CommandModule<object, ImportArgs> = {
  command: 'import <file>',
  describe: 'Convert a PyTorch checkpoint (.pth) of a torchvision backbone (or LPIPS squeeze.pth with --trunk) to .safetensors, after checking it (nothing in the file runs)',
  builder: (y) =>
    archOption(y.positional('file', { type: 'string', demandOption: true, describe: 'the .pth file (torch.save of a state dict)' }))
      .option('out', { type: 'string', describe: 'the .safetensors file to write (default: FILE with .safetensors)' })
      .option('key', { type: 'string', describe: 'where the state dict sits in a larger checkpoint (e.g. model, or checkpoint.state_dict)' }) as never,
  handler: (args) => {
    const out = args.out ?? join(dirname(args.file), `${basename(args.file).replace(/\.(pth|pt|bin|ckpt|tar)$/i, '')}.safetensors`);
    const r = importPth(args.file, { arch: args.arch, out, key: args.key, trunk: args.trunk });
    for (const l of reportLines(r.report)) console.log(l);
    console.log(`wrote ${r.out} (${mb(r.bytes)}, SHA-256 ${r.sha256})`);
    console.log(`use it with --weights ${r.out}`);
  },
};

interface CheckArgs {
  file: string;
  arch: WeightsArch;
  key?: string;
  trunk?: string;
  json?: boolean;
}

const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check <file>',
  describe: 'Check a .pth or .safetensors file against a backbone: missing, extra, mis-shaped tensors, NaN/Inf, conversions (exit code 1 when it does not fit)',
  builder: (y) =>
    archOption(y.positional('file', { type: 'string', demandOption: true, describe: 'a .pth or .safetensors file' }))
      .option('key', { type: 'string', describe: 'where the state dict sits in a larger checkpoint' })
      .option('json', { type: 'boolean', describe: 'the report as JSON on stdout' }) as never,
  handler: (args) => {
    const r = checkWeights(args.file, args.arch, { key: args.key, trunk: args.trunk });
    if (args.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else for (const l of reportLines(r)) console.log(l);
    if (!r.ok) process.exitCode = 1;
  },
};

interface FetchArgs {
  arch: WeightsArch;
  url?: string;
  sha256?: string;
  force?: boolean;
}

const fetchCommand: CommandModule<object, FetchArgs> = {
  command: 'fetch <arch>',
  describe: `Download published weights (${WEIGHTS_ARCHS.map((a) => describeSources(a)).join('; ')}), verify their SHA-256, convert and cache them`,
  builder: (y) =>
    y
      .positional('arch', { type: 'string', choices: [...WEIGHTS_ARCHS], demandOption: true, describe: 'the backbone, or lpips_squeeze' })
      .option('url', {
        type: 'string',
        describe: "a mirror: a folder URL holding the published file name(s), or the full URL of a backbone's .pth whose name carries its SHA-256 prefix (default: where each file is published)",
      })
      .option('sha256', { type: 'string', describe: "the full SHA-256 the main file must have (needed for LPIPS's squeeze.pth, which has no published hash)" })
      .option('force', { type: 'boolean', describe: 'download again even when the cache holds the weights' }) as never,
  handler: async (args) => {
    const dir = weightsCacheDir();
    if (!args.force) {
      const row = listCachedWeights(dir).find((r) => r.arch === args.arch);
      if (row?.cached && !row.problem) {
        console.log(`${args.arch}: already cached in ${row.path} (SHA-256 ${row.sha256}, from ${row.sourceUrl}); --force downloads it again`);
        return;
      }
    }
    const url = weightsUrl(args.arch, args.url);
    console.error(`downloading ${args.arch === 'lpips_squeeze' ? `${url} and the SqueezeNet trunk` : url}`);
    const r = await fetchWeights(args.arch, { url: args.url, sha256: args.sha256, cacheDir: dir, onProgress: progressPrinter(basename(new URL(url).pathname)) });
    console.log(
      `${args.arch}: SHA-256 ${r.sourceSha256}${r.trunkSha256 ? ` and ${r.trunkSha256} (trunk)` : ''} verified (${r.report.format === 'legacy' ? 'legacy pre-1.6 format, ' : ''}${r.report.tensors} tensors${r.report.ignored.length ? `, classifier dropped` : ''})`,
    );
    console.log(`cached ${r.path} (SHA-256 ${r.sha256}); ${args.arch === 'lpips_squeeze' ? 'LPIPS-squeeze (autoddpm) uses' : `methods with backbone ${args.arch} use`} it by default`);
  },
};

interface ListArgs {
  json?: boolean;
}

const listCommand: CommandModule<object, ListArgs> = {
  command: 'list',
  describe: 'What the weights cache holds (MEDIANOMALY_WEIGHTS, default ~/.cache/medianomaly)',
  builder: (y) => y.option('json', { type: 'boolean', describe: 'machine-readable output on stdout' }) as never,
  handler: (args) => {
    const dir = weightsCacheDir();
    const rows = listCachedWeights(dir);
    if (args.json) {
      process.stdout.write(JSON.stringify({ cacheDir: dir, weights: rows }, null, 2) + '\n');
      return;
    }
    console.log(`weights cache: ${dir}`);
    for (const r of rows) {
      const state = r.cached ? `${mb(r.bytes ?? 0)}  SHA-256 ${r.sha256?.slice(0, 16)}…  fetched ${r.fetched?.slice(0, 10)} from ${r.sourceUrl}` : `not cached (medianomaly weights fetch ${r.arch})`;
      console.log(`  ${r.arch.padEnd(16)} ${state}${r.problem ? `  PROBLEM: ${r.problem}` : ''}`);
    }
  },
};

export const weightsCommand: CommandModule = {
  command: 'weights',
  describe: "ImageNet backbone and LPIPS-squeeze weights: import a .pth, check a file, fetch the published files, list the cache",
  builder: (y) => y.command(importCommand).command(checkCommand).command(fetchCommand).command(listCommand).demandCommand(1, 'Name a weights command: import, check, fetch or list.'),
  handler: () => {},
};
