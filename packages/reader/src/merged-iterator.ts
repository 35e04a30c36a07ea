import { IteratorCursor, NewestWinsMerge, type ScanRange } from '@silt/segments/internal';
import type { EntrySource, SourceEntry } from './entry-source.js';

/**
 * The sources stacked newest first, merged: each key once, as the newest
 * source that holds it says (tombstones included, so callers can both skip
 * them and carry them through a merge). `range.limit` is not applied: a
 * source must not stop early on entries a newer one shadows, so the caller
 * counts what it keeps.
 */
export function* mergeSources(sources: readonly EntrySource[], range: ScanRange): Generator<SourceEntry, void, undefined> {
  const unlimited = range.limit === Infinity ? range : { ...range, limit: Infinity };
  const merge = new NewestWinsMerge(
    sources.map((source) => new IteratorCursor(source.entriesIn(unlimited))),
    range.reverse,
  );
  for (let cursor = merge.next(); cursor !== undefined; cursor = merge.next()) yield cursor.entry;
}
