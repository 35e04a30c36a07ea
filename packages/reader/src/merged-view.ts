import type { EntrySource, Lookup, SourceEntry } from './entry-source.js';
import { type Key, type KeyEncoding, type Value } from '@silt/segments';
import {
  decodeKey,
  FULL_SCAN,
  prefixScanRange,
  sharedPrefixLength,
  storedKeyHash,
  utf8Boundary,
  type ScanRange,
} from '@silt/segments/internal';
import type { StackKeyFilter } from '@silt/segments/internal';
import type { ResolvedNearOptions } from '@silt/segments';
import { mergeSources } from './merged-iterator.js';
import { SortedEditDistance } from './edit-distance.js';
import type { ResolvedFuzzyOptions } from './read-options.js';

export interface FuzzyMatch {
  readonly entry: SourceEntry;
  readonly distance: number;
}

const utf8 = new TextDecoder();

/**
 * The segments at the end of a view's sources, with their stack's key
 * filter (a `SegmentStack`). The filter is asked for at the first get, not
 * when the view is made: building it touches fresh memory (a few ms for
 * dozens of small segments on this VM), which a writer that does not read
 * should not pay at every flush.
 */
export interface FilteredSegments {
  readonly segmentCount: number;
  readonly keyFilter: StackKeyFilter | undefined;
}

/**
 * The read path over a stack of sources, newest first: the writer's
 * memtables over its segments, or a reader's snapshot of one generation.
 * Every read method of Index and ReadOnlyIndex is this one piece of code.
 */
export class MergedView {
  /** Sources before the segments (memtables, a reader's tail table): asked about every key. */
  private readonly unfiltered: number;

  constructor(
    readonly sources: readonly EntrySource[],
    /** The last `segments.segmentCount` sources and their stack's key filter. */
    private readonly segments?: FilteredSegments,
  ) {
    this.unfiltered = sources.length - (segments?.segmentCount ?? 0);
  }

  /** The live value of `key`, or undefined if it is absent or deleted. */
  get(key: Key): Extract<Lookup, { kind: 'put' }> | undefined {
    const sources = this.sources;
    const filter = this.segments?.keyFilter;
    const unfiltered = filter === undefined ? sources.length : this.unfiltered;
    for (let i = 0; i < unfiltered; i++) {
      const found = sources[i]!.lookup(key);
      if (found !== undefined) return found.kind === 'put' ? found : undefined;
    }
    if (filter === undefined) return undefined;
    const hash = storedKeyHash(key);
    if (hash < 0) return undefined; // longer than any stored key
    for (let i = filter.nextHolder(0, hash); i < filter.length; i = filter.nextHolder(i + 1, hash)) {
      const found = sources[unfiltered + i]!.lookup(key, true);
      if (found !== undefined) return found.kind === 'put' ? found : undefined;
    }
    return undefined;
  }

  /**
   * Live entries in key order (or reverse), tombstones resolved and skipped,
   * at most `range.limit` of them. The range is resolved once, by the caller
   * (`toScanRange`), for every source.
   */
  range(range: ScanRange = FULL_SCAN): IterableIterator<SourceEntry> {
    return new LiveEntries(this.sources, range);
  }

  /**
   * `range`'s live entries as `[key, value]` pairs, keys decoded as
   * `keyEncoding` says. Where one segment is the only source holding
   * entries when the first pair is asked for (a compacted index whose
   * memtables are empty), it is read alone through its `pairsIn`: no merge,
   * no entry object, and each key decoded once straight from its block
   * rather than copied out and the copy decoded (a cold full scan of 1 M
   * entries went from 1.93–2.00 to 2.26–2.39 M entries/s here).
   */
  pairs(range: ScanRange, keyEncoding: KeyEncoding): IterableIterator<[Key, Value]> {
    return new LivePairs(this, range, keyEncoding);
  }

  /** The source a scan can read alone: the only segment, when every source above it is empty and it can hand out pairs. */
  soleSource(): PairsSource | undefined {
    if (this.segments?.segmentCount !== 1) return undefined;
    for (let i = 0; i < this.unfiltered; i++) if (this.sources[i]!.isEmpty?.() !== true) return undefined;
    const sole = this.sources[this.unfiltered]!;
    return sole.pairsIn === undefined ? undefined : (sole as PairsSource);
  }

  /**
   * Keys sharing the longest common prefix with `key` (keyvi's GetNear). The
   * longest prefix any live key shares is found at the live neighbours of
   * `key` in key order, so two one-entry seeks find it. The options come
   * resolved (`nearOptions`), with the caller's default limit.
   */
  near(key: Uint8Array, options: ResolvedNearOptions): SourceEntry[] {
    const { minPrefix, limit } = options;
    const longest = this.longestSharedPrefix(key);
    if (longest < minPrefix || limit <= 0) return [];
    const results: SourceEntry[] = [];
    let covered: Uint8Array | undefined;
    for (let length = longest; length >= minPrefix && results.length < limit; length--) {
      const prefix = key.subarray(0, utf8Boundary(key, length));
      if (prefix.length !== length) continue;
      for (const entry of this.range(prefixScanRange(prefix))) {
        if (covered !== undefined && sharedPrefixLength(entry.key, covered) === covered.length) continue;
        results.push(entry);
        if (results.length >= limit) break;
      }
      if (options.greedy !== true) break;
      covered = prefix;
    }
    return results;
  }

