/**
 * What the merged read path needs from anything that holds entries: a
 * segment file, the writer's memtables. Sources are stacked newest first;
 * the first source that knows a key decides it, and a tombstone there means
 * the key is absent.
 */

export type Lookup =
  | { readonly kind: 'put'; readonly value: Uint8Array; readonly valueIsText: boolean }
  | { readonly kind: 'tombstone' };

export interface SourceEntry {
  readonly key: Uint8Array;
  readonly kind: 'put' | 'tombstone';
  /** Empty for a tombstone. */
  readonly value: Uint8Array;
  readonly valueIsText: boolean;
}

/** Bounds on key bytes; absent bounds are open. */
export interface KeyBounds {
  readonly gte?: Uint8Array;
  readonly gt?: Uint8Array;
  readonly lte?: Uint8Array;
  readonly lt?: Uint8Array;
}

export interface EntrySource {
  /** What this source says about `key`, or undefined if it holds nothing for it. */
  lookup(key: Uint8Array): Lookup | undefined;
  /** Its entries inside `bounds`, tombstones included, ascending by key bytes (descending if `reverse`). */
  entries(bounds: KeyBounds, reverse: boolean): Iterator<SourceEntry>;
}
