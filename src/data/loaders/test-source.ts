// Test data given apart from the training images (`testPath`): a folder with normal/ and
// abnormal/ subfolders (each searched recursively), or a CSV of path,label[,mask] (./label-csv.ts).

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError, reasonOf } from '../errors.js';
import type { FileCandidate, LoadContext } from './common.js';
import { type FolderKind, KIND_FILES, listFormat, subfolders, walkFiles } from './list-files.js';
import { relativeId } from './plain-folder.js';
import { labelCsvFiles } from './label-csv.js';

export interface TestSource {
  files: FileCandidate[];
  hasMasks: boolean;
}

const LABEL_FOLDERS = ['normal', 'abnormal'] as const;
const EXPECTED = 'expected a folder with normal/ and abnormal/ subfolders, or a .csv file with columns path,label[,mask]';

/** The test files of `testPath` (an absolute path), normals first for a folder, CSV order for a CSV. */
export async function testSourceFiles(ctx: LoadContext, kind: FolderKind, testPath: string): Promise<TestSource> {
  let isDir: boolean;
  try {
    isDir = (await stat(testPath)).isDirectory();
  } catch (err) {
    throw new DatasetError(`${ctx.dataset}: test data ${testPath} ${reasonOf(err) === 'file not found' ? 'not found' : `cannot be read: ${reasonOf(err)}`}; ${EXPECTED}`, ctx.dataset, testPath, { cause: err });
  }
  if (!isDir) {
    if (testPath.toLowerCase().endsWith('.csv')) return labelCsvFiles(ctx, kind, testPath);
    throw new DatasetError(`${ctx.dataset}: test data ${testPath}: ${EXPECTED}`, ctx.dataset, testPath);
  }
  return { files: await labelFolderFiles(ctx, kind, testPath), hasMasks: false };
}

async function labelFolderFiles(ctx: LoadContext, kind: FolderKind, dir: string): Promise<FileCandidate[]> {
  const subs = await subfolders(ctx, dir);
  const stray = subs.filter((s) => !(LABEL_FOLDERS as readonly string[]).includes(s));
  if (stray.length) {
    throw new DatasetError(
      `${ctx.dataset}: ${dir}: unexpected ${stray.map((s) => `${s}/`).join(', ')}; a test folder holds normal/ and abnormal/ only ` +
        '(move abnormal cases of every kind into abnormal/, or list the files in a CSV with columns path,label)',
      ctx.dataset, dir,
    );
  }
  const present = LABEL_FOLDERS.filter((s) => subs.includes(s));
  if (present.length === 0 || (await listFormat(ctx, kind, dir)).length > 0) {
    throw new DatasetError(`${ctx.dataset}: test data ${dir}: ${EXPECTED} (the label of a test image comes from its folder)`, ctx.dataset, dir);
  }
  const files: FileCandidate[] = [];
  for (const sub of present) {
    const label = sub === 'normal' ? 0 : 1;
    for (const f of await walkFiles(ctx, kind, join(dir, sub))) files.push({ id: `${sub}/${relativeId(f.rel)}`, path: f.path, label, format: f.format });
  }
  if (files.length === 0) {
    throw new DatasetError(`${ctx.dataset}: test data ${dir}: ${present.map((s) => `${s}/`).join(' and ')} holds no ${KIND_FILES[kind]} (searched recursively)`, ctx.dataset, dir);
  }
  return files;
}
