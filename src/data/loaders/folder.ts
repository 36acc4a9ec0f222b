// The folder datasets, for any supported file format. `path` is either the MVTec AD layout:
//
//   <path>/train/good/*                     normal training images
//   <path>/test/good/*                      normal test images
//   <path>/test/<defect>/*                  abnormal test images, one folder per defect type
//   <path>/ground_truth/<defect>/<stem>_mask.<ext>   optional pixel masks (any format)
//
// or, when <path>/train/good/ is not there, a plain folder of normal images (./plain-folder.ts).
// `testPath` gives the test data apart (./test-source.ts) and replaces <path>/test; without
// either there is no test split (an empty one: training needs none).
//
// `folder` reads images, DICOM and NIfTI by extension; `dicom` reads DICOM only (extension-
// less files too, recognised by the Part 10 'DICM' magic); `nifti` reads .nii/.nii.gz only.
// Multi-frame DICOM and NIfTI volumes become one item per frame/slice; with masks, each
// slice of an abnormal volume is labelled by whether its mask slice has foreground.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dataset, DatasetDescriptor, LoadOptions } from '../types.js';
import { DatasetError, reasonOf } from '../errors.js';
import { expandPath, isDirectory, stem } from '../paths.js';
import type { FileFormat } from '../decode/index.js';
import { type FileCandidate, type LoadContext, assemble, expandFiles, reject, resolveOptions } from './common.js';
import { type FolderKind, listFormat, subfolders } from './list-files.js';
import { plainTrainFiles } from './plain-folder.js';
import { testSourceFiles } from './test-source.js';

export type { FolderKind };

const TITLES: Record<FolderKind, string> = {
  folder: 'Folder (plain folder of normal images, or MVTec AD layout)',
  dicom: 'DICOM files in the folder layout',
  nifti: 'NIfTI volumes in the folder layout',
};

const LAYOUT_HELP =
  'a folder of normal training images (searched recursively), or the MVTec layout <path>/train/good/, <path>/test/good/, ' +
  '<path>/test/<defect>/ and optionally <path>/ground_truth/<defect>/<name>_mask.<ext>; test data apart with `testPath` ' +
  '(a folder with normal/ and abnormal/, or a CSV path,label[,mask])';

export function describeFolder(kind: FolderKind): DatasetDescriptor {
  return {
    name: kind, title: TITLES[kind], modality: 'generic', kind: 'generic', channels: 1, hasMasks: false,
    present: false, requires: ['path'], howToGet: `pass the dataset folder as \`path\`; ${LAYOUT_HELP}`,
  };
}

/** Mask files of one defect folder, by the stem of the image they belong to. */
async function maskIndex(ctx: LoadContext, dir: string): Promise<Map<string, { path: string; format: FileFormat }>> {
  const index = new Map<string, { path: string; format: FileFormat }>();
  if (!(await isDirectory(dir))) return index;
  for (const { name, format } of await listFormat(ctx, 'folder', dir)) {
    const s = stem(name);
    const key = s.endsWith('_mask') ? s.slice(0, -'_mask'.length) : s;
    if (!index.has(key) || s.endsWith('_mask')) index.set(key, { path: join(dir, name), format });
  }
  return index;
}

