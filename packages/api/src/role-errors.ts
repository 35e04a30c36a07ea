import { SiltError } from '@silt/fs';

/**
 * A write was in flight when the writer process died, and its outcome could
 * not be read from the log: the log's records past the last acknowledged
 * write were flushed into a segment and deleted before this process could
 * read them. The write may or may not have been applied; read the keys
 * before writing them again. (Writes whose outcome the log shows are
 * settled without an error: applied ones resolve, absent ones are sent to
 * the new writer.)
 */
export class WriterChangedError extends SiltError {
  readonly code = 'SILT_WRITER_CHANGED';
}

/** The writer refused a forwarded write or command for a reason of its own; `remoteCode` is its error's code. */
export class WriterRefusedError extends SiltError {
  readonly code = 'SILT_WRITER_REFUSED';

  constructor(
    message: string,
    /** The writer's error code (`SILT_CLOSED`, `SILT_WRITER_FAILED`, …). */
    readonly remoteCode: string,
    /** Whether the same request may succeed later (the writer was closing), not never. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** A write on an index opened with `role: 'reader'`. Nothing was written. */
export class ReadOnlyError extends SiltError {
  readonly code = 'SILT_READ_ONLY';

  constructor(directory: string) {
    super(`${directory} was opened with role 'reader', which never writes; open it with role 'auto' (the default) to write`);
  }
}

/** No writer could be reached or become one within the time allowed (`lockTimeoutMs` at open). */
export class WriterUnreachableError extends SiltError {
  readonly code = 'SILT_WRITER_UNREACHABLE';
}
