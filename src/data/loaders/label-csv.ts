// A CSV listing test images with their labels: a header line naming the columns `path` and
// `label` (any order, any case) and optionally `mask`; other columns are ignored. Paths are
// relative to the CSV's folder and must stay inside it, the rule every index file follows
// (containedPath): a CSV handed around with its folder must not reach files elsewhere.
// Labels: 0 / normal, 1 / abnormal. With a mask column, an abnormal row needs a mask (as in
// the MVTec layout); a normal row's empty cell means an all-zero mask.

import { dirname } from 'node:path';
import type { Label } from '../types.js';
import { DatasetError } from '../errors.js';
import { containedPath } from '../paths.js';
import { type FileCandidate, type LoadContext, reject } from './common.js';
import { readCsvFile } from './csv.js';
import { type FolderKind, KIND_FILES, kindFormat } from './list-files.js';
import { relativeId } from './plain-folder.js';

const LABELS: Record<string, Label> = { '0': 0, normal: 0, '1': 1, abnormal: 1 };

export async function labelCsvFiles(ctx: LoadContext, kind: FolderKind, csvPath: string): Promise<{ files: FileCandidate[]; hasMasks: boolean }> {
  const fail = (msg: string): never => {
    throw new DatasetError(`${ctx.dataset}: ${csvPath}${msg}`, ctx.dataset, csvPath);
  };
  const rows = await readCsvFile(ctx.dataset, csvPath);
  const header = (rows[0] ?? []).map((h) => h.toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const [iPath, iLabel, iMask] = [col('path'), col('label'), col('mask')];
  for (const [i, name] of [[iPath, 'path'], [iLabel, 'label']] as const) {
    if (i < 0) fail(`: no '${name}' column (header: ${header.length ? header.join(',') : 'none'}); the first line must be a header line naming the columns path,label and optionally mask`);
  }
  const dir = dirname(csvPath);
  const inside = (line: number, what: string, entry: string): string => {
    const c = containedPath(dir, entry);
    if (c.reason !== undefined) fail(` line ${line}: ${what} "${entry}" ${c.reason}; entries must name files inside ${dir} (the CSV's folder). Fix the CSV`);
    return c.path;
  };
  const files: FileCandidate[] = [];
  const seen = new Map<string, number>();
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    const line = r + 1;
    if (row.every((f) => f === '')) continue; // blank line
    const entry = row[iPath] ?? '';
    const path = inside(line, 'path', entry);
    const label = LABELS[(row[iLabel] ?? '').toLowerCase()];
    if (label === undefined) fail(` line ${line}: label "${row[iLabel] ?? ''}" is not one of 0, 1, normal, abnormal`);
    const format = kindFormat(kind, entry) ?? (kind === 'dicom' && !entry.slice(entry.lastIndexOf('/') + 1).includes('.') ? 'dicom' : undefined);
    if (!format) fail(` line ${line}: ${entry} is not a supported image (${ctx.dataset} reads ${KIND_FILES[kind]})`);
    const first = seen.get(path);
    if (first !== undefined) fail(` line ${line}: ${entry} is listed again (first on line ${first})`);
    seen.set(path, line);
    const c: FileCandidate = { id: relativeId(entry.replace(/\\/g, '/').replace(/^\.\//, '')), path, label: label!, format: format! };
    const maskEntry = iMask >= 0 ? (row[iMask] ?? '') : '';
    if (maskEntry !== '') {
      const maskPath = inside(line, 'mask', maskEntry);
      const maskFormat = kindFormat('folder', maskEntry);
      if (!maskFormat) fail(` line ${line}: mask ${maskEntry} is not a supported image`);
      c.mask = { path: maskPath, format: maskFormat! };
      c.labelFromMask = true; // matters for multi-frame files only
    } else if (iMask >= 0 && label === 1) {
      reject(ctx, 'test', path, `no mask in ${csvPath} line ${line} (the CSV has a mask column, so every abnormal row needs one)`);
      continue;
    }
    files.push(c);
  }
  if (seen.size === 0) fail(' has no rows; list one test image per line under the header path,label');
  return { files, hasMasks: iMask >= 0 };
}