  /** Keys within `maxEdits` edits of `query` (keyvi's GetFuzzy), in key order. The options come resolved (`toFuzzyOptions`). */
  fuzzy(query: string, maxEdits: number, options: ResolvedFuzzyOptions): FuzzyMatch[] {
    const limit = options.limit;
    const prefix = new TextEncoder().encode([...query].slice(0, options.minPrefix).join(''));
    const matcher = new SortedEditDistance(query, maxEdits);
    const matches: FuzzyMatch[] = [];
    for (const entry of this.range(prefixScanRange(prefix))) {
      const distance = matcher.distance(utf8.decode(entry.key));
      if (distance === undefined) continue;
      matches.push({ entry, distance });
      if (matches.length >= limit) break;
    }
    return matches;
  }

  private longestSharedPrefix(key: Uint8Array): number {
    let longest = -1;
    for (const entry of this.range({ lower: { key, inclusive: true }, upper: undefined, reverse: false, limit: 1 }))
      longest = sharedPrefixLength(key, entry.key);
    for (const entry of this.range({ lower: undefined, upper: { key, inclusive: false }, reverse: true, limit: 1 })) {
      longest = Math.max(longest, sharedPrefixLength(key, entry.key));
    }
    return longest < 0 ? -1 : utf8Boundary(key, longest);
  }
}

const DONE: IteratorResult<SourceEntry> = Object.freeze({ done: true, value: undefined });

/**
 * `MergedView.range` as a plain iterator rather than a generator: each
 * result object of the merge passes through as it is, which a full scan
 * does a million times. Nothing is read before the first `next()`.
 */
class LiveEntries implements IterableIterator<SourceEntry> {
  private merged: Iterator<SourceEntry> | undefined;
  /** Live entries still to hand over: the limit counts merged entries, so mergeSources gives the sources none. */
  private left: number;

  constructor(
    private readonly sources: readonly EntrySource[],
    private readonly scanRange: ScanRange,
  ) {
    this.left = scanRange.limit;
  }

  next(): IteratorResult<SourceEntry> {
    if (this.left <= 0) return this.return();
    const merged = (this.merged ??= mergeSources(this.sources, this.scanRange));
    for (;;) {
      const result = merged.next();
      if (result.done === true) return this.finish();
      if (result.value.kind === 'tombstone') continue;
      this.left--;
      return result;
    }
  }

  return(): IteratorResult<SourceEntry> {
    const merged = this.merged;
    this.finish();
    merged?.return?.();
    return DONE;
  }

  [Symbol.iterator](): IterableIterator<SourceEntry> {
    return this;
  }

  private finish(): IteratorResult<SourceEntry> {
    this.left = 0;
    this.merged = undefined;
    return DONE;
  }
}

/**
 * `MergedView.pairs`: nothing is read, and no path chosen, before the first
 * `next()`, as with `range`.
 */
class LivePairs implements IterableIterator<[Key, Value]> {
  private pairs: Iterator<[Key, Value]> | undefined;

  constructor(
    private readonly view: MergedView,
    private readonly scanRange: ScanRange,
    private readonly keyEncoding: KeyEncoding,
  ) {}

  next(): IteratorResult<[Key, Value]> {
    return (this.pairs ??= this.start()).next();
  }

  return(): IteratorResult<[Key, Value]> {
    const pairs = this.pairs;
    this.pairs = FINISHED_PAIRS;
    pairs?.return?.();
    return DONE_PAIRS;
  }

  [Symbol.iterator](): IterableIterator<[Key, Value]> {
    return this;
  }

  private start(): Iterator<[Key, Value]> {
    const sole = this.view.soleSource();
    if (sole !== undefined) return sole.pairsIn(this.scanRange, this.keyEncoding);
    return new DecodedEntries(this.view.range(this.scanRange), this.keyEncoding);
  }
}

/** A source that hands out pairs itself (a segment). */
type PairsSource = EntrySource & Required<Pick<EntrySource, 'pairsIn'>>;

const DONE_PAIRS: IteratorResult<[Key, Value]> = Object.freeze({ done: true, value: undefined });
const FINISHED_PAIRS: Iterator<[Key, Value]> = { next: () => DONE_PAIRS };

/** The puts among `entries` as `[key, value]` pairs, keys decoded. */
class DecodedEntries implements Iterator<[Key, Value]> {
  constructor(
    private readonly entries: Iterator<SourceEntry>,
    private readonly keyEncoding: KeyEncoding,
  ) {}

  next(): IteratorResult<[Key, Value]> {
    for (;;) {
      const result = this.entries.next();
      if (result.done === true) return DONE_PAIRS;
      const entry = result.value;
      if (entry.kind === 'put') return { done: false, value: [decodeKey(entry.key, this.keyEncoding), entry.value] };
    }
  }

  return(): IteratorResult<[Key, Value]> {
    this.entries.return?.();
    return DONE_PAIRS;
  }
}
