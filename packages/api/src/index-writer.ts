import { EventEmitter } from 'node:events';
import { ClosedError, makeDirectoryDurably, ValidationError, WriterFailedError, type CancelTimer, type Clock } from '@silt/fs';
import { WriteAheadLog, type AppendOptions, type Appended, type WriteOrigin } from '@silt/wal';
import { IndexDamagedError, Manifest, WriterLock, type Generation } from '@silt/segments';
import { SegmentWorkerPool } from '@silt/merger';
import { collectSegments } from '@silt/segments';
import type { ChangesOptions, ChangeSubscription, FuzzyOptions, Key, NearOptions, RangeOptions, Value, ValueEncoding } from '@silt/reader';
import { ChangeFeed } from '@silt/reader';
import {
  asyncEntries,
  KeyValueReads,
  MergedView,
  RetiredReaders,
  SegmentStack,
  toIndexScanRange,
  valueTranscoder,
  type ValueTranscoder,
} from '@silt/reader/internal';
import type { ResolvedIndexOptions } from './index-options.js';
import { IndexLayout } from './index-layout.js';
import { Memtable } from './memtable.js';
import { Flusher, type FlushEvent } from './flusher.js';
import type { IndexEvents } from './index-events.js';
import { recoveryIsNoteworthy, replayLog, type IndexRecovery } from './recovery.js';
import {
  auditLiveSegments,
  auditMissingManifest,
  auditUnnamedSegments,
  removeObsoleteSegments,
  type ManifestFacts,
} from './segment-audit.js';
import { prepareDelete, type PreparedOperation } from './write-batch.js';
import { liveSegmentStats, type WriterStats } from './index-stats.js';
import { SegmentIds } from './segment-ids.js';
import { MergeScheduler, type MergeEvent, type MergeFailedError } from './merge-scheduler.js';
import { TieredMergePolicy } from '@silt/merger';

/** A single-key write may share the turn's log record; a batch gets one of its own. */
const MAY_COALESCE = { coalesce: true } as const;

function appendOptions(operations: number, origin: WriteOrigin | undefined): AppendOptions | undefined {
  if (origin === undefined) return operations === 1 ? MAY_COALESCE : undefined;
  return operations === 1 ? { coalesce: true, origin } : { origin };
}

/**
 * `close()` flushes what is unflushed only up to this much (a flush of it
 * takes well under 100 ms); more stays in the log, which the next open
 * serves from memory at once. So close stays short under load, and a
 * supervisor's kill timeout is never reached.
 */
const CLOSE_FLUSH_BYTES = 4 * 1024 * 1024;

/** Sealed memtables allowed to wait for a flush before writes are held back. */
const MAX_SEALED_MEMTABLES = 2;

/**
 * What a test may replace beneath the options (not part of the options
 * schema): the clock that times the refresh interval and the log's
 * background fdatasync, so a test steps time instead of racing a timer.
 */
export interface IndexSeams {
  readonly clock?: Clock;
}

interface OpenParts {
  /** Where the writer's events go: the `Index` the caller holds. */
  readonly events: EventEmitter<IndexEvents>;
  readonly layout: IndexLayout;
  readonly options: ResolvedIndexOptions;
  readonly clock: Clock;
  readonly lock: WriterLock;
  readonly manifest: Manifest;
  readonly wal: WriteAheadLog;
  readonly stack: SegmentStack;
  readonly pool: SegmentWorkerPool;
}

/**
 * The writer actor of one index directory: the role of the `Index` that
 * holds the writer lock. Writes go to the log (group commit) and the active
 * memtable, and are readable at once by this process; the flusher turns
 * memtables into segments every `refreshIntervalMs`, when the memtable
 * passes `memtableBytes`, and on `flush()`, after which other processes see
 * them. Calls arrive validated and encoded (`PreparedOperation`s) from the
 * `Index` in this process, or forwarded from clients in others.
 */
