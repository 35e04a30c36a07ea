import type { ChangesOptions, ChangeSubscription, FuzzyOptions, Key, NearOptions, RangeOptions, Value } from '@silt/reader';
import type { IndexStats } from './index-stats.js';
import type { PreparedOperation } from './write-batch.js';

/**
 * - `writer`: this process holds the writer lock: it owns the log, the
 *   flusher and the merges, and serves the other processes' writes.
 * - `client`: another process is the writer; writes are forwarded to it,
 *   reads are served here, and this process takes over if the writer dies.
 * - `reader`: opened with `role: 'reader'`: reads only.
 */
export type IndexRoleName = 'writer' | 'client' | 'reader';

/**
 * What an `Index` does in its process: the writer actor (it holds the
 * writer lock) or, later, a client that forwards to it. The `Index` a caller
 * holds validates and encodes every write, then hands it to its role; a
 * role serves reads its own way (a writer from its memtables and segments).
 */
export interface IndexRole<V = Value, K extends Key = Key> {
  readonly role: IndexRoleName;
  /**
   * Writes what `prepare` returns as one atomic log record (a single
   * operation may share its turn's record), or rejects and writes nothing.
   * `prepare` runs after the role checked it can write: a closed index says
   * so before a bad argument does.
   */
  write(prepare: () => PreparedOperation[]): Promise<void>;
  clear(options?: RangeOptions): Promise<void>;
  flush(): Promise<void>;
  forceMerge(maxSegments: number): Promise<void>;
  mergesIdle(): Promise<void>;
  /** Throws ClosedError once closing. */
  checkOpen(): void;
  get(key: Key): V | undefined;
  getMany(keys: readonly Key[]): Array<V | undefined>;
  has(key: Key): boolean;
  range(options?: RangeOptions): IterableIterator<[K, V]>;
  keys(options?: RangeOptions): IterableIterator<K>;
  values(options?: RangeOptions): IterableIterator<V>;
  iterator(options?: RangeOptions): AsyncIterableIterator<[K, V]>;
  near(key: Key, options?: NearOptions): Array<[K, V]>;
  fuzzy(key: Key, maxEdits: number, options?: FuzzyOptions): Array<[K, V]>;
  changes(options?: ChangesOptions): ChangeSubscription<V, K>;
  stats(): IndexStats;
  close(): Promise<void>;
}
