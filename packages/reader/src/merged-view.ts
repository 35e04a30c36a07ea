import type { EntrySource, Lookup, SourceEntry, SourceRange } from './entry-source.js';
import type { Key } from '@silt/segments';

/** A range read: bounds in key bytes, direction, and a limit on live results. */
export interface ByteRange extends SourceRange {
  readonly limit?: number;
}
import { mergeSources } from './merged-iterator.js';
import { sharedPrefixLength, utf8Boundary } from './key-bytes.js';
import { SortedEditDistance } from './edit-distance.js';

export interface NearOptions {
  /** Fewest leading bytes a result must share with the query (default 0). */
  readonly minPrefix?: number;
  /** Most results (default 10). */
  readonly limit?: number;
  /** Also return keys sharing shorter prefixes, longest first, until `limit` (keyvi's greedy GetNear). */
  readonly greedy?: boolean;
}

export interface FuzzyOptions {
  /** Leading characters that must match exactly; bounds the scan (default 0). */
  readonly minPrefix?: number;
  /** Most results (default unlimited). */
  readonly limit?: number;
}

export interface FuzzyMatch {
  readonly entry: SourceEntry;
  readonly distance: number;
}

const utf8 = new TextDecoder();

/**
 * The read path over a stack of sources, newest first: the writer's
 * memtables over its segments, or a reader's snapshot of one generation.
 * Every read method of Index and ReadOnlyIndex is this one piece of code.
 */
export class MergedView {
  constructor(readonly sources: readonly EntrySource[]) {}

  /** The live value of `key`, or undefined if it is absent or deleted. */
  get(key: Key): Extract<Lookup, { kind: 'put' }> | undefined {
    for (const source of this.sources) {
      const found = source.lookup(key);
      if (found !== undefined) return found.kind === 'put' ? found : undefined;
    }
    return undefined;
  }

  /** Live entries in key order (or reverse), tombstones resolved and skipped. */
  *range(range: ByteRange = {}): Generator<SourceEntry, void, undefined> {
    const { limit = Infinity, ...bounds } = range;
    if (limit <= 0) return;
    let yielded = 0;
    // The limit counts live merged entries: a source must not stop early on entries a newer one shadows.
    for (const entry of mergeSources(this.sources, bounds)) {
      if (entry.kind === 'tombstone') continue;
      yield entry;
      if (++yielded >= limit) return;
    }
  }

  /**
   * Keys sharing the longest common prefix with `key` (keyvi's GetNear). The
   * longest prefix any live key shares is found at the live neighbours of
   * `key` in key order, so two one-entry seeks find it.
   */
  near(key: Uint8Array, options: NearOptions = {}): SourceEntry[] {
    const minPrefix = options.minPrefix ?? 0;
    const limit = options.limit ?? 10;
    const longest = this.longestSharedPrefix(key);
    if (longest < minPrefix || limit <= 0) return [];
    const results: SourceEntry[] = [];
    let covered: Uint8Array | undefined;
    for (let length = longest; length >= minPrefix && results.length < limit; length--) {
      const prefix = key.subarray(0, utf8Boundary(key, length));
      if (prefix.length !== length) continue;
      for (const entry of this.range({ prefix })) {
        if (covered !== undefined && sharedPrefixLength(entry.key, covered) === covered.length) continue;
        results.push(entry);
        if (results.length >= limit) break;
      }
      if (options.greedy !== true) break;
      covered = prefix;
    }
    return results;
  }

  /** Keys within `maxEdits` edits of `query` (keyvi's GetFuzzy), in key order. */
  fuzzy(query: string, maxEdits: number, options: FuzzyOptions = {}): FuzzyMatch[] {
    const limit = options.limit ?? Infinity;
    const prefix = new TextEncoder().encode([...query].slice(0, options.minPrefix ?? 0).join(''));
    const matcher = new SortedEditDistance(query, maxEdits);
    const matches: FuzzyMatch[] = [];
    for (const entry of this.range({ prefix })) {
      const distance = matcher.distance(utf8.decode(entry.key));
      if (distance === undefined) continue;
      matches.push({ entry, distance });
      if (matches.length >= limit) break;
    }
    return matches;
  }

  private longestSharedPrefix(key: Uint8Array): number {
    let longest = -1;
    for (const entry of this.range({ gte: key, limit: 1 })) longest = sharedPrefixLength(key, entry.key);
    for (const entry of this.range({ lt: key, reverse: true, limit: 1 })) {
      longest = Math.max(longest, sharedPrefixLength(key, entry.key));
    }
    return longest < 0 ? -1 : utf8Boundary(key, longest);
  }
}
