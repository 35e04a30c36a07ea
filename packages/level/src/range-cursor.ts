import type { Key, RangeOptions, Value } from 'silt';
import { toStoredKey } from './stored-keys.js';

/** What a cursor reads from: the writer (`Index`) and `ReadOnlyIndex` both have it. */
export interface RangeSource {
  range(options?: RangeOptions): IterableIterator<[Key, Value]>;
}

/** The range options abstract-level hands a private iterator method, keys already encoded. */
export interface LevelRange {
  readonly gt?: Key;
  readonly gte?: Key;
  readonly lt?: Key;
  readonly lte?: Key;
  readonly reverse: boolean;
}

interface Bound {
  readonly key: Key;
  readonly inclusive: boolean;
}

/**
 * An abstract-level range over silt's `range()`, in stored keys, with
 * `seek`: a seek starts a new silt range whose near bound is the target
 * when that is tighter than the original bound, so a seek never leaves the
 * original range. The count and `limit` are abstract-level's to keep.
 */
export class RangeCursor {
  private readonly lower: Bound | undefined;
  private readonly upper: Bound | undefined;
  private readonly reverse: boolean;
  private entries: IterableIterator<[Key, Value]>;

  constructor(
    private readonly source: RangeSource,
    range: LevelRange,
  ) {
    this.lower = boundOf(range.gte, range.gt);
    this.upper = boundOf(range.lte, range.lt);
    this.reverse = range.reverse;
    this.entries = this.open(this.lower, this.upper);
  }

  /** The next [stored key bytes, value], or undefined at the end. */
  next(): [Uint8Array, Value] | undefined {
    const result = this.entries.next();
    // The index is opened with keyEncoding 'binary': its keys are bytes.
    return result.done === true ? undefined : (result.value as [Uint8Array, Value]);
  }

  /** Up to `count` entries, mapped; fewer at the end. */
  take<T>(count: number, map: (entry: [Uint8Array, Value]) => T): T[] {
    const items: T[] = [];
    while (items.length < count) {
      const entry = this.next();
      if (entry === undefined) break;
      items.push(map(entry));
    }
    return items;
  }

  /** Moves to the first key at or past `target` (at or before it in reverse). */
  seek(target: Key): void {
    const to: Bound = { key: toStoredKey(target), inclusive: true };
    this.entries.return?.();
    this.entries = this.reverse ? this.open(this.lower, tighterUpper(this.upper, to)) : this.open(tighterLower(this.lower, to), this.upper);
  }

  close(): void {
    this.entries.return?.();
  }

  private open(lower: Bound | undefined, upper: Bound | undefined): IterableIterator<[Key, Value]> {
    const options: { gt?: Key; gte?: Key; lt?: Key; lte?: Key; reverse: boolean } = { reverse: this.reverse };
    if (lower !== undefined) options[lower.inclusive ? 'gte' : 'gt'] = lower.key;
    if (upper !== undefined) options[upper.inclusive ? 'lte' : 'lt'] = upper.key;
    return this.source.range(options);
  }
}

/**
 * One bound from an inclusive and a strict option. When a caller gives both,
 * the inclusive one counts, as abstract-level's test suite asks (`gte` over
 * `gt`, `lte` over `lt`).
 */
function boundOf(inclusive: Key | undefined, strict: Key | undefined): Bound | undefined {
  if (inclusive !== undefined) return { key: toStoredKey(inclusive), inclusive: true };
  if (strict !== undefined) return { key: toStoredKey(strict), inclusive: false };
  return undefined;
}

function tighterLower(bound: Bound | undefined, target: Bound): Bound {
  return bound === undefined || compareKeys(target.key, bound.key) > 0 ? target : bound;
}

function tighterUpper(bound: Bound | undefined, target: Bound): Bound {
  return bound === undefined || compareKeys(target.key, bound.key) < 0 ? target : bound;
}

/** Byte order, as silt sorts keys (a string by its UTF-8 bytes). */
function compareKeys(a: Key, b: Key): number {
  return Buffer.compare(bytesOf(a), bytesOf(b));
}

function bytesOf(key: Key): Uint8Array {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
}
