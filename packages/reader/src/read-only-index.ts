import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import {
  ClosedError,
  CorruptionError,
  IoError,
  MANIFEST_FILE,
  SEGMENTS_DIRECTORY,
  WAL_DIRECTORY,
  segmentIdOfFileName,
  ValidationError,
  systemClock,
  type Clock,
  type FileSystem,
} from '@silt/fs';
import {
  GenerationNotFoundError,
  IndexDamagedError,
  Manifest,
  ManifestNotFoundError,
  type AccessMode,
  type Generation,
  type Key,
  type Lease,
  type SegmentRecord,
  type Value,
} from '@silt/segments';
import { filesNewerThanManifest } from '@silt/segments/internal';
import type { WalEntryInput } from '@silt/wal';
import { openWhenIndexAppears } from './index-appearance.js';
import { ChangeFeed, type ChangeSubscription } from './change-feed.js';
import type { ChangesOptions } from './change-feed-options.js';
import { KeyValueReads } from './key-value-reads.js';
import { LogFollower, type FollowOutcome } from './log-follower.js';
import { LogWatcher } from './log-watcher.js';
import { ManifestWatcher } from './manifest-watcher.js';
import type { EntrySource } from './entry-source.js';
import { MergedView } from './merged-view.js';
import { OwnWrites } from './own-writes.js';
import type { FuzzyOptions, NearOptions, RangeOptions } from './read-options.js';
import { resolveReadOnlyIndexOptions, type ReadOnlyIndexOptions, type ResolvedReadOnlyIndexOptions } from './read-only-index-options.js';
import { RetiredReaders } from './retired-readers.js';
import { valueTranscoder, type ValueCodec, type ValueEncoding } from './value-encoding.js';
import { asyncEntries } from './async-entries.js';
import type { KeyOf } from './key-type.js';
import { SegmentStack } from './segment-stack.js';

export interface ReadOnlyIndexEvents {
  /** A newer generation is being served; `change` says which segments it added and removed. */
  refresh: [generation: number, change: RefreshChange];
  /** Tailed writes were applied: reads now see every write up to `visibleSequence`. */
  tail: [visibleSequence: number];
  /**
   * The table of tailed writes grew past `maxTailBytes`: tailing pauses,
   * reads go on from it and the segments, until newer generations take
   * over half of it.
   */
  tailOverflow: [overflow: TailOverflow];
  /** A background refresh or log read failed; reads go on from what was served before. */
  error: [error: Error];
}

/** What a 'tailOverflow' event says. */
export interface TailOverflow {
  /** Bytes the table of tailed writes holds, as `maxTailBytes` counts them. */
  readonly bytes: number;
  readonly maxTailBytes: number;
  /** The last sequence number visible, where tailing paused. */
  readonly visibleSequence: number;
}

/** A reader's figures, for dashboards and tests. */
export interface ReadOnlyIndexStats {
  /** The manifest generation served. */
  readonly generation: number;
  /** The last sequence number the generation's segments cover. */
  readonly coveredSequence: number;
  /** The last sequence number whose write reads can see: the tail's, or the generation's when not tailing. */
  readonly visibleSequence: number;
  /** How segments are read: the `accessMode` option, except that `mmap` reads as `file` where this process cannot map files. */
  readonly accessMode: AccessMode;
  readonly tail: {
    /** Tailing is on (the `tail` option) and not paused by an overflow. */
    readonly following: boolean;
    /** Distinct keys in the table of tailed writes, deletes included. */
    readonly entries: number;
    /** What the table holds, as `maxTailBytes` counts it. */
    readonly bytes: number;
    readonly maxTailBytes: number;
    /** Times the table grew past `maxTailBytes` since open. */
    readonly overflows: number;
    /**
     * Why the last read of the log stopped short of what the writer
     * acknowledged, if it did: a record not whole yet (for a moment), or
     * sequence numbers a damaged log lacks (the tail waits there until a
     * generation covers them; `silt verify` names the damage).
     */
    readonly stalled: string | undefined;
  };
}

/** What a refresh changed, from the manifest rows of the two generations: no second look at the manifest needed. */
export interface RefreshChange {
  /** The generation served before. */
  readonly previous: number;
  /** The live segments of the generation now served, oldest first. */
  readonly segments: readonly SegmentRecord[];
  /** Segments the previous generation did not have: a flush's output, or a merge's. */
  readonly added: readonly SegmentRecord[];
  /** Segments of the previous generation this one dropped: a merge's inputs. */
  readonly removed: readonly SegmentRecord[];
}

