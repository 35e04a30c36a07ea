import { SiltError } from 'silt';

/**
 * A write to a database opened with `readOnly: true`. The code is the one
 * abstract-level documents for a database that cannot be written
 * (`LEVEL_READONLY`), so level tools recognise it.
 */
export class ReadOnlyLevelError extends SiltError {
  readonly code = 'LEVEL_READONLY';

  constructor(operation: string) {
    super(`${operation} refused: this database was opened with readOnly: true (a silt ReadOnlyIndex); open it without readOnly to write`);
  }
}

/** `open({ createIfMissing: false })` on a directory that holds no index. */
export class IndexMissingError extends SiltError {
  readonly code = 'SILT_INDEX_MISSING';

  constructor(location: string) {
    super(`no silt index exists at ${location} (it does not exist or is empty) and createIfMissing is false`);
  }
}

/** `open({ errorIfExists: true })` on a directory that already holds an index. */
export class IndexExistsError extends SiltError {
  readonly code = 'SILT_INDEX_EXISTS';

  constructor(location: string) {
    super(`a silt index already exists at ${location} and errorIfExists is true`);
  }
}

/**
 * Another writer holds the index (silt's `LockError`, its `cause`), under
 * the code classic-level gives the same refusal (`LEVEL_LOCKED`).
 */
export class LevelLockedError extends SiltError {
  readonly code = 'LEVEL_LOCKED';

  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}
