import { IteratorCursor, NewestWinsMerge, type ScanRange } from '@silt/segments/internal';
import type { EntrySource, SourceEntry } from './entry-source.js';

/**
 * The sources stacked newest first, merged: each key once, as the newest
 * source that holds it says (tombstones included, so callers can both skip
 * them and carry them through a merge). `range.limit` is not applied: a
 * source must not stop early on entries a newer one shadows, so the caller
 * counts what it keeps. Each source's first entry is read at the call.
 */
export function mergeSources(sources: readonly EntrySource[], range: ScanRange): IterableIterator<SourceEntry> {
  const unlimited = range.limit === Infinity ? range : { ...range, limit: Infinity };
  const cursors = sources.map((source) => new IteratorCursor(source.entriesIn(unlimited)));
  const merge = new NewestWinsMerge(cursors, range.reverse);
  return merge.soleStream()?.remaining() ?? newestEntries(merge, cursors);
}

/** The merge's entries; left early, it closes every source's iterator. */
function* newestEntries(
  merge: NewestWinsMerge<IteratorCursor<SourceEntry>>,
  cursors: ReadonlyArray<IteratorCursor<SourceEntry>>,
): Generator<SourceEntry, void, undefined> {
  try {
    for (let cursor = merge.next(); cursor !== undefined; cursor = merge.next()) yield cursor.entry;
  } finally {
    for (const cursor of cursors) cursor.close();
  }
}