/**
 * Tries at opening the newest generation when its files vanish underneath
 * (a collector that ignored this reader's lease); each try starts again
 * from the generation that is newest by then.
 */
const OPEN_ATTEMPTS = 5;

/**
 * What a test may replace beneath the options (not part of the options
 * schema): the clock that times the debounce, the follow-up checks and the
 * safety poll, so a test steps time instead of waiting for it.
 */
export interface ReadOnlyIndexSeams {
  readonly clock?: Clock;
}

/** Anything else that follows the same log events as the reader (`subscribeToLog`). */
type LogListener = () => void;

/**
 * A reader of an index directory, in any process, beside its one writer
 * (or with none running). It serves one generation of the manifest at a
 * time, a consistent snapshot, and moves to a newer one when the writer
 * commits (told by file-system events on the manifest, a safety poll, or
 * `refresh()`), opening only the new segments. It leases the generation it
 * serves so the collector keeps its files, and never takes the writer lock.
 *
 * Past its generation it tails the writer's log (`LogFollower`), woken by
 * file-system events on `wal/` (`LogWatcher`): a write is visible within
 * milliseconds of its acknowledgement, never before.
 */
export class ReadOnlyIndex<V = Value, K extends Key = Key> extends EventEmitter<ReadOnlyIndexEvents> implements AsyncDisposable {
  private readonly reads: KeyValueReads<V, K>;
  private readonly retired = new RetiredReaders();
  private view: MergedView;
  private watcher: ManifestWatcher | undefined;
  private logWatcher: LogWatcher | undefined;
  private readonly logListeners = new Set<LogListener>();
  /** A refresh asked for by a log read that found its records gone is running. */
  private catchingUp = false;
  private logReadQueued = false;
  /** `tail: 'onRead'`: the log moved since the table was last brought up to date. */
  private logStale = false;
  private overflows = 0;
  /** Made by the first `changes()`; ends its subscriptions at close. */
  private feed: ChangeFeed<V, K> | undefined;
  private closing: Promise<void> | undefined;
  /** The refresh running or last run: see `serially`. */
  private queue: Promise<unknown> = Promise.resolve();
  /** A damaged generation a background refresh could not open: not tried again until a newer one appears. */
  private failedGeneration = -1;
  /** `catchUpTo` calls waiting for an event; closing releases them. */
  private readonly sequenceWaiters = new Set<() => void>();
  /** A client's acknowledged writes its reads do not see from the log yet (`recordOwnWrites`). */
  private readonly ownWrites = new OwnWrites();

  private constructor(
    readonly directory: string,
    private readonly manifest: Manifest,
    private readonly held: HeldLease,
    private stack: SegmentStack,
    /** The manifest's rows for the generation served. */
    private served: Generation,
    private readonly options: ResolvedReadOnlyIndexOptions,
    private readonly clock: Clock,
    /** Undefined when the `tail` option is off. */
    private readonly follower: LogFollower | undefined,
  ) {
    super();
    this.view = this.viewOf(stack);
    logSubscriptions.set(this, (listener) => this.addLogListener(listener));
    ownWriteRecorders.set(this, (entries, lastSequence) => this.recordOwnWrites(entries, lastSequence));
    const values = valueTranscoder(options.valueEncoding as ValueEncoding<V> | undefined);
    this.reads = new KeyValueReads(
      options.keyEncoding,
      () => {
        this.checkOpen();
        if (this.logStale) this.readStaleLog();
        this.settleOwnWrites();
        return this.view;
      },
      values,
    );
  }

