import { NewestWinsMerge } from '@silt/segments/internal';
import type { EntrySource, SourceEntry, SourceRange } from './entry-source.js';

/**
 * The sources stacked newest first, merged: each key once, as the newest
 * source that holds it says (tombstones included, so callers can both skip
 * them and carry them through a merge).
 */
export function* mergeSources(sources: readonly EntrySource[], range: SourceRange): Generator<SourceEntry, void, undefined> {
  const merge = new NewestWinsMerge(
    sources.map((source) => source.entries(range)),
    range.reverse === true,
  );
  for (let entry = merge.next(); entry !== undefined; entry = merge.next()) yield entry;
}
