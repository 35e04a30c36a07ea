import assert from 'node:assert/strict';
import type { Key, Value } from '../key-bytes.js';
import type { NearOptions } from '../near.js';
import { toScanRange, type RangeOptions } from '../range-options.js';
import type { SegmentInput } from '../segment-builder.js';
import type { LookupResult, SegmentEntry, SegmentReader } from '../segment-reader.js';
import { keyBytesOf } from './segment-fixtures.js';

/**
 * The straightforward model every reader method is checked against: an
 * array of entries in key order, searched linearly.
 */

export interface ModelEntry {
  readonly key: Uint8Array;
  readonly kind: 'put' | 'tombstone';
  readonly value?: Value;
}

/** The model of what a segment built from `inputs` holds. Strings come back as their UTF-8 round trip (a lone surrogate becomes U+FFFD). */
export function toModelEntries(inputs: readonly SegmentInput[]): ModelEntry[] {
  return inputs.map((input) =>
    input.kind === 'put'
      ? {
          key: keyBytesOf(input.key),
          kind: 'put',
          value: typeof input.value === 'string' ? Buffer.from(input.value, 'utf8').toString('utf8') : input.value,
        }
      : { key: keyBytesOf(input.key), kind: 'tombstone' },
  );
}

const order = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b);

function commonPrefix(a: Uint8Array, b: Uint8Array): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
  return key.length >= prefix.length && commonPrefix(key, prefix) === prefix.length;
}

export class SegmentModel {
  constructor(readonly entries: readonly ModelEntry[]) {}

  lookup(key: Key): LookupResult | undefined {
    const bytes = keyBytesOf(key);
    const entry = this.entries.find((candidate) => order(candidate.key, bytes) === 0);
    if (entry === undefined) return undefined;
    return entry.kind === 'put' ? { kind: 'put', value: entry.value! } : { kind: 'tombstone' };
  }

  get(key: Key): Value | undefined {
    const found = this.lookup(key);
    return found?.kind === 'put' ? found.value : undefined;
  }

  getAll(key: Key): Value[] {
    const bytes = keyBytesOf(key);
    return this.entries.filter((entry) => entry.kind === 'put' && order(entry.key, bytes) === 0).map((entry) => entry.value!);
  }

  entriesIn(options: RangeOptions = {}): ModelEntry[] {
    const inRange = this.entries.filter((entry) => {
      const key = entry.key;
      if (options.gte !== undefined && order(key, keyBytesOf(options.gte)) < 0) return false;
      if (options.gt !== undefined && order(key, keyBytesOf(options.gt)) <= 0) return false;
      if (options.lte !== undefined && order(key, keyBytesOf(options.lte)) > 0) return false;
      if (options.lt !== undefined && order(key, keyBytesOf(options.lt)) >= 0) return false;
      if (options.prefix !== undefined && !startsWith(key, keyBytesOf(options.prefix))) return false;
      return true;
    });
    const ordered = options.reverse === true ? inRange.reverse() : inRange;
    return ordered.slice(0, options.limit ?? Infinity);
  }

  range(options: RangeOptions = {}): ModelEntry[] {
    const puts = new SegmentModel(this.entries.filter((entry) => entry.kind === 'put'));
    return puts.entriesIn(options);
  }

  near(key: Key, options: NearOptions = {}): ModelEntry[] {
    const query = keyBytesOf(key);
    const puts = this.entries.filter((entry) => entry.kind === 'put').map((entry) => ({ entry, shared: commonPrefix(entry.key, query) }));
    if (puts.length === 0) return [];
    const longest = Math.max(...puts.map((candidate) => candidate.shared));
    const minPrefix = options.minPrefix ?? 0;
    if (longest < minPrefix) return [];
    const chosen =
      options.greedy === true
        ? puts.filter((candidate) => candidate.shared >= minPrefix).sort((a, b) => b.shared - a.shared)
        : puts.filter((candidate) => candidate.shared === longest);
    return chosen.map((candidate) => candidate.entry).slice(0, options.limit ?? Infinity);
  }

  closestKey(key: Key): Uint8Array | undefined {
    const bytes = keyBytesOf(key);
    return this.entries.find((entry) => entry.kind === 'put' && order(entry.key, bytes) >= 0)?.key;
  }
}

export interface ModelQueries {
  readonly keys: readonly Key[];
  readonly ranges: readonly RangeOptions[];
  readonly nears: ReadonlyArray<{ readonly key: Key; readonly options: NearOptions }>;
}

const asEntry = (entry: ModelEntry): SegmentEntry<Uint8Array> =>
  entry.kind === 'put' ? { key: entry.key, kind: 'put', value: entry.value! } : { key: entry.key, kind: 'tombstone' };
const asPair = (entry: ModelEntry): [Uint8Array, Value] => [entry.key, entry.value!];
const plain = (key: Uint8Array): Uint8Array => new Uint8Array(key);

/** Asserts that every read method of a binary-keyed reader agrees with the model on every query. */
export function assertReaderMatchesModel(reader: SegmentReader<Uint8Array>, model: SegmentModel, queries: ModelQueries): void {
  for (const key of queries.keys) {
    const what = `key ${Buffer.from(keyBytesOf(key)).toString('hex')}`;
    assert.deepStrictEqual(reader.lookup(key), model.lookup(key), `lookup ${what}`);
    assert.deepStrictEqual(reader.get(key), model.get(key), `get ${what}`);
    assert.equal(reader.has(key), model.get(key) !== undefined, `has ${what}`);
    assert.deepStrictEqual(reader.getAll(key), model.getAll(key), `getAll ${what}`);
    const closest = reader.closestKey(key);
    const expected = model.closestKey(key);
    assert.deepStrictEqual(
      closest === undefined ? undefined : plain(closest),
      expected === undefined ? undefined : plain(expected),
      `closestKey ${what}`,
    );
  }
  for (const options of queries.ranges) {
    const what = describeOptions(options);
    assert.deepStrictEqual(normalizeEntries([...reader.entries(options)]), model.entriesIn(options).map(asEntry), `entries ${what}`);
    const pairs = model.range(options).map(asPair);
    assert.deepStrictEqual(normalizePairs([...reader.range(options)]), pairs, `range ${what}`);
    const resolved = toScanRange(options);
    assert.deepStrictEqual(
      normalizePairs([...reader.pairsIn(resolved, 'binary')] as Array<[Uint8Array, Value]>),
      pairs,
      `pairsIn binary ${what}`,
    );
    const asText = pairs.map(([key, value]): [Key, Value] => [Buffer.from(key).toString('utf8'), value]);
    assert.deepStrictEqual([...reader.pairsIn(resolved, 'utf8')], asText, `pairsIn utf8 ${what}`);
  }
  for (const { key, options } of queries.nears) {
    const what = `near ${Buffer.from(keyBytesOf(key)).toString('hex')} ${JSON.stringify(options)}`;
    assert.deepStrictEqual(normalizePairs([...reader.near(key, options)]), model.near(key, options).map(asPair), what);
  }
}

function normalizeEntries(entries: SegmentEntry<Uint8Array>[]): SegmentEntry<Uint8Array>[] {
  return entries.map((entry) => ({ ...entry, key: plain(entry.key) }));
}

function normalizePairs(pairs: [Uint8Array, Value][]): [Uint8Array, Value][] {
  return pairs.map(([key, value]) => [plain(key), value]);
}

function describeOptions(options: RangeOptions): string {
  return JSON.stringify(options, (_name, value: unknown) =>
    value instanceof Uint8Array ? `0x${Buffer.from(value).toString('hex')}` : value,
  );
}