  /**
   * Opens the current generation of the index in `directory`. A missing
   * index is a `ManifestNotFoundError`, at once or, with `waitForIndex`,
   * once it has not appeared within that many milliseconds; damage is an `IndexDamagedError`
   * (a `CorruptionError`) naming it and pointing to `silt repair`: a
   * damaged manifest or segment, a live segment's file missing, a segment
   * file newer than the manifest, or a manifest missing or empty beside
   * segment files. Nothing is written but this reader's lease.
   */
  // `valueEncoding` types the values read (`ReadOnlyIndex.open<User>(dir, { valueEncoding: 'json' })`),
  // `keyEncoding` the keys (`KeyOf`: strings unless 'binary'; either when a type argument is given).
  static open<V = unknown, O extends ReadOnlyIndexOptions = ReadOnlyIndexOptions>(
    directory: string,
    options: O & { readonly valueEncoding: 'json' },
    seams?: ReadOnlyIndexSeams,
  ): Promise<ReadOnlyIndex<V, KeyOf<O>>>;
  static open<V, O extends ReadOnlyIndexOptions = ReadOnlyIndexOptions>(
    directory: string,
    options: O & { readonly valueEncoding: ValueCodec<V> },
    seams?: ReadOnlyIndexSeams,
  ): Promise<ReadOnlyIndex<V, KeyOf<O>>>;
  static open<O extends ReadOnlyIndexOptions>(
    directory: string,
    options: O & { readonly valueEncoding: 'utf8' },
    seams?: ReadOnlyIndexSeams,
  ): Promise<ReadOnlyIndex<string, KeyOf<O>>>;
  static open<O extends ReadOnlyIndexOptions>(
    directory: string,
    options: O & { readonly valueEncoding: 'binary' },
    seams?: ReadOnlyIndexSeams,
  ): Promise<ReadOnlyIndex<Uint8Array, KeyOf<O>>>;
  static open<O extends ReadOnlyIndexOptions = Record<never, never>>(
    directory: string,
    options?: O,
    seams?: ReadOnlyIndexSeams,
  ): Promise<ReadOnlyIndex<Value, KeyOf<O>>>;
  static async open(directory: string, options?: ReadOnlyIndexOptions, seams?: ReadOnlyIndexSeams): Promise<ReadOnlyIndex<unknown>> {
    const resolved = resolveReadOnlyIndexOptions(options);
    if (typeof directory !== 'string' || directory.length === 0) {
      throw new ValidationError(`ReadOnlyIndex.open needs a directory path, got ${JSON.stringify(directory)}`);
    }
    const clock = seams?.clock ?? systemClock;
    const appearance = { waitMs: resolved.waitForIndex, clock, fs: resolved.fs };
    const index = await openWhenIndexAppears(directory, appearance, () => ReadOnlyIndex.openCurrent(directory, resolved, clock));
    try {
      await index.startFollowing();
    } catch (error) {
      await index.close();
      throw error;
    }
    return index;
  }

  /** Opens the current generation, leased, and (with `tail`) a follower of the log past it. Nothing is watched yet. */
  private static async openCurrent(directory: string, resolved: ResolvedReadOnlyIndexOptions, clock: Clock): Promise<ReadOnlyIndex> {
    const manifestPath = join(directory, MANIFEST_FILE);
    if (!resolved.fs.exists(directory)) throw new ManifestNotFoundError(manifestPath, 'the index directory does not exist');
    // Listed before the manifest is read: a file created after it has an id the manifest already handed out.
    const segmentNames = listSegmentFiles(resolved.fs, directory);
    const manifest = openManifest(manifestPath, directory, segmentNames);
    let held: HeldLease | undefined;
    try {
      refuseFilesNewerThan(manifest, directory, segmentNames);
      held = { lease: manifest.takeLease() };
      const { opened: stack, generation } = await openLeased(manifest, held, (leased) => SegmentStack.open(directory, leased, resolved));
      const follower = resolved.tail
        ? new LogFollower(resolved.fs, directory, generation.walCoveredSequence, resolved.maxTailBytes)
        : undefined;
      return new ReadOnlyIndex(directory, manifest, held, stack, generation, resolved, clock, follower);
    } catch (error) {
      try {
        if (held !== undefined) manifest.dropLease(held.lease.id);
      } finally {
        manifest.close();
      }
      throw asIndexDamage(error, directory, held?.lease.generation);
    }
  }

  /**
   * Starts the watchers (with `watch`), then catches up with what the
   * writer did before they were ready: a commit, acknowledged writes.
   */
  private async startFollowing(): Promise<void> {
    if (this.options.watch) {
      this.watcher = await ManifestWatcher.start(this.directory, {
        debounceMs: this.options.debounceMs,
        pollIntervalMs: this.options.pollIntervalMs,
        clock: this.clock,
        check: () => this.refreshInBackground(),
        report: (error) => this.report(error),
      });
      if (this.follower !== undefined) this.startLogWatcher();
      await this.refreshInBackground();
    }
    this.readLog();
  }

