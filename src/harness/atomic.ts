// Atomic file writes: the content goes to a temporary file in the same folder, then a
// rename puts it in place. A reader (or a run interrupted by Ctrl-C) sees either the old
// file or the complete new one, never half of it.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

let counter = 0;

/** Writes `data` to `path` atomically (temp file in the same folder, then rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Writes `value` as pretty-printed JSON (with a final newline) atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}
