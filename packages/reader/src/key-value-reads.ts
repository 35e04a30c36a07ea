import { type Key, type KeyEncoding, type Value } from '@silt/segments';
import { ValidationError } from '@silt/fs';
import { checkKey, decodeKey, describeType, encodeKey } from '@silt/segments/internal';
import type { SourceEntry } from './entry-source.js';
import type { MergedView } from './merged-view.js';
import { valueTranscoder, type ValueTranscoder } from './value-encoding.js';
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
export class KeyValueReads<V = Value, K extends Key = Key> {
  /** The value encoding's decode (undefined: values as stored), for the owner's change feed too. */
  readonly decode: ((stored: Value) => V) | undefined;

  /**
   * @param currentView called on every read: throws if the owner is closed,
   *   else returns the view to read (an iterator keeps the one it started with).
   * @param values the value encoding values are read back through (default: as stored).
   */
  constructor(
    private readonly keyEncoding: KeyEncoding,
    private readonly currentView: () => MergedView,
    values: ValueTranscoder<V> = valueTranscoder<V>(undefined),
  ) {
    this.decode = values.decode;
  }

  get(key: Key): V | undefined {
    const stored = this.currentView().get(checkKey(key))?.value;
    return stored === undefined || this.decode === undefined ? (stored as V | undefined) : this.decode(stored);
  }

  /**
   * The values of `keys`, in their order (undefined where absent), all read
   * from one view: a write or refresh cannot land between two of them.
   */
  getMany(keys: readonly Key[]): Array<V | undefined> {
    if (!Array.isArray(keys)) throw new ValidationError(`getMany takes an array of keys, got ${describeType(keys)}`);
    const view = this.currentView();
    const decode = this.decode;
    const values = new Array<V | undefined>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const stored = view.get(checkManyKey(keys[i], i))?.value;
      values[i] = stored === undefined || decode === undefined ? (stored as V | undefined) : decode(stored);
    }
    return values;
  }

  /** Whether `key` is live; its value is not decoded (a value its encoding cannot read is still there). */
  has(key: Key): boolean {
    return this.currentView().get(checkKey(key)) !== undefined;
  }

  /**
   * Live entries in key order (or reverse) within the bounds. The iterator
   * reads the view of the moment it was made; changes made while it runs
   * may or may not appear in it.
   */
  range(options?: RangeOptions): IterableIterator<[K, V]> {
    const view = this.currentView();
    const pairs = view.pairs(toIndexScanRange(options), this.keyEncoding);
    const decode = this.decode;
    return decode === undefined ? (pairs as IterableIterator<[K, V]>) : new DecodedValues(pairs as Iterator<[K, Value]>, decode);
  }

  /** The keys `range(options)` would give, without reading back their values. */
  keys(options?: RangeOptions): IterableIterator<K> {
    const view = this.currentView();
    return this.keysOf(view.range(toIndexScanRange(options)));
  }

  /** The values `range(options)` would give, in key order. */
  values(options?: RangeOptions): IterableIterator<V> {
    return valuesOf(this.range(options));
  }

  /** Keys sharing the longest prefix with `key` (keyvi's GetNear), with their values. */
  near(key: Key, options?: NearOptions): Array<[K, V]> {
    const view = this.currentView();
    return this.pairsOf(view.near(encodeKey(key), toIndexNearOptions(options)));
  }

  /** Keys within `maxEdits` edits (Levenshtein, by character) of `key` (keyvi's GetFuzzy), in key order. */
  fuzzy(key: Key, maxEdits: number, options?: FuzzyOptions): Array<[K, V]> {
    const view = this.currentView();
    const { query, maxEdits: edits } = fuzzyQuery(key, maxEdits);
    const matches = view.fuzzy(query, edits, toFuzzyOptions(options));
    return this.pairsOf(matches.map((match) => match.entry));
  }

  /** A key as `keyEncoding` hands it back; `K` is what the owner's options say that is (`KeyOf`). */
  private keyOf(bytes: Uint8Array): K {
    return decodeKey(bytes, this.keyEncoding) as K;
  }

  private *keysOf(entries: Iterable<SourceEntry>): Generator<K, undefined, undefined> {
    for (const entry of entries) yield this.keyOf(entry.key);
  }

  /** The puts among `entries` as decoded `[key, value]` pairs. */
  private pairsOf(entries: readonly SourceEntry[]): Array<[K, V]> {
    const pairs: Array<[K, V]> = [];
    for (const entry of entries) {
      if (entry.kind !== 'put') continue;
      pairs.push([this.keyOf(entry.key), this.decode === undefined ? (entry.value as V) : this.decode(entry.value)]);
    }
    return pairs;
  }
}

function* valuesOf<V>(pairs: Iterable<[Key, V]>): Generator<V, undefined, undefined> {
  for (const [, value] of pairs) yield value;
}

/** A key of `getMany`, its position named in a refusal. */
function checkManyKey(key: unknown, position: number): Key {
  try {
    return checkKey(key);
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError(`getMany key #${position}: ${error.message}`);
    throw error;
  }
}

/** Pairs with their values decoded through the value encoding. */
class DecodedValues<K extends Key, V> implements IterableIterator<[K, V]> {
  constructor(
    private readonly pairs: Iterator<[K, Value]>,
    private readonly decode: (stored: Value) => V,
  ) {}

  next(): IteratorResult<[K, V]> {
    const result = this.pairs.next();
    if (result.done === true) return { done: true, value: undefined };
    const [key, stored] = result.value;
    return { done: false, value: [key, this.decode(stored)] };
  }

  return(): IteratorResult<[K, V]> {
    this.pairs.return?.();
    return { done: true, value: undefined };
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this;
  }
}