  /** The manifest generation this reader serves. */
  get generation(): number {
    return this.stack.generation;
  }

  /** The live segments of the generation served, oldest first, as the manifest records them. */
  get segments(): readonly SegmentRecord[] {
    return this.served.segments;
  }

  /**
   * The last sequence number whose write reads can see: the last tailed
   * from the log, or what the generation's segments cover when not tailing.
   */
  get visibleSequence(): number {
    return this.follower?.visibleSequence ?? this.served.walCoveredSequence;
  }

  /** The generation served, what is visible, and the table of tailed writes. */
  stats(): ReadOnlyIndexStats {
    this.checkOpen();
    const follower = this.follower;
    return {
      generation: this.stack.generation,
      coveredSequence: this.served.walCoveredSequence,
      visibleSequence: this.visibleSequence,
      accessMode: this.stack.access,
      tail: {
        following: follower !== undefined && !follower.isPaused,
        entries: follower?.table.size ?? 0,
        bytes: follower?.table.bytes ?? 0,
        maxTailBytes: this.options.maxTailBytes,
        overflows: this.overflows,
        stalled: follower?.stalled,
      },
    };
  }

  /** Whether the generation served is the manifest's current one: one indexed read. */
  isCurrent(): boolean {
    this.checkOpen();
    return this.manifest.currentGeneration() === this.stack.generation;
  }

  /**
   * Moves to the manifest's current generation if it is newer, reusing the
   * open readers of segments it shares with the one served, then (with
   * `tail`) reads what the writer acknowledged past it; resolves with the
   * generation served after. On failure the generation served before
   * stays.
   */
  async refresh(): Promise<number> {
    this.checkOpen();
    await this.serially(() => this.advance());
    this.readLog();
    return this.stack.generation;
  }

