// Where datasets live: $MEDIANOMALY_DATA, else ~/MedIAnomaly-Data (the folder the reference
// code hard-codes in the user's home directory).

import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { stat } from 'node:fs/promises';
import { statSync } from 'node:fs';

export const DEFAULT_ROOT_NAME = 'MedIAnomaly-Data';

/** Expands a leading `~` and makes the path absolute. */
export function expandPath(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return resolve(p);
}

/** The dataset root: the explicit argument, else $MEDIANOMALY_DATA, else ~/MedIAnomaly-Data. */
export function dataRoot(explicit?: string): string {
  if (explicit !== undefined && explicit !== '') return expandPath(explicit);
  const env = process.env.MEDIANOMALY_DATA;
  if (env !== undefined && env !== '') return expandPath(env);
  return join(homedir(), DEFAULT_ROOT_NAME);
}

/** Synchronous stat checks, for list(): describing what is present must not need a promise. */
export function isDirectorySync(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function isFileSync(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

export async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** The file name up to its first dot: the reference code's `name.split('.')[0]`. */
export function referenceId(fileName: string): string {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  return base.split('.')[0]!;
}

/** The file name without its image/volume extension (`.nii.gz` counts as one). */
export function stem(fileName: string): string {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  const m = /\.(nii\.gz|[^.]+)$/i.exec(base);
  return m ? base.slice(0, m.index) : base;
}

/**
 * Where a file name read from an index file (data.json, a CSV) points inside `dir`, or why it
 * may not be used: empty, absolute, or resolving outside `dir` (`../`). The check is lexical:
 * symbolic links inside the dataset folder are followed, as a folder assembled from links is
 * the dataset owner's choice; what is refused is an index that names files elsewhere.
 */
export function containedPath(dir: string, entry: string): { path: string; reason?: undefined } | { path: string; reason: string } {
  const base = resolve(dir);
  const path = resolve(base, entry);
  if (entry === '') return { path, reason: 'is empty' };
  if (entry.includes('\0')) return { path, reason: 'contains a NUL byte' };
  if (isAbsolute(entry)) return { path, reason: 'is an absolute path' };
  const rel = relative(base, path);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    return { path, reason: `resolves to ${path}, outside ${base}` };
  }
  return { path };
}
