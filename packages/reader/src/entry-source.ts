import type { Key, KeyEncoding, LookupResult, SegmentEntry, Value } from '@silt/segments';
import type { ScanRange } from '@silt/segments/internal';

/**
 * What the merged read path needs from anything that holds entries: a
 * segment file (a `SegmentReader` opened with binary keys fits as it is) or
 * the writer's memtables. Sources are stacked newest first; the first source
 * that knows a key decides it, and a tombstone there means the key is absent.
 */

export type Lookup = LookupResult;
export type SourceEntry = SegmentEntry<Uint8Array>;

export interface EntrySource {
  /**
   * What this source says about `key` (a string stands for its UTF-8 bytes),
   * or undefined if it holds nothing for it. Strings pass through as they
   * are: a point read then allocates no buffer for its key.
   * `keyFilterPassed`: the caller asked the source's key filter already
   * (a segment's, through its stack's `StackKeyFilter`).
   */
  lookup(key: Key, keyFilterPassed?: boolean): Lookup | undefined;
  /**
   * Its entries in `range` (resolved once by the caller, `toScanRange`),
   * tombstones included, ascending by key bytes (descending if `reverse`),
   * at most `range.limit` of them.
   */
  entriesIn(range: ScanRange): Iterator<SourceEntry>;
  /**
   * Whether it holds no entry at all, for a source that often holds none
   * (a memtable, a reader's tail table): a scan then leaves it out. A
   * source without it is taken to hold entries.
   */
  isEmpty?(): boolean;
  /**
   * Its puts in `range` as `[key, value]` pairs, keys decoded as
   * `keyEncoding` says, at most `range.limit` of them: the way a scan reads
   * a source that is the only one holding entries (a segment's `pairsIn`),
   * without a merge or an entry object between it and the caller.
   */
  pairsIn?(range: ScanRange, keyEncoding: KeyEncoding): Iterator<[Key, Value]>;
}