  /**
   * Resolves once reads see every write up to `sequence`, a number the
   * writer acknowledged (a write forwarded by this process, say: it then
   * reads its own write at once). Reads the log at once; if a flush moved
   * those records into a segment, refreshes; if tailing is paused (an
   * overflow) or off, waits for the generation that covers them. Resolves
   * too if the reader is closed meanwhile.
   */
  async catchUpTo(sequence: number): Promise<void> {
    this.checkOpen();
    if (this.visibleSequence >= sequence) return;
    if (this.logStale) this.readStaleLog();
    else this.readLogUntil(sequence);
    if (this.visibleSequence >= sequence) return;
    await this.refresh();
    this.readLogUntil(sequence);
    if (this.visibleSequence >= sequence || this.closing !== undefined) return;
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.closing === undefined && this.visibleSequence < sequence) return;
        this.off('tail', check).off('refresh', check);
        this.sequenceWaiters.delete(check);
        resolve();
      };
      this.on('tail', check).on('refresh', check);
      this.sequenceWaiters.add(check);
      check();
    });
  }

  get(key: Key): V | undefined {
    return this.reads.get(key);
  }

  /** The values of `keys`, in their order (undefined where absent), all from one snapshot. */
  getMany(keys: readonly Key[]): Array<V | undefined> {
    return this.reads.getMany(keys);
  }

  has(key: Key): boolean {
    return this.reads.has(key);
  }

  /**
   * Live entries in key order (or reverse) within the bounds, from the
   * generation served when it was made, to the end, even if the reader
   * refreshes meanwhile.
   */
  range(options?: RangeOptions): IterableIterator<[K, V]> {
    const generation = this.stack.generation;
    return this.retired.pin(generation, this.reads.range(options));
  }

  /** The keys of `range(options)`, their values not read back. */
  keys(options?: RangeOptions): IterableIterator<K> {
    return this.retired.pin(this.stack.generation, this.reads.keys(options));
  }

  /** The values of `range(options)`, in key order. */
  values(options?: RangeOptions): IterableIterator<V> {
    return this.retired.pin(this.stack.generation, this.reads.values(options));
  }

  /** `range(options)` for `for await`: the event loop gets a turn every 1,024 entries. */
  iterator(options?: RangeOptions): AsyncIterableIterator<[K, V]> {
    return asyncEntries(this.range(options));
  }

  /** Keys sharing the longest prefix with `key` (keyvi's GetNear), with their values. */
  near(key: Key, options?: NearOptions): Array<[K, V]> {
    return this.reads.near(key, options);
  }

  /** Keys within `maxEdits` edits (Levenshtein, by character) of `key` (keyvi's GetFuzzy), in key order. */
  fuzzy(key: Key, maxEdits: number, options?: FuzzyOptions): Array<[K, V]> {
    return this.reads.fuzzy(key, maxEdits, options);
  }

  /**
   * The change feed, as `Index.changes` on the writer: every write matching
   * the options (`prefix`, or `gte`/`gt`/`lte`/`lt`) from `since` on
   * (default: from now), in sequence order, as `{ key, value, sequence }` or
   * `{ key, deleted: true, sequence }`, each once the writer acknowledged it.
   * It reads the log with a cursor of its own, woken by the reader's log
   * events, so a slow consumer costs no memory; once a flush deleted what it
   * needs, it throws `ChangesTooOldError`. Works with `tail: false` too (it
   * starts the log watch). Closing the reader ends its subscriptions.
   */
  changes(options?: ChangesOptions): ChangeSubscription<V, K> {
    this.checkOpen();
    const follower = this.follower;
    this.feed ??= new ChangeFeed<V, K>({
      fs: this.options.fs,
      walDirectory: join(this.directory, WAL_DIRECTORY),
      keyEncoding: this.options.keyEncoding,
      decodeValue: this.reads.decode,
      onWake: (listener) => this.addLogListener(listener),
      onRecords: follower === undefined ? undefined : (listener) => follower.addRecordListener(listener),
    });
    return this.feed.changes(options);
  }

  /** Stops watching, closes every file, drops the lease. Idempotent; reads after it throw `ClosedError`. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- internals ----

  /**
   * Runs refreshes one after another: one started while another loads a
   * segment checks again once that one is done, so a commit made meanwhile
   * is not missed.
   */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Serves the current generation if it is newer; true when it moved. New
   * `memory`-mode segments are read a slice per event-loop turn, and reads
   * go on from the generation served until the new one is whole.
   */
  private async advance(current = this.manifest.currentGeneration()): Promise<boolean> {
    if (this.closing !== undefined || current === this.stack.generation) return false;
    const previous = this.stack;
    const before = this.served;
    this.held.lease = await moveLeaseWhenFree(this.manifest, this.held.lease);
    const { opened, generation } = await openLeased(this.manifest, this.held, (leased) => previous.advanceInTurns(leased));
    const { stack, retired } = opened;
    if (this.closing !== undefined) {
      // Closed while the segments loaded: what this refresh opened is not needed (closing twice is harmless).
      stack.close();
      return false;
    }
    // One synchronous step, so no read sees the tail pruned over the old segments (older values) or the reverse.
    this.stack = stack;
    this.served = generation;
    this.follower?.coveredBy(generation.walCoveredSequence);
    this.view = this.viewOf(stack);
    this.retired.retire(previous.generation, retired);
    this.emit('refresh', stack.generation, changeBetween(before, generation));
    // Tailing goes on past what the new generation covers (and resumes, if it had paused).
    if (this.follower !== undefined) this.queueLogRead();
    return true;
  }

  /** This process's own writes not visible yet and the tail table (if any) over the generation's segments, newest first. */
  private viewOf(stack: SegmentStack): MergedView {
    const above: EntrySource[] = [];
    const own = this.ownWrites.table;
    if (own !== undefined) above.push(own);
    if (this.follower !== undefined) above.push(this.follower.table);
    return new MergedView(above.length === 0 ? stack.sources : [...above, ...stack.sources], stack);
  }

  /**
   * `recordOwnWrites`: a write this process forwarded, acknowledged as
   * `lastSequence`, is shown by every read from now on (`settleOwnWrites`);
   * false when the caller must wait for the log instead (`catchUpTo`): the
   * own writes held reach half of `maxTailBytes`, or the acknowledgement
   * came out of order. A closed reader shows nothing, so it takes the
   * writes as shown (as `catchUpTo` resolves).
   */
  private recordOwnWrites(entries: readonly WalEntryInput[], lastSequence: number): boolean {
    if (this.closing !== undefined) return true;
    const visible = this.visibleSequence;
    if (lastSequence <= visible) return true;
    this.ownWrites.forget(visible);
    if (this.ownWrites.bytes >= this.options.maxTailBytes / 2) return false;
    return this.ownWrites.add(entries, lastSequence);
  }

  /**
   * Before a read: the log is read up to this process's own acknowledged
   * writes (the marker covers them, so this is the synchronous read
   * `catchUpTo` makes, once for all the writes since the last read); those
   * it reaches go, and the rest (the log flushed away or tailing paused)
   * are laid out in the own-writes table above the tail.
   */
  private settleOwnWrites(): void {
    if (this.ownWrites.isEmpty) return;
    const newest = this.ownWrites.newestWaiting;
    if (newest > this.visibleSequence) this.readLogUntil(newest);
    if (this.ownWrites.settle(this.visibleSequence)) this.view = this.viewOf(this.stack);
  }

  private startLogWatcher(): void {
    this.logWatcher ??= LogWatcher.start(this.directory, {
      fs: this.options.fs,
      pollIntervalMs: this.options.pollIntervalMs,
      clock: this.clock,
      wake: () => this.onLogEvent(),
      report: (error) => this.report(error),
    });
  }

  /**
   * The log watcher's wake-up: the reader's own read first (or, with
   * `tail: 'onRead'`, a mark if the marker says there is news: a client's
   * event for its own write often comes after it read that write), then the
   * other followers.
   */
  private onLogEvent(): void {
    if (this.closing !== undefined) return;
    if (this.options.tail !== 'onRead') this.readLog();
    else if (this.follower?.hasUnread() !== false) this.markLogStale();
    for (const listener of this.logListeners) {
      try {
        listener();
      } catch (error) {
        this.report(asError(error));
      }
    }
  }

  /** `subscribeToLog`: `listener` is called at each log event and poll, after the reader's own read. */
  private addLogListener(listener: LogListener): () => void {
    this.checkOpen();
    this.logListeners.add(listener);
    this.startLogWatcher();
    this.logWatcher?.resume();
    return () => {
      this.logListeners.delete(listener);
    };
  }

  /**
   * Applies what the writer acknowledged since the last read, a slice at a
   * time (with `followUp`, the rest on the next turns). Synchronous, and
   * never throws: a failure goes to 'error', and the next event or poll
   * tries again. Says whether the writer acknowledged more than the slice.
   */
  private readLog(followUp = true): boolean {
    const follower = this.follower;
    if (follower === undefined || this.closing !== undefined) return false;
    let outcome: FollowOutcome;
    try {
      outcome = follower.read();
    } catch (error) {
      this.report(asError(error));
      return false;
    }
    if (outcome.kind === 'gone') {
      this.catchUp(outcome.missing);
      return false;
    }
    if (outcome.kind === 'paused') return false;
    if (outcome.kind === 'overflow' || outcome.records > 0) this.emit('tail', follower.visibleSequence);
    if (outcome.kind === 'overflow') {
      this.overflows++;
      this.emit('tailOverflow', { bytes: outcome.bytes, maxTailBytes: outcome.limit, visibleSequence: follower.visibleSequence });
      return false;
    }
    if (outcome.more && followUp) this.queueLogRead();
    return outcome.more;
  }

  /**
   * Log reads now, a slice at a time, until `sequence` is visible or the
   * acknowledged end is reached (one read, as a rule: a client does this
   * after each of its writes); what is left past `sequence` is read later.
   * A read that brings nothing new ends it too: a marker ahead of the
   * records in the file (damage) must not hold a synchronous read forever.
   */
  private readLogUntil(sequence: number): void {
    for (;;) {
      const before = this.visibleSequence;
      const more = this.readLog(false);
      if (!more || this.visibleSequence === before) return;
      if (this.visibleSequence >= sequence) return this.queueLogRead();
    }
  }

  /** `tail: 'onRead'`: what the log gained since the last read, applied before this read is served. */
  private readStaleLog(): void {
    this.logStale = false;
    this.logWatcher?.resume(); // before the read: a commit after it is an event again
    this.readLogUntil(Number.MAX_SAFE_INTEGER);
  }

  /**
   * `tail: 'onRead'`: the next read applies the log first. A second event
   * before that read pauses the log's events (unless a change feed
   * listens): they could only say the same thing again, and each wakes this
   * process. Not the first: a process that reads between commits (a client
   * reading its own writes) would close and open the watch at each one.
   */
  private markLogStale(): void {
    if (this.logStale && this.logListeners.size === 0) this.logWatcher?.pause();
    this.logStale = true;
  }

  /** A log read on the next turn (one, however many ask); with `tail: 'onRead'`, at the next read. */
  private queueLogRead(): void {
    if (this.options.tail === 'onRead') {
      this.markLogStale();
      return;
    }
    if (this.logReadQueued) return;
    this.logReadQueued = true;
    setImmediate(() => {
      this.logReadQueued = false;
      this.readLog();
    });
  }

  /**
   * The log no longer holds `missing`: a flush covered it and its file was
   * deleted. The newer generation takes over; tailing goes on past what it
   * covers. If the manifest does not cover `missing` yet, the next event or
   * poll tries again.
   */
  private catchUp(missing: number): void {
    if (this.catchingUp) return;
    this.catchingUp = true;
    void this.refreshInBackground().finally(() => {
      this.catchingUp = false;
      if (this.visibleSequence >= missing) this.readLog();
    });
  }

  /**
   * The watcher's check: never rejects; a failure goes to 'error'. A
   * damaged generation is not tried again (it stays damaged); anything
   * else, such as an I/O error, is tried again at the next event or poll.
   */
  private refreshInBackground(): Promise<boolean> {
    return this.serially(async () => {
      let current = -1;
      try {
        if (this.closing !== undefined) return false;
        current = this.manifest.currentGeneration();
        if (current === this.failedGeneration) return false;
        return await this.advance(current);
      } catch (error) {
        if (error instanceof CorruptionError) this.failedGeneration = current;
        this.report(asError(error));
        return false;
      }
    });
  }

  /** 'error' only when someone listens: a background failure must never crash the process. */
  private report(error: Error): void {
    if (this.closing === undefined && this.listenerCount('error') > 0) this.emit('error', error);
  }

  private checkOpen(): void {
    if (this.closing !== undefined) throw new ClosedError('the read-only index');
  }

  private async shutDown(): Promise<void> {
    for (const waiter of [...this.sequenceWaiters]) waiter();
    try {
      await this.watcher?.close();
      this.logWatcher?.close();
      await this.queue;
    } finally {
      this.feed?.close();
      this.logListeners.clear();
      this.follower?.close();
      this.retired.closeAll();
      this.stack.close();
      try {
        this.manifest.dropLease(this.held.lease.id);
      } finally {
        this.manifest.close();
      }
    }
  }
}

