import { SiltError } from '@silt/fs';

/**
 * A change feed was asked to resume after a sequence number the log no
 * longer holds the next one of: a flush covered it and its log file was
 * deleted, or the subscriber fell so far behind that its position was
 * deleted from under it. The changes in between cannot be replayed; the
 * caller rescans the index and follows the feed from then on.
 */
export class ChangesTooOldError extends SiltError {
  readonly code = 'SILT_CHANGES_TOO_OLD';
  /** The sequence number the feed was to resume after. */
  readonly since: number;
  /** The oldest sequence number the log still holds (the first of its oldest file); undefined when it holds no file. */
  readonly oldestAvailable: number | undefined;

  constructor(since: number, oldestAvailable: number | undefined) {
    const holds = oldestAvailable === undefined ? 'no log file is left' : `the log now starts at sequence ${oldestAvailable}`;
    super(
      `changes after sequence ${since} are no longer in the log (${holds}): a flush covered them and their log file was deleted. ` +
        'Rescan the index instead: open a new changes() subscription without `since` before the scan, read the index with range(), ' +
        'then apply what the subscription yields on top',
    );
    this.since = since;
    this.oldestAvailable = oldestAvailable;
  }
}

/**
 * A change feed iteration ended because its `AbortSignal` was aborted.
 * Shaped as Node's own AbortError (`name` 'AbortError', `code`
 * 'ABORT_ERR', the signal's reason as `cause`), which is what
 * `events.on` and `fs.promises.watch` iterators throw, so one
 * `error.name === 'AbortError'` check covers them all.
 */
export class AbortError extends SiltError {
  readonly code = 'ABORT_ERR';

  constructor(reason: unknown) {
    super('the change feed was aborted', { cause: reason });
  }
}
