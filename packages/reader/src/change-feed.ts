import { ClosedError, sequenceOfLogFile, ValidationError, type FileSystem } from '@silt/fs';
import type { Key, KeyEncoding, Value } from '@silt/segments';
import { LogTail, readAcknowledgedMarker, type TailRead } from '@silt/wal';
import { AbortError, ChangesTooOldError } from './change-feed-errors.js';
import { resolveChangesOptions, type ChangesOptions, type ResolvedChangesOptions } from './change-feed-options.js';
import { collectRecordChanges, type Change } from './record-changes.js';
import type { RecordListener } from './log-follower.js';

/**
 * What a change feed follows, and all it needs of its owner (the writer's
 * `Index`, or a `ReadOnlyIndex`): where the log is, how to hand keys back,
 * and when to look again.
 */
export interface ChangeFeedSource {
  /** The file system the log is read through. */
  readonly fs: FileSystem;
  /** The index's log directory (`<index>/wal`). */
  readonly walDirectory: string;
  /** Keys come back as strings ('utf8') or Uint8Arrays ('binary'), as the owner's reads hand them back. */
  readonly keyEncoding: KeyEncoding;
  /** The owner's `valueEncoding` decode, applied as each change is handed over; absent: values as written. */
  readonly decodeValue?: ((stored: Value) => unknown) | undefined;
  /**
   * Calls `listener` whenever more of the log may be acknowledged (the
   * writer's `onAcknowledged`, a reader's log watcher and poll); returns the
   * unsubscribe function. A wake with nothing new costs one marker read.
   */
  readonly onWake: (listener: () => void) => () => void;
  /**
   * A reader's own tail of the log, if it has one: calls `listener` with
   * each record it read and applied, synchronously (its bytes are reused
   * after), with its file's first sequence number; returns the unsubscribe.
   * A subscription standing at that record takes it from there instead of
   * reading the log a second time.
   */
  readonly onRecords?: (listener: RecordListener) => () => void;
}

/**
 * Log bytes one read of a subscription takes at most: the changes of one
 * batch, and so what a subscription holds in memory beyond the tail's own
 * read buffer, come from about this much of the log.
 */
const READ_BYTES = 1024 * 1024;

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

/**
 * The change feed of one index: `changes()` subscriptions that follow its
 * log. Each subscription has its own `LogTail` cursor and reads the log
 * files when woken, so nothing is queued per subscriber: a slow consumer
 * reads from the files later, until a flush deletes the file it needs
 * (`ChangesTooOldError`).
 */
export class ChangeFeed<V = Value, K extends Key = Key> {
  private readonly open = new Set<ChangeSubscription<V, K>>();
  private closed = false;

  constructor(private readonly source: ChangeFeedSource) {}

  /**
   * A subscription to the writes matching the options (see
   * `changesOptionsSchema`), in sequence order. Throws at once, starting
   * nothing, on bad options (ValidationError), a `since` past the
   * acknowledged sequence number (ValidationError), or an aborted signal
   * (AbortError).
   */
  changes(options?: ChangesOptions): ChangeSubscription<V, K> {
    if (this.closed) throw new ClosedError('the change feed');
    const resolved = resolveChangesOptions(options);
    if (resolved.signal?.aborted === true) throw new AbortError(resolved.signal.reason);
    const subscription: ChangeSubscription<V, K> = new ChangeSubscription<V, K>(this.source, resolved, () =>
      this.open.delete(subscription),
    );
    this.open.add(subscription);
    return subscription;
  }

  /** Subscriptions not yet ended. */
  get subscriptions(): number {
    return this.open.size;
  }

  /** Ends every subscription (their iterations finish, quietly) and refuses new ones. Idempotent. */
  close(): void {
    this.closed = true;
    for (const subscription of [...this.open]) subscription.close();
  }
}

/**
 * One `changes()` subscription: an async iterator of the changes after its
 * starting position (`for await`; `break` ends it), that is also closed by
 * `close()`, by closing its feed's owner (both end the iteration quietly)
 * or by its `AbortSignal` (the iteration throws an AbortError, as Node's
 * `events.on` does). Once ended, it holds no file and no wake listener.
 */