/**
 * `subscribeToLog` of each reader (`@silt/reader/internal`): a hook for silt's
 * own followers of the log, kept off the public class.
 */
const logSubscriptions = new WeakMap<object, (listener: LogListener) => () => void>();

/**
 * Calls `listener` whenever `reader` is woken for its log (a file-system
 * event on `wal/` or the safety poll), after the reader applied what it
 * read; returns the unsubscribe. Starts the log watch if the reader had
 * none (`tail: false` or `watch: false`). Internal: for `changes()`.
 */
export function subscribeToLog<V, K extends Key>(reader: ReadOnlyIndex<V, K>, listener: () => void): () => void {
  const subscribe = logSubscriptions.get(reader);
  if (subscribe === undefined) throw new TypeError('subscribeToLog needs a ReadOnlyIndex');
  return subscribe(listener);
}

/** `recordOwnWrites` of each reader (`@silt/reader/internal`), kept off the public class as `subscribeToLog` is. */
const ownWriteRecorders = new WeakMap<object, (entries: readonly WalEntryInput[], lastSequence: number) => boolean>();

/**
 * Tells `reader` that the writes of one batch this process forwarded were
 * acknowledged as `lastSequence` (the batch's last sequence number), so
 * that every read from now on shows them: the read first reads the log up
 * to them, and serves what it cannot see there yet from its own-writes
 * table. False when it did not take them: the caller must
 * `catchUpTo(lastSequence)` before it says the write is done. Internal: for
 * the writer actor's clients (`silt`).
 */
