import { AbstractLevel, type AbstractDatabaseOptions } from 'abstract-level';
import { ClosedError, Index, inspectDirectory, LockError, ReadOnlyIndex, ValidationError, type Key, type Value } from 'silt';
import { IndexExistsError, IndexMissingError, LevelLockedError, ReadOnlyLevelError } from './errors.js';
import { valueInFormat, type NativeFormat } from './level-formats.js';
import { resolveSiltLevelOptions, type ResolvedSiltLevelOptions, type SiltLevelOwnOptions } from './level-options.js';
import { RangeCursor, type LevelRange } from './range-cursor.js';
import { SiltIterator, SiltKeyIterator, SiltValueIterator, type PrivateIteratorOptions } from './silt-iterators.js';
import { fromStoredKey, toStoredKey } from './stored-keys.js';
import { deleteKeys, writeOperations, type WriteOperation } from './write-operations.js';

export type SiltLevelOptions<K, V> = AbstractDatabaseOptions<K, V> & SiltLevelOwnOptions;

interface FormatOptions {
  readonly keyEncoding: NativeFormat;
  readonly valueEncoding: NativeFormat;
}

/** An operation of `_batch`: keys and values already encoded by abstract-level. */
type PrivateBatchOperation =
  { readonly type: 'put'; readonly key: Key; readonly value: Value } | { readonly type: 'del'; readonly key: Key };

interface PrivateClearOptions extends LevelRange {
  readonly limit: number;
}

/** Keys deleted per synchronous run of a `clear`. */
const CLEAR_CHUNK = 10_000;

/**
 * What this adapter can and cannot do, as abstract-level's test suite and
 * level tools read it (level-supports' manifest).
 */
const MANIFEST = {
  encodings: { utf8: true, view: true },
  // silt's range reads the segments of the moment it was made, but writes made while it runs may appear.
  implicitSnapshots: false,
  explicitSnapshots: false,
  permanence: true,
  seek: true,
  has: true,
  getSync: true,
  createIfMissing: true,
  errorIfExists: true,
  deferredOpen: true,
  streams: false,
  signals: { iterators: false },
  additionalMethods: {},
} as const;

/**
 * abstract-level on a silt index: the writer (`Index`), or with
 * `readOnly: true` a `ReadOnlyIndex` whose writes reject with
 * `LEVEL_READONLY`. Keys and values are stored as silt stores them
 * (strings as strings, bytes as bytes), so the index reads the same
 * through `silt` itself; see the README for the empty-key mapping.
 */
export class SiltLevel<KDefault = string, VDefault = string> extends AbstractLevel<Key, KDefault, VDefault> {
  readonly location: string;
  private readonly resolved: ResolvedSiltLevelOptions;
  private writer: Index | undefined;
  private reader: ReadOnlyIndex | undefined;

  constructor(location: string, options?: SiltLevelOptions<KDefault, VDefault>) {
    // Checked before super(), which schedules the open.
    if (typeof location !== 'string' || location === '') throw new ValidationError('SiltLevel needs a directory: a non-empty string');
    const { readOnly, silt, ...levelOptions } = options ?? {};
    const resolved = resolveSiltLevelOptions({ readOnly, silt });
    super(MANIFEST, levelOptions);
    this.location = location;
    this.resolved = resolved;
  }

  /**
   * The silt handle underneath while the database is open (the writer
   * `Index`, or with `readOnly` the `ReadOnlyIndex`), for what
   * abstract-level has no call for: `flush()`, `stats()`, `changes()`,
   * `near()`, `fuzzy()`. Its keys are the stored ones (see `toStoredKey`):
   * the same but for the empty key and keys that start with NUL.
   */
  get index(): Index | ReadOnlyIndex | undefined {
    return this.writer ?? this.reader;
  }

  // ---- open and close ----

