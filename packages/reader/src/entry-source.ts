import type { Key, LookupResult, SegmentEntry } from '@silt/segments';

/**
 * What the merged read path needs from anything that holds entries: a
 * segment file (a `SegmentReader` opened with binary keys fits as it is) or
 * the writer's memtables. Sources are stacked newest first; the first source
 * that knows a key decides it, and a tombstone there means the key is absent.
 */

export type Lookup = LookupResult;
export type SourceEntry = SegmentEntry<Uint8Array>;

/** Bounds on key bytes; absent bounds are open. `prefix` intersects with the others. */
export interface SourceRange {
  readonly gte?: Uint8Array;
  readonly gt?: Uint8Array;
  readonly lte?: Uint8Array;
  readonly lt?: Uint8Array;
  readonly prefix?: Uint8Array;
  readonly reverse?: boolean;
}

export interface EntrySource {
  /**
   * What this source says about `key` (a string stands for its UTF-8 bytes),
   * or undefined if it holds nothing for it. Strings pass through as they
   * are: a point read then allocates no buffer for its key.
   */
  lookup(key: Key): Lookup | undefined;
  /** Its entries in `range`, tombstones included, ascending by key bytes (descending if `reverse`). */
  entries(range: SourceRange): Iterator<SourceEntry>;
}
