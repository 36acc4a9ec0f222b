// A plain folder of normal images as the train split: every file the kind reads, found
// recursively (patients/studies in subfolders are common), id = path below the folder
// without the extension. A folder that looks like test data or a half-made MVTec layout is
// refused rather than trained on: abnormal images in a train split would poison the model
// without any error.

import { join } from 'node:path';
import { DatasetError } from '../errors.js';
import { isDirectory, stem } from '../paths.js';
import type { FileCandidate, LoadContext } from './common.js';
import { type FolderKind, KIND_FILES, subfolders, walkFiles } from './list-files.js';

/** `a/b/c.nii.gz` → `a/b/c`: the relative path without its extension (ids of recursive listings). */
export function relativeId(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return rel.slice(0, slash + 1) + stem(rel.slice(slash + 1));
}

/** The normal training images of a plain folder, in listing order. */
export async function plainTrainFiles(ctx: LoadContext, kind: FolderKind, dir: string): Promise<FileCandidate[]> {
  const subs = await subfolders(ctx, dir);
  if (subs.includes('abnormal')) {
    throw new DatasetError(
      `${ctx.dataset}: ${dir} has an abnormal/ subfolder, but the training folder must hold normal images only; ` +
        'pass a folder with normal/ and abnormal/ as the test data (testPath, --test-path) and a folder of normal images as path',
      ctx.dataset, dir,
    );
  }
  if (subs.includes('train') || subs.includes('test')) {
    // Meant as MVTec (train/good, test/...) but incomplete: its test images must not become training images.
    const missing = join(dir, 'train', 'good');
    if (!(await isDirectory(missing))) {
      throw new DatasetError(
        `${ctx.dataset}: ${missing} not found; ${dir} has ${subs.includes('test') ? 'test/' : 'train/'} like the MVTec layout ` +
          '(<path>/train/good/, <path>/test/good/, <path>/test/<defect>/). Complete that layout, or pass a folder that holds only normal images',
        ctx.dataset, missing,
      );
    }
  }
  const files = await walkFiles(ctx, kind, dir);
  if (files.length === 0) {
    throw new DatasetError(
      `${ctx.dataset}: ${dir} holds no ${KIND_FILES[kind]} (searched recursively; hidden files are left out). ` +
        'Put the normal training images there, or pass the folder that holds them',
      ctx.dataset, dir,
    );
  }
  return files.map((f) => ({ id: relativeId(f.rel), path: f.path, label: 0, format: f.format }));
}