export function recordOwnWrites<V, K extends Key>(
  reader: ReadOnlyIndex<V, K>,
  entries: readonly WalEntryInput[],
  lastSequence: number,
): boolean {
  const record = ownWriteRecorders.get(reader);
  if (record === undefined) throw new TypeError('recordOwnWrites needs a ReadOnlyIndex');
  return record(entries, lastSequence);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The lease a reader holds; a retry moves it (or replaces a reclaimed one). */
interface HeldLease {
  lease: Lease;
}

/**
 * Opens the generation `held` leases with `open`. The lease comes first, so
 * the collector keeps the files while they are opened (those of the
 * generation served before are open already, and stay readable once
 * unlinked). If a file is gone anyway, the lease moves to the newest
 * generation and that one is tried.
 */
async function openLeased<Opened>(
  manifest: Manifest,
  held: HeldLease,
  open: (generation: Generation) => Opened | Promise<Opened>,
): Promise<{ opened: Opened; generation: Generation }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const generation = manifest.generationAt(held.lease.generation);
      return { opened: await open(generation), generation };
    } catch (error) {
      if (attempt >= OPEN_ATTEMPTS || !isVanished(error)) throw error;
    }
    held.lease = moveLease(manifest, held.lease);
  }
}

function changeBetween(before: Generation, after: Generation): RefreshChange {
  const beforeIds = new Set(before.segments.map((segment) => segment.id));
  const afterIds = new Set(after.segments.map((segment) => segment.id));
  return {
    previous: before.generation,
    segments: after.segments,
    added: after.segments.filter((segment) => !beforeIds.has(segment.id)),
    removed: before.segments.filter((segment) => !afterIds.has(segment.id)),
  };
}

