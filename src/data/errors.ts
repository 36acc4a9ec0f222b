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

/** The message of whatever was thrown, for wrapping into a DatasetError. */
export function reasonOf(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT') return 'file not found';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    if (code === 'EISDIR') return 'is a directory, expected a file';
  }
  return err instanceof Error ? err.message : String(err);
}