export async function loadFolder(kind: FolderKind, options: LoadOptions & { root: string }): Promise<Dataset> {
  const ctx = resolveOptions(kind, options, 1);
  if (options.path === undefined || options.path === '') {
    throw new DatasetError(`${kind}: the \`path\` option is required: ${LAYOUT_HELP}`, kind);
  }
  const root = expandPath(options.path);
  await checkFolder(kind, root);
  const testPath = options.testPath === undefined || options.testPath === '' ? undefined : expandPath(options.testPath);
  const mvtec = await isDirectory(join(root, 'train', 'good'));
  let train: FileCandidate[];
  let test: FileCandidate[] | undefined;
  let hasMasks = false;
  if (mvtec) ({ train, test, hasMasks } = await mvtecFiles(ctx, kind, root, testPath === undefined));
  else train = await plainTrainFiles(ctx, kind, root);
  if (testPath !== undefined) {
    ({ files: test, hasMasks } = await testSourceFiles(ctx, kind, testPath));
    refuseOverlap(kind, train, test);
  }
  const frames = kind !== 'folder' || [...train, ...(test ?? [])].some((t) => t.format !== 'image');
  return assemble(ctx, {
    title: TITLES[kind], modality: 'generic', source: root, hasMasks,
    train: await expandFiles(ctx, 'train', train),
    test: test && (await expandFiles(ctx, 'test', test)),
    options: { path: root, ...(testPath !== undefined ? { testPath } : {}), ...(frames ? { axis: ctx.frame.axis, dicomWindow: ctx.frame.window } : {}) },
  });
}

async function checkFolder(kind: FolderKind, root: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(root)).isDirectory();
  } catch (err) {
    const why = reasonOf(err);
    throw new DatasetError(`${kind}: ${root} ${why === 'file not found' ? 'not found' : `cannot be read: ${why}`}; \`path\` must be ${LAYOUT_HELP}`, kind, root, { cause: err });
  }
  if (!isDir) throw new DatasetError(`${kind}: ${root} is a file; \`path\` must be ${LAYOUT_HELP}`, kind, root);
}

/** A file in both splits would make the test score a memorised image: refused, naming it. */
function refuseOverlap(kind: FolderKind, train: readonly FileCandidate[], test: readonly FileCandidate[]): void {
  const trainPaths = new Set(train.map((f) => f.path));
  const both = test.find((f) => trainPaths.has(f.path));
  if (both) {
    throw new DatasetError(
      `${kind}: ${both.path} is both a training image (under path) and a test image (in testPath); ` +
        'keep test images outside the training folder',
      kind, both.path,
    );
  }
}

/** The MVTec layout's train split and, unless `testPath` replaces it, its test split. */
async function mvtecFiles(ctx: LoadContext, kind: FolderKind, root: string, withTest: boolean): Promise<{ train: FileCandidate[]; test?: FileCandidate[]; hasMasks: boolean }> {
  if (withTest && !(await isDirectory(join(root, 'test')))) {
    throw new DatasetError(`${kind}: ${join(root, 'test')} not found; ${LAYOUT_HELP}`, kind, join(root, 'test'));
  }
  const gtRoot = join(root, 'ground_truth');
  const hasMasks = withTest && (await isDirectory(gtRoot));
  const files = async (sub: string, label: 0 | 1): Promise<FileCandidate[]> => {
    const dir = join(root, sub);
    const defect = sub.split('/').pop()!;
    const masks = label === 1 && hasMasks ? await maskIndex(ctx, join(gtRoot, defect)) : undefined;
    const out: FileCandidate[] = [];
    for (const { name, format } of await listFormat(ctx, kind, dir)) {
      const c: FileCandidate = { id: `${defect}/${stem(name)}`, path: join(dir, name), label, format };
      if (masks) {
        const m = masks.get(stem(name));
        if (!m) {
          reject(ctx, 'test', c.path, `no mask in ${join(gtRoot, defect)} (expected ${stem(name)}_mask.<ext>)`);
          continue;
        }
        c.mask = m;
        c.labelFromMask = true; // matters for multi-frame files only
      }
      out.push(c);
    }
    return out;
  };
  const train = await files('train/good', 0);
  if (!withTest) return { train, hasMasks };
  const test: FileCandidate[] = (await isDirectory(join(root, 'test', 'good'))) ? await files('test/good', 0) : [];
  for (const defect of await subfolders(ctx, join(root, 'test'))) {
    if (defect !== 'good') test.push(...(await files(`test/${defect}`, 1)));
  }
  return { train, test, hasMasks };
}
