/**
 * Every error silt throws on purpose is a SiltError with a stable `code`.
 * The base lives in the lowest package so that every layer can throw and
 * recognise the same classes; `instanceof` works across the whole stack.
 */
export abstract class SiltError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad key, value, option or argument. Nothing was written. */
export class ValidationError extends SiltError {
  readonly code = 'SILT_VALIDATION';
}

/** A file's bytes do not match its format or checksum. */
export class CorruptionError extends SiltError {
  readonly code = 'SILT_CORRUPTION';
  readonly file: string;
  readonly offset: number | undefined;

  constructor(file: string, offset: number | undefined, detail: string, options?: ErrorOptions) {
    const where = offset === undefined ? file : `${file} at offset ${offset}`;
    super(`corrupt data in ${where}: ${detail}`, options);
    this.file = file;
    this.offset = offset;
  }
}

/** The object was closed; open it again to use it. */
export class ClosedError extends SiltError {
  readonly code = 'SILT_CLOSED';

  constructor(what: string) {
    super(`${what} is closed`);
  }
}

/** An operating-system I/O call failed; `errno` is the system code (EIO, ENOSPC, ...). */
export class IoError extends SiltError {
  readonly code = 'SILT_IO';
  readonly errno: string | undefined;
  readonly path: string | undefined;

  constructor(action: string, path: string | undefined, cause: unknown) {
    const errno = errnoOf(cause);
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`${action}${path === undefined ? '' : ` ${path}`} failed: ${reason}`, { cause });
    this.errno = errno;
    this.path = path;
  }
}

/**
 * A writer that met a write or fsync error stops for good: after a failed
 * fsync the kernel may have dropped the dirty pages, so retrying could
 * acknowledge data that is not on disk. Reopening recovers what was durable.
 */
export class WriterFailedError extends SiltError {
  readonly code = 'SILT_WRITER_FAILED';

  constructor(what: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`${what} stopped after an I/O error and accepts no more writes (${reason}); close and reopen it`, { cause });
  }
}

/** The system error code of a Node file-system error, if it has one. */
export function errnoOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export function isNotFound(error: unknown): boolean {
  return errnoOf(error) === 'ENOENT';
}
