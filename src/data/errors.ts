// Errors raised while finding, reading or decoding dataset files. The message always names
// the dataset and, when there is one, the file, so a user can go straight to the problem.

export class DatasetError extends Error {
  override name = 'DatasetError';
  constructor(
    message: string,
    /** The dataset being loaded. */
    readonly dataset?: string,
    /** The file or folder concerned. */
    readonly path?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A mask whose pixel size differs from its image's: always an error, never skipped. */
export class MaskSizeError extends DatasetError {
  override name = 'MaskSizeError';
}

/** A file that cannot be decoded (corrupt, truncated, unsupported encoding). */
export class DecodeError extends Error {
  override name = 'DecodeError';
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The message of anything thrown. Libraries do not always throw Errors: dicom-parser throws
 * strings, and `{ exception, dataSet }` objects when a data set fails half-way, which
 * `String()` would turn into "[object Object]".
 */
export function thrownMessage(err: unknown, depth = 0): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object' && depth < 4) {
    const o = err as { message?: unknown; exception?: unknown; error?: unknown };
    if (typeof o.message === 'string' && o.message !== '') return o.message;
    if (o.exception !== undefined) return thrownMessage(o.exception, depth + 1);
    if (o.error !== undefined) return thrownMessage(o.error, depth + 1);
    try {
      const json = JSON.stringify(err);
      if (json !== undefined && json.length <= 200) return json;
    } catch {
      /* circular: fall through */
    }
  }
  return String(err);
}

/**
 * What to attach as `cause`: the thrown value itself when it is an Error, otherwise an Error
 * carrying its message (and, as its own cause, the inner exception of a dicom-parser failure,
 * without the half-parsed data set that would keep the whole file in memory).
 */
export function causeOf(err: unknown): Error {
  if (err instanceof Error) return err;
  const inner = err && typeof err === 'object' && 'exception' in err ? (err as { exception: unknown }).exception : err;
  return new Error(thrownMessage(err), { cause: inner });
}

/** The message of whatever was thrown, for wrapping into a DatasetError. */
export function reasonOf(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT') return 'file not found';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    if (code === 'EISDIR') return 'is a directory, expected a file';
  }
  return thrownMessage(err);
}
