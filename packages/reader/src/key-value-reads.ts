import { type Key, type KeyEncoding, type Value } from '@silt/segments';
import { checkKey, decodeKey, encodeKey } from '@silt/segments/internal';
import type { SourceEntry } from './entry-source.js';
import type { MergedView } from './merged-view.js';
import {
  fuzzyQuery,
  toFuzzyOptions,
  toIndexNearOptions,
  toIndexScanRange,
  type FuzzyOptions,
  type NearOptions,
  type RangeOptions,
} from './read-options.js';

/**
 * The public read calls (`get`, `has`, `range`, `near`, `fuzzy`) over
 * whatever view the owner serves at the moment of the call: the writer's
 * memtables over its segments, or a reader's snapshot. One piece of code,
 * so `Index` and `ReadOnlyIndex` validate, encode and decode alike.
 */
export class KeyValueReads {
  /**
   * @param currentView called on every read: throws if the owner is closed,
   *   else returns the view to read (an iterator keeps the one it started with).
   */
  constructor(
    private readonly keyEncoding: KeyEncoding,
    private readonly currentView: () => MergedView,
  ) {}

  get(key: Key): Value | undefined {
    return this.currentView().get(checkKey(key))?.value;
  }

  has(key: Key): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Live entries in key order (or reverse) within the bounds. The iterator
   * reads the view of the moment it was made; changes made while it runs
   * may or may not appear in it.
   */
  range(options?: RangeOptions): IterableIterator<[Key, Value]> {
    const view = this.currentView();
    return this.pairs(view.range(toIndexScanRange(options)));
  }

  /** Keys sharing the longest prefix with `key` (keyvi's GetNear), with their values. */
  near(key: Key, options?: NearOptions): Array<[Key, Value]> {
    const view = this.currentView();
    return [...this.pairs(view.near(encodeKey(key), toIndexNearOptions(options)))];
  }

  /** Keys within `maxEdits` edits (Levenshtein, by character) of `key` (keyvi's GetFuzzy), in key order. */
  fuzzy(key: Key, maxEdits: number, options?: FuzzyOptions): Array<[Key, Value]> {
    const view = this.currentView();
    const { query, maxEdits: edits } = fuzzyQuery(key, maxEdits);
    const matches = view.fuzzy(query, edits, toFuzzyOptions(options));
    return [...this.pairs(matches.map((match) => match.entry))];
  }

  private *pairs(entries: Iterable<SourceEntry>): Generator<[Key, Value], undefined, undefined> {
    for (const entry of entries) if (entry.kind === 'put') yield [decodeKey(entry.key, this.keyEncoding), entry.value];
  }
}