export class IndexWriter<V = Value, K extends Key = Key> {
  private active = new Memtable();
  /** Oldest first. */
  private readonly sealed: Memtable[] = [];
  private stack: SegmentStack;
  private view!: MergedView;
  private readonly reads: KeyValueReads<V, K>;
  /** The `valueEncoding`: what a write stores, and how reads hand values back. */
  private readonly encoding: ValueTranscoder<V>;
  private readonly flusher: Flusher;
  private cancelRefreshTimer: CancelTimer | undefined;
  private failure: WriterFailedError | undefined;
  private closing: Promise<void> | undefined;
  private stalledWrites = 0;
  /** The log's promise for the newest record written, and what the writes in it were handed: one promise per record, not per write. */
  private lastDurable: Promise<void> | undefined;
  private lastAcknowledged: Promise<void> = Promise.resolve();
  /** Whether the writes the failed log refused were taken out of the memtables. */
  private refusedWithdrawn = false;
  private backpressuredWrites = 0;
  /** The stack generation a `backpressure` event was last raised for. */
  private backpressureEpisode = -1;
  /** Flush and merge commits swap into the read stack one at a time, in commit order. */
  private installing: Promise<void> = Promise.resolve();
  private readonly retired = new RetiredReaders();
  private readonly merges: MergeScheduler;
  private recovery: IndexRecovery = { log: {}, obsoleteSegmentFiles: [], replayedOperations: 0 };
  /** Made by the first `changes()`; ends its subscriptions at close. */
  private feed: ChangeFeed<V, K> | undefined;
  private readonly recoveredThrough: number;

  private constructor(private readonly parts: OpenParts) {
    this.stack = parts.stack;
    this.recoveredThrough = parts.wal.lastSequence;
    const segmentIds = new SegmentIds(parts.manifest);
    this.flusher = new Flusher({
      layout: parts.layout,
      wal: parts.wal,
      manifest: parts.manifest,
      pool: parts.pool,
      segmentIds,
      fs: parts.options.fs,
      installed: (table, generation, event) => this.installFlushed(table, generation, event),
    });
    this.merges = new MergeScheduler({
      layout: parts.layout,
      manifest: parts.manifest,
      pool: parts.pool,
      segmentIds,
      policy: new TieredMergePolicy(parts.options.mergePolicy),
      mergeThreads: parts.options.mergeThreads,
      autoMerge: parts.options.autoMerge,
      mayStart: () => this.closing === undefined && this.failure === undefined,
      installed: (generation, event) => this.installMerged(generation, event),
      mergeFailed: (error) => this.reportMergeFailure(error),
      commitFailed: (error) => this.fail(error),
    });
    this.rebuildView();
    this.encoding = valueTranscoder(parts.options.valueEncoding as ValueEncoding<V> | undefined);
    this.reads = new KeyValueReads(
      parts.options.keyEncoding,
      () => {
        this.checkOpen();
        return this.view;
      },
      this.encoding,
    );
    this.armRefreshTimer();
  }