export class ChangeSubscription<V = Value, K extends Key = Key> implements AsyncIterableIterator<Change<V, K>, undefined>, Disposable {
  private readonly tail: LogTail;
  private readonly keyEncoding: KeyEncoding;
  private readonly range: ResolvedChangesOptions['range'];
  private readonly signal: AbortSignal | undefined;
  private readonly stopWakes: () => void;
  private readonly stopOffers: () => void;
  /** Log bytes behind the changes of the batch: offers stop at READ_BYTES, as a read of its own does. */
  private batchLogBytes = 0;
  /** The changes of the last read, handed over from `taken` on. */
  private batch: Change[] = [];
  private taken = 0;
  /** Every sequence number up to this one was read from the log (into the batch, or skipped by the filter). */
  private readUpTo: number;
  private ended = false;
  /** Why the iteration stopped, thrown by the next `next()` once. */
  private failure: Error | undefined;
  /** The log no longer holds the next sequence number: thrown once the batch is handed over. */
  private brokenOff: ChangesTooOldError | undefined;
  /** A wake came since the last read began. */
  private woken = false;
  private wakeUp: (() => void) | undefined;
  /** The `next()` in progress, if one waits: later calls queue behind it. */
  private pending: Promise<IteratorResult<Change<V, K>, undefined>> | undefined;

  /** @internal Made by `ChangeFeed.changes`. */
  constructor(
    private readonly source: ChangeFeedSource,
    options: ResolvedChangesOptions,
    private readonly onEnd: () => void,
  ) {
    const start = startingPoint(source, options.since);
    this.readUpTo = start;
    this.keyEncoding = source.keyEncoding;
    this.range = options.range;
    this.signal = options.signal;
    this.tail = new LogTail(source.fs, source.walDirectory, start + 1);
    this.stopWakes = source.onWake(this.wake);
    this.stopOffers = source.onRecords?.(this.offer) ?? (() => {});
    this.signal?.addEventListener('abort', this.abort, { once: true });
  }

  /**
   * Where this subscription stands: every change at or below this sequence
   * number was handed over (or did not match). Resuming with `since` set to
   * it misses nothing that was not handed over. Before the first change it
   * is the starting `since` (by default, the acknowledged sequence number
   * when `changes()` was called).
   */
  get position(): number {
    return this.taken < this.batch.length ? this.batch[this.taken]!.sequence - 1 : this.readUpTo;
  }

  /** Whether the subscription ended (closed, aborted, broken off, or failed). */
  get closed(): boolean {
    return this.ended;
  }

