import { EventEmitter } from 'node:events';
import { systemClock, ValidationError } from '@silt/fs';
import type {
  ChangesOptions,
  ChangeSubscription,
  FuzzyOptions,
  Key,
  KeyOf,
  NearOptions,
  RangeOptions,
  Value,
  ValueCodec,
  ValueEncoding,
} from '@silt/reader';
import { valueTranscoder, type ValueTranscoder } from '@silt/reader/internal';
import { resolveIndexOptions, type IndexOptions, type ResolvedIndexOptions } from './index-options.js';
import type { IndexEvents } from './index-events.js';
import type { IndexRole } from './index-role.js';
import type { IndexStats } from './index-stats.js';
import type { IndexSeams } from './index-writer.js';
import { RoleSwitch } from './role-switch.js';
import { prepareBatch, prepareDelete, preparePut } from './write-batch.js';
import { prepareOperations, type BatchOperation } from './batch-operations.js';
import { ChainedBatch } from './chained-batch.js';

/** How long a client or reader waits at open for a writer to answer, or the index to exist, unless `lockTimeoutMs` says. */
const DEFAULT_CLIENT_WAIT_MS = 10_000;

/**
 * An index directory as one process uses it. Every call is checked and its
 * values encoded here, then served by the role this process has
 * (`RoleSwitch`): the writer actor, which holds the writer lock and owns
 * the log, the flusher and the merges; or a client, which reads locally and
 * forwards its writes to the writer actor of another process. Writes are
 * readable at once by the process that made them; other processes see them
 * through the log's tail within milliseconds, and in segments after a
 * flush.
 */
export class Index<V = Value, K extends Key = Key> extends EventEmitter<IndexEvents> implements AsyncDisposable {
  private role!: IndexRole<V, K>;
  /** The `valueEncoding`: what a write stores, and how reads hand values back. */
  private readonly encoding: ValueTranscoder<V>;
  private readonly maxValueBytes: number;

  private constructor(options: ResolvedIndexOptions) {
    super();
    this.encoding = valueTranscoder(options.valueEncoding as ValueEncoding<V> | undefined);
    this.maxValueBytes = options.maxValueBytes;
  }

  /**
   * Opens (or creates) the index in `directory`. With `role: 'auto'` (the
   * default) this process becomes the writer if it takes the writer lock,
   * and otherwise a client of the process that holds it (see the README's
   * "Many processes"); with `role: 'writer'` it fails with LockError, after
   * `lockTimeoutMs`, if another writer holds it. The writer recovers from any crash
   * without deleting anything it cannot prove obsolete: checks the log's
   * continuity and every file in `segments/` against the manifest (damage
   * is an `IndexDamagedError`, a CorruptionError, and nothing is changed),
   * removes temp files and uncommitted build outputs, and puts the log past
   * the last segment back in memory, where it is served at once and flushed
   * in the background.
   */
  // `valueEncoding` types the values (`Index.open<User>(dir, { valueEncoding: 'json' })` reads and writes `User`s),
  // `keyEncoding` the keys read back (`KeyOf`: strings unless 'binary'; either when a type argument is given).
  static open<V = unknown, O extends IndexOptions = IndexOptions>(
    directory: string,
    options: O & { readonly valueEncoding: 'json' },
    seams?: IndexSeams,
  ): Promise<Index<V, KeyOf<O>>>;
  static open<V, O extends IndexOptions = IndexOptions>(
    directory: string,
    options: O & { readonly valueEncoding: ValueCodec<V> },
    seams?: IndexSeams,
  ): Promise<Index<V, KeyOf<O>>>;
  static open<O extends IndexOptions>(
    directory: string,
    options: O & { readonly valueEncoding: 'utf8' },
    seams?: IndexSeams,
  ): Promise<Index<string, KeyOf<O>>>;
  static open<O extends IndexOptions>(
    directory: string,
    options: O & { readonly valueEncoding: 'binary' },
    seams?: IndexSeams,
  ): Promise<Index<Uint8Array, KeyOf<O>>>;
  static open<O extends IndexOptions = Record<never, never>>(
    directory: string,
    options?: O,
    seams?: IndexSeams,
  ): Promise<Index<Value, KeyOf<O>>>;
  static async open(directory: string, options?: IndexOptions, seams?: IndexSeams): Promise<Index<unknown>> {
    const resolved = resolveIndexOptions(options);
    if (typeof directory !== 'string' || directory.length === 0) {
      throw new ValidationError(`Index.open needs a directory path, got ${JSON.stringify(directory)}`);
    }
    const index = new Index<unknown>(resolved);
    const lockTimeoutMs = resolved.lockTimeoutMs ?? (resolved.role === 'writer' ? 0 : DEFAULT_CLIENT_WAIT_MS);
    index.role = await RoleSwitch.open(directory, resolved.role, resolved, seams?.clock ?? systemClock, index, lockTimeoutMs);
    return index;
  }