  /**
   * Opens (or creates) the index in `directory` as its one writer. Fails at
   * once with LockError if another writer holds it. Recovers from any crash
   * without deleting anything it cannot prove obsolete: checks the log's
   * continuity and every file in `segments/` against the manifest (damage
   * is an `IndexDamagedError`, a CorruptionError, and nothing is changed),
   * removes temp files and uncommitted build outputs, and puts the log past
   * the last segment back in memory, where it is served at once and flushed
   * in the background.
   */
  static async open(
    directory: string,
    resolved: ResolvedIndexOptions,
    clock: Clock,
    events: EventEmitter<IndexEvents>,
  ): Promise<IndexWriter<unknown>> {
    const layout = new IndexLayout(directory);
    const { fs } = resolved;
    await makeDirectoryDurably(fs, directory);
    const lock = WriterLock.acquire(directory);
    const cleanup: Array<() => unknown> = [() => lock.release()];
    try {
      const lostManifest = auditMissingManifest(fs, layout);
      if (lostManifest !== undefined) throw new IndexDamagedError(directory, [lostManifest]);
      await makeDirectoryDurably(fs, layout.segmentsDirectory);
      const manifest = Manifest.open(layout.manifestPath, { role: 'writer' });
      cleanup.unshift(() => manifest.close());
      const generation = manifest.current();
      const facts = manifestFacts(manifest, generation);
      const behind = auditLiveSegments(fs, layout, facts);
      if (behind.length > 0) throw new IndexDamagedError(directory, behind);
      const wal = await WriteAheadLog.open(layout.walDirectory, {
        fs,
        clock,
        durability: resolved.durability,
        syncIntervalMs: resolved.syncIntervalMs,
        maxFileBytes: resolved.walFileBytes,
        recovery: resolved.walRecovery,
        nextSequence: generation.walCoveredSequence + 1,
      });
      cleanup.unshift(() => wal.close());
      const audit = auditUnnamedSegments(fs, layout, facts, wal.lastSequence);
      if (audit.problems.length > 0) throw new IndexDamagedError(directory, audit.problems);
      const stack = SegmentStack.open(directory, generation, resolved);
      cleanup.unshift(() => stack.close());
      await removeObsoleteSegments(fs, layout, audit.obsolete);
      const pool = new SegmentWorkerPool({ mergeThreads: resolved.mergeThreads, ...(resolved.simulatedFs ? { inProcessFs: fs } : {}) });
      cleanup.unshift(() => pool.close());
      const index = new IndexWriter({ events, layout, options: resolved, clock, lock, manifest, wal, stack, pool });
      cleanup.unshift(() => index.stopTimer());
      const replayedOperations = await replayLog(wal, generation.walCoveredSequence, index.active);
      index.recovery = { log: wal.recoveryReport, obsoleteSegmentFiles: audit.obsolete, replayedOperations };
      // Served from memory at once; a supervisor's restart does not wait for the segment build.
      index.sealActive();
      // A crash between a merge's commit and its collection leaves files only the collector removes.
      await collectSegments(fs, manifest, (id) => layout.segmentPath(id));
      index.merges.schedule();
      index.announceRecovery();
      return index;
    } catch (error) {
      for (const step of cleanup)
        await Promise.resolve()
          .then(step)
          .catch(() => undefined);
      throw IndexDamagedError.from(error, directory);
    }
  }

  // ---- writes ----

  /**
   * Deletes every live key in the range (`gte`/`gt`/`lte`/`lt`/`prefix`,
   * also `reverse` and `limit`; everything when no options are given) as
   * one atomic batch: a delete of each key the range holds at the call, in
   * one log record, so after any crash all of them are gone or none. Writes
   * made after the call are not touched. The record must fit the log's
   * 16 MiB record limit (about 16 MiB / (5 + key bytes) keys); a larger
   * clear is refused with a ValidationError and deletes nothing.
   */
  clear(options?: RangeOptions): Promise<void> {
    return this.write(() => this.deletesIn(options));
  }

  /** Seals what was written so far into a segment; other processes see it once this resolves. */
  async flush(): Promise<void> {
    this.checkWritable();
    this.sealActive();
    await this.flusher.idle();
  }

  /**
   * Merges segments until at most `maxSegments` are live (keyvi's
   * ForceMerge, Manticore's OPTIMIZE), flushing first; resolves when the
   * last merge is committed. Large indexes take several rounds of at most
   * `mergePolicy.maxSegmentsPerMerge` segments each.
   */
  async forceMerge(maxSegments = 1): Promise<void> {
    if (typeof maxSegments !== 'number' || !Number.isSafeInteger(maxSegments) || maxSegments < 1) {
      throw new ValidationError(`forceMerge takes a whole number of segments of at least 1, got ${String(maxSegments)}`);
    }
    await this.flush();
    await this.merges.forceMerge(maxSegments);
    await this.installing;
    this.checkWritable();
  }

