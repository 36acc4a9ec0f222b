// Atomic, verified file writes: the content goes to a temporary file in the same folder,
// every write's byte count is checked (a write may be short: a full disk, `ulimit -f`),
// the file is fsync'ed and its size on disk compared with what was meant, and only then
// does a rename put it under the real name; the folder is fsync'ed so the rename survives
// a crash. A reader (or a run interrupted by Ctrl-C) sees the old file or the complete new
// one, never part of it, and a failed write throws instead of leaving a cut file behind.
//
// This module imports nothing but node:fs and node:path so that every layer uses the one
// implementation: nn/ writes safetensors with it, methods/ checkpoints, harness/ run files.
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let counter = 0;

// What to tell the user for the errors a write commonly meets.
const HINTS: Record<string, string> = {
  EFBIG: 'file too large for the file-size limit (`ulimit -f`) or the filesystem',
  ENOSPC: 'no space left on the device; free some and retry',
  EDQUOT: 'disk quota exceeded; free some space and retry',
  EACCES: 'permission denied; check the folder is writable',
  EPERM: 'operation not permitted; check the folder is writable',
  EROFS: 'the filesystem is read-only',
  ENOENT: 'the folder does not exist',
  EIO: 'I/O error from the device',
};

/** Thrown by the atomic writers; `code` is the system error code (EFBIG, ENOSPC, ...) when there is one. */
export class AtomicWriteError extends Error {
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    why: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot write ${path}: ${why}`, options);
    this.name = 'AtomicWriteError';
  }
}

function describe(e: unknown): { code: string | undefined; why: string } {
  const code = (e as NodeJS.ErrnoException)?.code;
  const hint = code && HINTS[code] ? ` (${HINTS[code]})` : '';
  return { code, why: `${(e as Error)?.message ?? String(e)}${hint}` };
}

// Directories cannot be opened or fsync'ed everywhere (Windows; some network filesystems
// answer EINVAL): there the rename is as durable as the platform makes it.
const DIR_FSYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EISDIR', 'EPERM', 'EACCES', 'EBADF']);

/** Flushes a folder's entries (renames, new files) to disk, where the platform allows it. */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    if (DIR_FSYNC_UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? '')) return;
    throw e;
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    if (!DIR_FSYNC_UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    closeSync(fd);
  }
}

export interface AtomicWriteOptions {
  /** Runs after the temp file is complete and verified, before the rename (a crash point for tests). */
  beforeRename?: () => void;
}

/**
 * Writes `data` to `path` atomically and verified (see the top of this file). The folder
 * must exist. On failure the temporary file is removed, whatever was under `path` before is
 * untouched, and an AtomicWriteError names the file and the cause.
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  let fd: number | null = null;
  let committed = false;
  try {
    fd = openSync(tmp, 'wx');
    for (let off = 0; off < bytes.length; ) {
      const n = writeSync(fd, bytes, off, bytes.length - off);
      // fs.writeSync returns the bytes written; 0 would loop forever.
      if (n <= 0) throw new Error(`write returned ${n} at byte ${off} of ${bytes.length}`);
      off += n;
    }
    fsyncSync(fd);
    const onDisk = fstatSync(fd).size;
    if (onDisk !== bytes.length) throw new Error(`${onDisk} bytes on disk after writing ${bytes.length}`);
    closeSync(fd); // a network filesystem may report a failed write only here
    fd = null;
    opts.beforeRename?.();
    renameSync(tmp, path);
    committed = true;
    fsyncDir(dir);
  } catch (e) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // the write error is the one to report
      }
    }
    if (!committed) {
      try {
        unlinkSync(tmp);
      } catch {
        // never created, or already gone
      }
    }
    const { code, why } = describe(e);
    const state = committed
      ? 'the new content is in place but the folder could not be synced, so a crash may lose it'
      : `nothing was written under that name${bytes.length ? ` (${bytes.length} bytes meant)` : ''}`;
    throw new AtomicWriteError(path, code, `${why}; ${state}`, { cause: e });
  }
}

/** Writes `data` to `path` atomically and verified, creating the folder if needed. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  // One implementation for both: the files written this way are small (JSON, reports,
  // PNGs, state dicts) and a synchronous write keeps every check in one place.
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    const { code, why } = describe(e);
    throw new AtomicWriteError(path, code, `cannot create its folder: ${why}`, { cause: e });
  }
  writeFileAtomicSync(path, data, opts);
}

/** Writes `value` as pretty-printed JSON (with a final newline) atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}
