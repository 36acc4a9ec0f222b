// Directory listings for the folder loaders: the data files of one folder (by the format a
// dataset kind reads), its subfolders, and a recursive walk for plain folders of images.
// Hidden entries are left out everywhere; listings are sorted unless `sortListings` is off.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError, reasonOf } from '../errors.js';
import { type FileFormat, formatOf, sniffDicom } from '../decode/index.js';
import type { LoadContext } from './common.js';

export type FolderKind = 'folder' | 'dicom' | 'nifti';

/** What a kind reads, for messages ("holds no image files (...)"). */
export const KIND_FILES: Record<FolderKind, string> = {
  folder: 'image files (PNG, JPEG, TIFF, WebP, GIF, DICOM .dcm, NIfTI .nii/.nii.gz)',
  dicom: 'DICOM files (.dcm, .dicom, or extension-less Part 10 files)',
  nifti: 'NIfTI files (.nii, .nii.gz)',
};

async function entries(ctx: LoadContext, dir: string) {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  } catch (err) {
    throw new DatasetError(`${ctx.dataset}: cannot list ${dir}: ${reasonOf(err)}`, ctx.dataset, dir, { cause: err });
  }
}

/** The format `kind` reads `name` as, or undefined when the kind does not read it (by extension). */
export function kindFormat(kind: FolderKind, name: string): FileFormat | undefined {
  const f = formatOf(name);
  if (kind === 'folder') return f;
  return f === kind ? f : undefined;
}

/** The data files directly in `dir` that `kind` reads. */
export async function listFormat(ctx: LoadContext, kind: FolderKind, dir: string): Promise<{ name: string; format: FileFormat }[]> {
  const names = (await entries(ctx, dir)).filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name);
  if (ctx.sortListings) names.sort();
  const out: { name: string; format: FileFormat }[] = [];
  for (const name of names) {
    const f = kindFormat(kind, name);
    if (f) out.push({ name, format: f });
    else if (kind === 'dicom' && formatOf(name) === undefined && !name.includes('.')) {
      // Extension-less files are common in DICOM exports.
      try {
        if (await sniffDicom(join(dir, name))) out.push({ name, format: 'dicom' });
      } catch {
        /* unreadable: not ours to judge here, it is simply not listed */
      }
    }
  }
  return out;
}

/** Subfolders of `dir`, sorted (symbolic links to folders are not followed: see walkFiles). */
export async function subfolders(ctx: LoadContext, dir: string): Promise<string[]> {
  return (await entries(ctx, dir)).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/**
 * Every data file under `dir`, recursively: `rel` is its path below `dir` with `/`
 * separators. Files come before subfolders at each level, each group in name order, so the
 * order is fixed by the names alone. Symbolic links to folders are not descended into (a
 * link back up would never end); links to files are listed.
 */
export async function walkFiles(ctx: LoadContext, kind: FolderKind, dir: string, prefix = ''): Promise<{ rel: string; path: string; format: FileFormat }[]> {
  const out = (await listFormat(ctx, kind, dir)).map(({ name, format }) => ({ rel: prefix + name, path: join(dir, name), format }));
  for (const sub of await subfolders(ctx, dir)) out.push(...(await walkFiles(ctx, kind, join(dir, sub), `${prefix}${sub}/`)));
  return out;
}