  async _open(options: { createIfMissing: boolean; errorIfExists: boolean }): Promise<void> {
    const { kind } = inspectDirectory(this.location, { fs: this.resolved.fs });
    const exists = kind === 'index';
    if (!exists && (this.resolved.readOnly || !options.createIfMissing)) throw new IndexMissingError(this.location);
    if (exists && options.errorIfExists) throw new IndexExistsError(this.location);
    try {
      if (this.resolved.readOnly) this.reader = await ReadOnlyIndex.open(this.location, this.resolved.openOptions);
      else this.writer = await Index.open(this.location, this.resolved.openOptions);
    } catch (error) {
      throw error instanceof LockError ? new LevelLockedError(error) : error;
    }
  }

  /** A close that fails leaves the handle in place: abstract-level then reports the database open again. */
  async _close(): Promise<void> {
    await (this.writer ?? this.reader)?.close();
    this.writer = undefined;
    this.reader = undefined;
  }

  // ---- reads ----

  _get(key: Key, options: FormatOptions): Promise<Value | undefined> {
    return Promise.resolve(this._getSync(key, options));
  }

  _getSync(key: Key, options: FormatOptions): Value | undefined {
    const value = this.readable().get(toStoredKey(key));
    return value === undefined ? undefined : valueInFormat(value, options.valueEncoding);
  }

  _getMany(keys: readonly Key[], options: FormatOptions): Promise<Array<Value | undefined>> {
    return Promise.resolve(keys.map((key) => this._getSync(key, options)));
  }

  _has(key: Key): Promise<boolean> {
    return Promise.resolve(this.readable().has(toStoredKey(key)));
  }

  _hasMany(keys: readonly Key[]): Promise<boolean[]> {
    const source = this.readable();
    return Promise.resolve(keys.map((key) => source.has(toStoredKey(key))));
  }

  _iterator(options: PrivateIteratorOptions): SiltIterator<this> {
    return new SiltIterator(this, this.readable(), options);
  }

  _keys(options: PrivateIteratorOptions): SiltKeyIterator<this> {
    return new SiltKeyIterator(this, this.readable(), options);
  }

  _values(options: PrivateIteratorOptions): SiltValueIterator<this> {
    return new SiltValueIterator(this, this.readable(), options);
  }

  // ---- writes ----

  _put(key: Key, value: Value): Promise<void> {
    return this.writable('put').set(toStoredKey(key), value);
  }

  _del(key: Key): Promise<void> {
    return this.writable('del').delete(toStoredKey(key));
  }

  _batch(operations: readonly PrivateBatchOperation[]): Promise<void> {
    const index = this.writable('batch');
    const stored: WriteOperation[] = operations.map((operation) =>
      operation.type === 'put'
        ? { type: 'put', key: toStoredKey(operation.key), value: operation.value }
        : { type: 'del', key: toStoredKey(operation.key) },
    );
    return writeOperations(index, stored);
  }

  /**
   * Deletes the range in runs of up to 10,000 keys: each run is read, then
   * deleted in one synchronous run of calls, so it is gone from reads at
   * once; the next run starts past its last key, so keys written behind the
   * clear stay and the clear ends. Not atomic as a whole (abstract-level
   * does not ask it to be).
   */
  async _clear(options: PrivateClearOptions): Promise<void> {
    const index = this.writable('clear');
    let range: LevelRange = options;
    let left = options.limit < 0 ? Infinity : options.limit;
    while (left > 0) {
      const cursor = new RangeCursor(index, range);
      const run = cursor.take(Math.min(left, CLEAR_CHUNK), ([key]) => key);
      cursor.close();
      const last = run[run.length - 1];
      if (last === undefined) return;
      await deleteKeys(index, run);
      left -= run.length;
      const past = fromStoredKey(last);
      range = options.reverse ? { ...range, lte: undefined, lt: past } : { ...range, gte: undefined, gt: past };
    }
  }

  private readable(): Index | ReadOnlyIndex {
    const open = this.writer ?? this.reader;
    if (open === undefined) throw new ClosedError('this SiltLevel database');
    return open;
  }

  private writable(operation: string): Index {
    if (this.writer !== undefined) return this.writer;
    if (this.reader !== undefined) throw new ReadOnlyLevelError(operation);
    throw new ClosedError('this SiltLevel database');
  }
}