  next(): Promise<IteratorResult<Change<V, K>, undefined>> {
    if (this.pending === undefined) {
      // The common case, a change already read: no step through the async machinery.
      try {
        const ready = this.takeReady();
        if (ready !== undefined) return Promise.resolve(ready);
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    const previous = this.pending ?? Promise.resolve(DONE);
    const step = previous.then(
      () => this.step(),
      () => this.step(),
    );
    this.pending = step;
    const settle = (): void => {
      if (this.pending === step) this.pending = undefined;
    };
    step.then(settle, settle);
    return step;
  }

  /** Ends the subscription (what `break` out of `for await` calls). */
  return(): Promise<IteratorResult<Change<V, K>, undefined>> {
    this.close();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends the subscription: the iteration finishes quietly, and its log files and wake listener are released. Idempotent. */
  close(): void {
    this.end();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** A change as handed over: its value decoded by the owner's `valueEncoding` (a value it cannot read rejects this `next()` alone). */
  private decoded(change: Change): Change<V, K> {
    const decode = this.source.decodeValue;
    if (decode === undefined || change.deleted === true) return change as Change<V, K>;
    return { key: change.key as K, value: decode(change.value) as V, sequence: change.sequence };
  }

  private readonly wake = (): void => {
    this.woken = true;
    this.release();
  };

  /**
   * A record the reader's own tail just read: taken as if this subscription
   * had read it, if it is the next one it wants and the batch has room;
   * otherwise left, and read from the log later (a slow consumer, or one
   * still catching up, reads for itself).
   */
  private readonly offer: RecordListener = (record, fileFirstSequence) => {
    if (this.ended || this.failure !== undefined || this.brokenOff !== undefined) return;
    if (this.taken === this.batch.length) this.startBatch();
    // At most READ_BYTES of offered log behind a batch (plus one read of its own): a slow consumer costs no more memory.
    if (record.firstSeq !== this.tail.nextSequence || this.batchLogBytes >= READ_BYTES) return;
    collectRecordChanges(record, record.firstSeq, this.range, this.keyEncoding, this.batch);
    this.batchLogBytes += record.length;
    this.tail.passOver(record, fileFirstSequence);
    this.readUpTo = this.tail.nextSequence - 1;
    this.wake();
  };

  private readonly abort = (): void => {
    if (this.ended) return;
    this.failure = new AbortError(this.signal?.reason);
    this.end();
  };

  private async step(): Promise<IteratorResult<Change<V, K>, undefined>> {
    for (;;) {
      const ready = this.takeReady();
      if (ready !== undefined) return ready;
      const more = this.readBatch();
      if (this.taken < this.batch.length || this.brokenOff !== undefined) continue;
      // Filtered out, but more is acknowledged: read on, letting the event loop breathe between reads.
      if (more) await new Promise<void>((resolve) => setImmediate(resolve));
      else await this.nextWake();
    }
  }

  /** The next change if one is read, DONE once ended, undefined when the log must be read; throws why it stopped, once. */
  private takeReady(): IteratorResult<Change<V, K>, undefined> | undefined {
    const failure = this.failure;
    if (failure !== undefined) {
      this.failure = undefined;
      throw failure;
    }
    if (this.ended) return DONE;
    if (this.taken < this.batch.length) return { value: this.decoded(this.batch[this.taken++]!), done: false };
    if (this.brokenOff !== undefined) {
      const tooOld = this.brokenOff;
      this.end();
      throw tooOld;
    }
    return undefined;
  }

  /**
   * Reads what the log has acknowledged past `readUpTo`, up to READ_BYTES,
   * into a new batch. Returns whether more is acknowledged than it read.
   * A log that no longer holds the next sequence number ends the
   * subscription with ChangesTooOldError once the batch is handed over; an
   * error of the read ends it at once (what the read had found is past
   * `position`, so a resume gets it again).
   */
  private readBatch(): boolean {
    this.woken = false;
    this.startBatch();
    const from = this.tail.nextSequence;
    let outcome: TailRead;
    try {
      outcome = this.tail.read((record) => collectRecordChanges(record, from, this.range, this.keyEncoding, this.batch), READ_BYTES);
    } catch (error) {
      this.end();
      throw error;
    }
    this.readUpTo = this.tail.nextSequence - 1;
    if (outcome.kind === 'gone') {
      // What this read found before the gap is handed over first; the error comes after it.
      this.brokenOff = new ChangesTooOldError(outcome.missing - 1, oldestLogSequence(this.source));
      return false;
    }
    return outcome.records > 0 && outcome.stalled === undefined && this.tail.nextSequence <= outcome.acknowledged;
  }

  private startBatch(): void {
    this.batch = [];
    this.taken = 0;
    this.batchLogBytes = 0;
  }

  private nextWake(): Promise<void> {
    if (this.woken || this.ended) return Promise.resolve();
    return new Promise((resolve) => (this.wakeUp = resolve));
  }

  private release(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.readUpTo = this.position;
    this.batch = [];
    this.taken = 0;
    this.tail.close();
    this.stopWakes();
    this.stopOffers();
    this.signal?.removeEventListener('abort', this.abort);
    this.onEnd();
    this.release();
  }
}

/**
 * The sequence number a new subscription stands after: `since`, checked
 * against the acknowledged marker, or by default the acknowledged sequence
 * number now (0 while the log has no marker: a new index, or a writer that
 * publishes none, whose writes then come from the first sequence number).
 */
function startingPoint(source: ChangeFeedSource, since: number | undefined): number {
  const acknowledged = readAcknowledgedMarker(source.fs, source.walDirectory)?.sequence;
  if (since === undefined) return acknowledged ?? 0;
  if (acknowledged !== undefined && since > acknowledged) {
    throw new ValidationError(
      `changes() option since is ${since}, past the last acknowledged sequence number ${acknowledged}: ` +
        'a position this index never reached (a `since` kept from another index, or from writes a power loss took back)',
    );
  }
  return since;
}

/** The first sequence number of the oldest log file, or undefined if there is none (or the directory cannot be listed). */
function oldestLogSequence(source: ChangeFeedSource): number | undefined {
  let names: string[];
  try {
    names = source.fs.list(source.walDirectory);
  } catch {
    return undefined;
  }
  let oldest: number | undefined;
  for (const name of names) {
    const sequence = sequenceOfLogFile(name);
    if (sequence !== undefined && (oldest === undefined || sequence < oldest)) oldest = sequence;
  }
  return oldest;
}