  /**
   * Resolves once no merge runs, those the policy starts as others commit
   * included, and the last merged segment serves reads: the settled state a
   * bulk load reaches on its own. Merges do not wait for this; it only
   * tells when they are done.
   */
  async mergesIdle(): Promise<void> {
    await this.merges.idle();
    await this.installing;
  }

  // ---- reads (synchronous, read-your-writes) ----

  get(key: Key): V | undefined {
    return this.reads.get(key);
  }

  /** The values of `keys`, in their order (undefined where absent), all read at one moment. */
  getMany(keys: readonly Key[]): Array<V | undefined> {
    return this.reads.getMany(keys);
  }

  has(key: Key): boolean {
    return this.reads.has(key);
  }

  /**
   * Live entries in key order (or reverse) within the bounds. The iterator
   * reads the segments of the moment it was made; writes made while it runs
   * may or may not appear in it.
   */
  range(options?: RangeOptions): IterableIterator<[K, V]> {
    // Pinned: a merge may retire segments this iterator still reads.
    return this.retired.pin(this.stack.generation, this.reads.range(options));
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
   * The change feed: every write matching the options (`prefix`, or
   * `gte`/`gt`/`lte`/`lt`) from `since` on (default: from now), in sequence
   * order, as `{ key, value, sequence }` or `{ key, deleted: true, sequence }`,
   * each once a write is acknowledged. It reads the log files, woken by
   * each group commit, so a slow consumer costs files kept open, not memory;
   * once a flush deleted what it needs, it throws ChangesTooOldError. Closing
   * the index ends its subscriptions. Not in 'none' durability, where the log
   * acknowledges nothing to readers before a clean close: a ValidationError.
   */
  changes(options?: ChangesOptions): ChangeSubscription<V, K> {
    this.checkOpen();
    const { options: resolved, layout, wal } = this.parts;
    if (resolved.durability === 'none') {
      throw new ValidationError(
        "changes() needs durability 'write' or 'fsync': in 'none' mode the log publishes writes only at a clean close, " +
          'so a change feed would show nothing until then',
      );
    }
    this.feed ??= new ChangeFeed<V, K>({
      fs: resolved.fs,
      walDirectory: layout.walDirectory,
      keyEncoding: resolved.keyEncoding,
      decodeValue: this.encoding.decode,
      onWake: (listener) => wal.onAcknowledged(() => listener()),
    });
    return this.feed.changes(options);
  }

  stats(): WriterStats {
    this.checkOpen();
    const generation = this.parts.manifest.current();
    return {
      directory: this.parts.layout.directory,
      durability: this.parts.options.durability,
      generation: generation.generation,
      ...liveSegmentStats(generation.segments),
      accessMode: this.stack.access,
      memtable: { entries: this.active.size, bytes: this.active.bytes, sealed: this.sealed.length },
      lastSequence: this.parts.wal.lastSequence,
      coveredSequence: generation.walCoveredSequence,
      flushes: this.flusher.flushes,
      merges: {
        running: this.merges.inFlight,
        completed: this.merges.merges,
        failed: this.merges.failures,
        bytesWritten: this.merges.bytesWritten,
      },
      stalledWrites: this.stalledWrites,
      backpressuredWrites: this.backpressuredWrites,
      wal: this.parts.wal.stats(),
      recovery: this.recovery,
      failed: this.failure?.message,
    };
  }

  /**
   * Makes every acknowledged write durable and releases every file and the
   * lock. Idempotent. Up to 4 MiB of unflushed writes are flushed into a
   * segment first (readers in other processes then see them); more, or a
   * flush still building, is left in the log (fsynced on close), which the
   * next open replays into memory at once and flushes in the background.
   * Merges in flight are aborted, their inputs kept.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  // ---- internals ----

  /**
   * The log takes the operations' sequence numbers at once (or refuses them,
   * and then nothing is applied); the memtable serves them from now on. A
   * single-key write may share the turn's log record with the others of
   * this turn: thousands of concurrent sets cost one record and one promise.
   */
  write(prepare: () => PreparedOperation[]): Promise<void> {
    return this.append(prepare, undefined).acknowledged;
  }

  /**
   * A write another process forwarded (`WriterServer`): its log record names
   * `origin`. Resolves with the sequence number its last operation took,
   * or, if it wrote nothing, the last one acknowledged before it.
   */
  writeForwarded(prepare: () => PreparedOperation[], origin: WriteOrigin): Promise<number> {
    const { acknowledged, lastSequence } = this.append(prepare, origin);
    return acknowledged.then(() => lastSequence);
  }

  /** A forwarded `clear`: the deletes of the range as one write named by `origin`. */
  clearForwarded(options: RangeOptions, origin: WriteOrigin): Promise<number> {
    return this.writeForwarded(() => this.deletesIn(options), origin);
  }

  /** The last sequence number the log handed out: a client connecting now gets larger ones. */
  get lastSequence(): number {
    return this.parts.wal.lastSequence;
  }

  /**
   * The last sequence number in the log when this writer opened it,
   * recovered: every write of the writers before it is at or below it,
   * and the acknowledged marker covers it from the open on.
   */
  get recoveredSequence(): number {
    return this.recoveredThrough;
  }

  get options(): ResolvedIndexOptions {
    return this.parts.options;
  }

  private append(
    prepare: () => PreparedOperation[],
    origin: WriteOrigin | undefined,
  ): { acknowledged: Promise<void>; lastSequence: number } {
    let operations: PreparedOperation[];
    let appended: Appended;
    const { wal } = this.parts;
    try {
      this.checkWritable();
      operations = prepare();
    } catch (error) {
      return { acknowledged: Promise.reject(error as Error), lastSequence: 0 };
    }
    // An empty batch writes nothing; it resolves once every write before it is durable.
    if (operations.length === 0) return { acknowledged: this.lastAcknowledged, lastSequence: wal.lastSequence };
    try {
      appended = wal.appendNow(operations, appendOptions(operations.length, origin));
    } catch (error) {
      // Too large for a record changes nothing; any other refusal means the log can no longer be trusted.
      return { acknowledged: Promise.reject(error instanceof ValidationError ? error : this.fail(error)), lastSequence: 0 };
    }
    this.active.acknowledged(wal.durableSequence);
    if (appended.record !== undefined) this.active.applyRecord(appended.firstSequence, appended.record);
    else for (let i = 0; i < operations.length; i++) this.active.apply(appended.firstSequence + i, operations[i]!);
    return { acknowledged: this.afterApply(this.acknowledgement(appended.durable)), lastSequence: appended.lastSequence };
  }

  /**
   * A delete of every live key in the range, read from the memtables and
   * segments of this moment, with nothing written between the reading and
   * the log append (both happen in this one synchronous call).
   */
  private deletesIn(options: RangeOptions | undefined): PreparedOperation[] {
    const deletes: PreparedOperation[] = [];
    for (const entry of this.view.range(toIndexScanRange(options))) deletes.push(prepareDelete(entry.key));
    return deletes;
  }

  /**
   * The caller's promise, one per log record. A record the log refused
   * fails the writer, and its writes are taken out of the memtables before
   * any caller hears of it: no read may see a write whose promise rejected.
   */
  private acknowledgement(durable: Promise<void>): Promise<void> {
    if (durable === this.lastDurable) return this.lastAcknowledged;
    this.lastDurable = durable;
    this.lastAcknowledged = durable.then(undefined, (error: unknown) => {
      throw this.fail(error);
    });
    return this.lastAcknowledged;
  }

  /** What every applied write goes through: an early seal, then backpressure. */
  private afterApply(acknowledged: Promise<void>): Promise<void> {
    if (this.active.bytes >= this.parts.options.memtableBytes) this.sealActive();
    if (this.stack.segmentCount > this.parts.options.mergePolicy.segmentCap) return this.holdForMerges(acknowledged);
    if (this.sealed.length <= MAX_SEALED_MEMTABLES) return acknowledged;
    // Flushes fell behind: hold this write's acknowledgement until the oldest is done.
    this.stalledWrites++;
    return Promise.all([acknowledged, this.flusher.oldest()]).then(() => undefined);
  }

  /**
   * Segments piled up past the cap (merges fell behind): hold this write's
   * acknowledgement until a merge completes, and say so, once per episode,
   * with a `backpressure` event. Without automatic merges nothing would end
   * the wait, so then only the event is raised.
   */
  private holdForMerges(acknowledged: Promise<void>): Promise<void> {
    const segmentCap = this.parts.options.mergePolicy.segmentCap;
    if (this.backpressureEpisode !== this.stack.generation) {
      this.backpressureEpisode = this.stack.generation;
      this.parts.events.emit('backpressure', { segments: this.stack.segmentCount, segmentCap });
    }
    if (!this.parts.options.autoMerge || this.merges.inFlight === 0) return acknowledged;
    this.backpressuredWrites++;
    return Promise.all([acknowledged, this.merges.nextCompletion()]).then(() => undefined);
  }

  private sealActive(): void {
    if (this.active.size === 0 || this.failure !== undefined) return;
    const table = this.active;
    table.acknowledged(this.parts.wal.durableSequence);
    this.active = new Memtable();
    this.sealed.push(table);
    this.rebuildView();
    // No log rotation here: the flush reads its range by sequence number, and rotating on
    // every seal would queue writes behind an fdatasync and a directory fsync each time.
    this.flusher.enqueue(table).catch((error: unknown) => {
      // A flush ended by close (see shutDown) is left to the log, not a failure.
      if (this.closing === undefined) this.fail(error);
    });
  }

  /**
   * Each `refreshIntervalMs`: flush what is new, and finish a manifest
   * checkpoint a busy reader cut short, so the newest commit does not stay
   * in `manifest.sqlite-wal` alone until the next one.
   */
  private onRefreshTick(): void {
    const { manifest } = this.parts;
    if (manifest.lastCheckpoint?.completed === false && this.closing === undefined) manifest.checkpoint();
    this.flushIfDirty();
  }

  /**
   * While a flush is still running it waits for the next
   * tick instead of sealing another small memtable: fewer, larger segments,
   * and writes never held back by a queue of timer flushes.
   */
  private flushIfDirty(): void {
    if (this.closing !== undefined || this.failure !== undefined || this.active.size === 0) return;
    if (this.flusher.queued === 0) this.sealActive();
  }

  private installFlushed(table: Memtable, generation: Generation, event: FlushEvent): Promise<void> {
    return this.install(generation, () => {
      this.sealed.splice(this.sealed.indexOf(table), 1);
      this.rebuildView(); // without the table, so its memory goes
      this.parts.events.emit('flush', event);
      this.merges.schedule();
    });
  }

  private installMerged(generation: Generation, event: MergeEvent): Promise<void> {
    return this.install(generation, async () => {
      this.parts.events.emit('merge', event);
      // A file that cannot be deleted stays listed and is tried again after the next merge: not fatal.
      await collectSegments(this.parts.options.fs, this.parts.manifest, (id) => this.parts.layout.segmentPath(id)).catch(
        (error: unknown) => {
          this.emitError(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /**
   * Swaps the read stack to `generation` once its new segments are loaded
   * (a slice per event-loop turn: a merged segment can be large), after
   * every commit before it; `then` runs with the new stack in place.
   */
  private install(generation: Generation, then: () => void | Promise<void>): Promise<void> {
    const installed = this.installing.then(async () => {
      const { stack, retired } = await this.stack.advanceInTurns(generation);
      const previous = this.stack.generation;
      this.stack = stack;
      this.rebuildView();
      this.retired.retire(previous, retired);
      await then();
    });
    // A failed install fails the writer (the caller sees it); the next install must still run.
    this.installing = installed.catch(() => undefined);
    return installed;
  }

  /** A merge that failed changed nothing and is retried; the writer goes on, so this is not `fail`. */
  private reportMergeFailure(error: MergeFailedError): void {
    this.emitError(error);
  }

  private rebuildView(): void {
    this.view = new MergedView([this.active, ...[...this.sealed].reverse(), ...this.stack.sources], this.stack);
  }

  /**
   * The first write or flush error stops the writer for good; reads go on,
   * without the writes the log refused.
   */
  private fail(error: unknown): Error {
    this.withdrawRefusedWrites();
    if (this.failure === undefined) {
      this.failure = new WriterFailedError('the index', error);
      this.emitError(this.failure);
    }
    return error instanceof Error ? error : this.failure;
  }

  /**
   * Once the log has failed, the writes it refused leave the memtables
   * (each table puts back what they replaced), so that no read here serves
   * a write whose promise rejected. The log cut them out of its file too,
   * and no flush builds a segment from a refused range, so no other process
   * sees them either. Nothing is applied after the log fails.
   */
  private withdrawRefusedWrites(): void {
    const refusedFrom = this.parts.wal.refusedFrom;
    if (refusedFrom === undefined || this.refusedWithdrawn) return;
    this.refusedWithdrawn = true;
    for (const table of [this.active, ...this.sealed]) table.withdraw(refusedFrom);
  }

  /** Background failures are reported only to listeners: an `error` event nobody handles would throw. */
  private emitError(error: Error): void {
    if (this.parts.events.listenerCount('error') > 0) this.parts.events.emit('error', error);
  }

  checkOpen(): void {
    if (this.closing !== undefined) throw new ClosedError('the index');
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.failure !== undefined) throw this.failure;
  }

  /** After the caller's `await Index.open(...)` has run on, so a listener it adds there hears it. */
  private announceRecovery(): void {
    if (!recoveryIsNoteworthy(this.recovery)) return;
    setImmediate(() => {
      if (this.closing === undefined) this.parts.events.emit('recovery', this.recovery);
    });
  }

  /** Each `refreshIntervalMs`, on the clock: a tick, then the next one is set. */
  private armRefreshTimer(): void {
    this.cancelRefreshTimer = this.parts.clock.setTimer(this.parts.options.refreshIntervalMs, () => {
      this.armRefreshTimer();
      this.onRefreshTick();
    });
  }

  private stopTimer(): void {
    this.cancelRefreshTimer?.();
    this.cancelRefreshTimer = undefined;
  }

  private async shutDown(): Promise<void> {
    this.stopTimer();
    this.feed?.close();
    const { wal, pool, manifest, lock } = this.parts;
    try {
      // More is left in the log, which the next open serves from memory at once: a close under load stays short.
      if (this.failure === undefined && this.unflushedBytes() <= CLOSE_FLUSH_BYTES) {
        this.sealActive();
        await this.flusher.idle();
      }
    } finally {
      await this.merges.close();
      // Ends a flush still building in a worker: its temp file is removed by the next open.
      await pool.close();
      await this.flusher.idle().catch(() => undefined);
      await this.installing;
      await wal.close().catch(() => undefined);
      this.retired.closeAll();
      this.stack.close();
      if (manifest.lastCheckpoint?.completed === false) manifest.checkpoint();
      manifest.close();
      lock.release();
    }
  }

  /** Bytes of writes not yet in a committed segment: the active memtable and those sealed. */
  private unflushedBytes(): number {
    return this.sealed.reduce((sum, table) => sum + table.bytes, this.active.bytes);
  }
}

function manifestFacts(manifest: Manifest, current: Generation): ManifestFacts {
  return { current, namedIds: new Set(manifest.segmentIds()), nextSegmentId: manifest.nextSegmentId() };
}
