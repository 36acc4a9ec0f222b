// The folder (MVTec AD) layout, for any supported file format:
//
//   <path>/train/good/*                     normal training images
//   <path>/test/good/*                      normal test images
//   <path>/test/<defect>/*                  abnormal test images, one folder per defect type
//   <path>/ground_truth/<defect>/<stem>_mask.<ext>   optional pixel masks (any format)
//
// `folder` reads images, DICOM and NIfTI by extension; `dicom` reads DICOM only (extension-
// less files too, recognised by the Part 10 'DICM' magic); `nifti` reads .nii/.nii.gz only.
// Multi-frame DICOM and NIfTI volumes become one item per frame/slice; with masks, each
// slice of an abnormal volume is labelled by whether its mask slice has foreground.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dataset, DatasetDescriptor, LoadOptions } from '../types.js';
import { DatasetError, reasonOf } from '../errors.js';
import { expandPath, isDirectory, stem } from '../paths.js';
import { type FileFormat, formatOf, sniffDicom } from '../decode/index.js';
import { type FileCandidate, type LoadContext, assemble, expandFiles, reject, resolveOptions } from './common.js';

export type FolderKind = 'folder' | 'dicom' | 'nifti';

const TITLES: Record<FolderKind, string> = {
  folder: 'Folder (MVTec AD layout)',
  dicom: 'DICOM files in the folder layout',
  nifti: 'NIfTI volumes in the folder layout',
};

const LAYOUT_HELP =
  'expected <path>/train/good/, <path>/test/good/, <path>/test/<defect>/ and optionally <path>/ground_truth/<defect>/<name>_mask.<ext>';

export function describeFolder(kind: FolderKind): DatasetDescriptor {
  return {
    name: kind, title: TITLES[kind], modality: 'generic', kind: 'generic', channels: 1, hasMasks: false,
    present: false, requires: ['path'], howToGet: `pass the dataset folder as \`path\`; ${LAYOUT_HELP}`,
  };
}

async function listFormat(ctx: LoadContext, kind: FolderKind, dir: string): Promise<{ name: string; format: FileFormat }[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name);
  } catch (err) {
    throw new DatasetError(`${ctx.dataset}: cannot list ${dir}: ${reasonOf(err)}`, ctx.dataset, dir, { cause: err });
  }
  names = names.filter((n) => !n.startsWith('.'));
  if (ctx.sortListings) names.sort();
  const out: { name: string; format: FileFormat }[] = [];
  for (const name of names) {
    const f = formatOf(name);
    if (kind === 'folder' && f) out.push({ name, format: f });
    else if (kind === 'nifti' && f === 'nifti') out.push({ name, format: f });
    else if (kind === 'dicom') {
      if (f === 'dicom') out.push({ name, format: f });
      else if (f === undefined && !name.includes('.')) {
        // Extension-less files are common in DICOM exports.
        try {
          if (await sniffDicom(join(dir, name))) out.push({ name, format: 'dicom' });
        } catch {
          /* unreadable: not ours to judge here, it is simply not listed */
        }
      }
    }
  }
  return out;
}

async function subfolders(ctx: LoadContext, dir: string): Promise<string[]> {
  try {
    const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
    return names.sort();
  } catch (err) {
    throw new DatasetError(`${ctx.dataset}: cannot list ${dir}: ${reasonOf(err)}`, ctx.dataset, dir, { cause: err });
  }
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
    throw new DatasetError(`${kind}: the \`path\` option is required (the dataset folder; ${LAYOUT_HELP})`, kind);
  }
  const root = expandPath(options.path);
  for (const sub of ['train/good', 'test']) {
    if (!(await isDirectory(join(root, sub)))) {
      throw new DatasetError(`${kind}: ${join(root, sub)} not found; ${LAYOUT_HELP}`, kind, join(root, sub));
    }
  }
  const gtRoot = join(root, 'ground_truth');
  const hasMasks = await isDirectory(gtRoot);
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
  const test: FileCandidate[] = (await isDirectory(join(root, 'test', 'good'))) ? await files('test/good', 0) : [];
  for (const defect of await subfolders(ctx, join(root, 'test'))) {
    if (defect !== 'good') test.push(...(await files(`test/${defect}`, 1)));
  }
  return assemble(ctx, {
    title: TITLES[kind], modality: 'generic', source: root, hasMasks,
    train: await expandFiles(ctx, 'train', train),
    test: await expandFiles(ctx, 'test', test),
    options: { path: root, ...(kind !== 'folder' || test.some((t) => t.format !== 'image') ? { axis: ctx.frame.axis, dicomWindow: ctx.frame.window } : {}) },
  });
}