/** Moves the lease; if it was reclaimed (its pid looked dead from another pid namespace), takes a new one. */
function moveLease(manifest: Manifest, lease: Lease): Lease {
  try {
    return manifest.moveLease(lease.id);
  } catch (error) {
    return takeLeaseIfReclaimed(manifest, error);
  }
}

/** `moveLease`, without sleeping on the event loop while SQLite's write lock is held (`Manifest.moveLeaseWhenFree`). */
async function moveLeaseWhenFree(manifest: Manifest, lease: Lease): Promise<Lease> {
  try {
    return await manifest.moveLeaseWhenFree(lease.id);
  } catch (error) {
    return takeLeaseIfReclaimed(manifest, error);
  }
}

function takeLeaseIfReclaimed(manifest: Manifest, error: unknown): Lease {
  if (error instanceof ValidationError) return manifest.takeLease();
  throw error;
}

/** A file of the generation, or the generation itself, was collected while it was being opened. */
function isVanished(error: unknown): boolean {
  return (error instanceof IoError && error.errno === 'ENOENT') || error instanceof GenerationNotFoundError;
}

/**
 * The manifest as a reader. A missing or empty manifest is no index
 * (`ManifestNotFoundError`) unless `segments/` holds segment files: then
 * it was lost, and the files are evidence of an index to repair.
 */
function openManifest(manifestPath: string, directory: string, segmentNames: readonly string[]): Manifest {
  try {
    return Manifest.open(manifestPath, { role: 'reader' });
  } catch (error) {
    const segments = segmentNames.filter((name) => segmentIdOfFileName(name) !== undefined).length;
    if (error instanceof ManifestNotFoundError && segments > 0) {
      throw new IndexDamagedError(directory, [
        `${MANIFEST_FILE} is missing or empty, but segments/ holds ${segments} segment file(s): the manifest was lost`,
      ]);
    }
    throw asIndexDamage(error, directory, undefined);
  }
}

/**
 * Damage found while opening, said as `Index.open` says it: an
 * `IndexDamagedError` naming it and pointing to `silt repair`. A live
 * segment's file still missing after every retry is damage too.
 */
function asIndexDamage(error: unknown, directory: string, generation: number | undefined): unknown {
  if (error instanceof IoError && error.errno === 'ENOENT' && error.path !== undefined && generation !== undefined) {
    return new IndexDamagedError(directory, [`${error.path} is live in generation ${generation} but the file is missing`], {
      file: error.path,
      offset: undefined,
      cause: error,
    });
  }
  return IndexDamagedError.from(error, directory);
}

function listSegmentFiles(fs: FileSystem, directory: string): string[] {
  const segments = join(directory, SEGMENTS_DIRECTORY);
  return fs.exists(segments) ? fs.list(segments) : [];
}

/**
 * A segment file whose id the manifest never handed out means the manifest
 * is behind its files (lost, rolled back, or replaced): serving its
 * generation would serve old values as current.
 */
function refuseFilesNewerThan(manifest: Manifest, directory: string, names: readonly string[]): void {
  const problems = filesNewerThanManifest(names, manifest.nextSegmentId());
  if (problems.length > 0) throw new IndexDamagedError(directory, problems);
}