  // ---- writes ----

  /** Sets `key` to `value`; resolves when the write is durable per the index's durability mode. */
  set(key: Key, value: V): Promise<void> {
    return this.role.write(() => [preparePut(key, this.encoding.encode(value), this.maxValueBytes)]);
  }

  /** Sets every pair as one atomic batch: after any crash, all of them are there or none. */
  mset(pairs: Iterable<readonly [Key, V]>): Promise<void> {
    return this.role.write(() => prepareBatch(pairs, this.maxValueBytes, this.encoding.encode));
  }

  delete(key: Key): Promise<void> {
    return this.role.write(() => [prepareDelete(key)]);
  }

  /**
   * Puts and deletes as one atomic batch, one log record (as `mset`): after
   * any crash all of them are there or none. Every operation is checked
   * first; one bad operation refuses the batch and nothing is written.
   * Without arguments, a chained batch: `batch().put(k, v).del(k).write()`.
   */
  batch(): ChainedBatch<V>;
  batch(operations: ReadonlyArray<BatchOperation<V>>): Promise<void>;
  batch(operations?: ReadonlyArray<BatchOperation<V>>): ChainedBatch<V> | Promise<void> {
    if (operations !== undefined) return this.role.write(() => prepareOperations(operations, this.maxValueBytes, this.encoding.encode));
    this.role.checkOpen();
    return new ChainedBatch<V>({
      maxValueBytes: this.maxValueBytes,
      encode: this.encoding.encode,
      commit: (prepared) => this.role.write(() => prepared),
    });
  }

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
    return this.role.clear(options);
  }

  /** Seals what was written so far into a segment; other processes see it once this resolves. */
  flush(): Promise<void> {
    return this.role.flush();
  }

  /**
   * Merges segments until at most `maxSegments` are live (keyvi's
   * ForceMerge, Manticore's OPTIMIZE), flushing first; resolves when the
   * last merge is committed. Large indexes take several rounds of at most
   * `mergePolicy.maxSegmentsPerMerge` segments each.
   */
  forceMerge(maxSegments = 1): Promise<void> {
    return this.role.forceMerge(maxSegments);
  }

  /**
   * Resolves once no merge runs, those the policy starts as others commit
   * included, and the last merged segment serves reads: the settled state a
   * bulk load reaches on its own. Merges do not wait for this; it only
   * tells when they are done.
   */
  mergesIdle(): Promise<void> {
    return this.role.mergesIdle();
  }

  // ---- reads (synchronous, read-your-writes) ----

  get(key: Key): V | undefined {
    return this.role.get(key);
  }

  /** The values of `keys`, in their order (undefined where absent), all read at one moment. */
  getMany(keys: readonly Key[]): Array<V | undefined> {
    return this.role.getMany(keys);
  }

  has(key: Key): boolean {
    return this.role.has(key);
  }

  /**
   * Live entries in key order (or reverse) within the bounds. The iterator
   * reads the segments of the moment it was made; writes made while it runs
   * may or may not appear in it.
   */
  range(options?: RangeOptions): IterableIterator<[K, V]> {
    return this.role.range(options);
  }

  /** The keys of `range(options)`, their values not read back. */
  keys(options?: RangeOptions): IterableIterator<K> {
    return this.role.keys(options);
  }

  /** The values of `range(options)`, in key order. */
  values(options?: RangeOptions): IterableIterator<V> {
    return this.role.values(options);
  }

  /** `range(options)` for `for await`: the event loop gets a turn every 1,024 entries. */
  iterator(options?: RangeOptions): AsyncIterableIterator<[K, V]> {
    return this.role.iterator(options);
  }

  /** Keys sharing the longest prefix with `key` (keyvi's GetNear), with their values. */
  near(key: Key, options?: NearOptions): Array<[K, V]> {
    return this.role.near(key, options);
  }

  /** Keys within `maxEdits` edits (Levenshtein, by character) of `key` (keyvi's GetFuzzy), in key order. */
  fuzzy(key: Key, maxEdits: number, options?: FuzzyOptions): Array<[K, V]> {
    return this.role.fuzzy(key, maxEdits, options);
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
    return this.role.changes(options);
  }

  stats(): IndexStats {
    return this.role.stats();
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
    return this.role.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
