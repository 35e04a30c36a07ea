import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MergedView } from './merged-view.js';
import { mergeSources } from './merged-iterator.js';
import { ArraySource, put, tombstone } from './test-support/array-source.js';
import type { Lookup, SourceEntry } from './entry-source.js';
import type { Key, KeyEncoding, Value } from '@silt/segments';
import { codePoints } from './edit-distance.js';
import { decodeKey, FULL_SCAN, sharedPrefixLength, toScanRange, utf8Boundary, type ScanRange } from '@silt/segments/internal';
import { toIndexNearOptions, type ResolvedFuzzyOptions } from './read-options.js';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const keysOf = (entries: Iterable<SourceEntry>): string[] => [...entries].map((entry) => text(entry.key));

function view(...layers: SourceEntry[][]): MergedView {
  return new MergedView(layers.map((layer) => new ArraySource(layer)));
}

const encode = (key: string): Uint8Array => new TextEncoder().encode(key);
/** The view's fuzzy options, resolved: no prefix and no limit unless given. */
const fuzzyOptions = (given: Partial<ResolvedFuzzyOptions> = {}): ResolvedFuzzyOptions => ({ minPrefix: 0, limit: Infinity, ...given });

test('a newer source shadows an older one, and a newer tombstone hides the key', () => {
  const v = view([put('a', 'new'), tombstone('b')], [put('a', 'old'), put('b', 'old'), put('c', 'old')]);
  assert.equal(v.get(encode('a'))!.value, 'new');
  assert.equal(v.get(encode('b')), undefined);
  assert.equal(v.get(encode('c'))!.value, 'old');
  assert.equal(v.get(encode('zz')), undefined);
  assert.deepEqual(keysOf(v.range()), ['a', 'c']);
  assert.deepEqual(keysOf(mergeSources(v.sources, FULL_SCAN)), ['a', 'b', 'c'], 'the merge itself keeps the tombstone');
});

test('range honours bounds, prefix, reverse and limit together', () => {
  const v = view([put('app', '1'), put('apple', '2'), put('apply', '3'), put('b', '4'), put('ap', '5')]);
  assert.deepEqual(keysOf(v.range(toScanRange({ prefix: encode('app') }))), ['app', 'apple', 'apply']);
  assert.deepEqual(keysOf(v.range(toScanRange({ prefix: encode('app'), reverse: true, limit: 2 }))), ['apply', 'apple']);
  assert.deepEqual(keysOf(v.range(toScanRange({ gt: encode('app'), lt: encode('b') }))), ['apple', 'apply']);
  assert.deepEqual(keysOf(v.range(toScanRange({ gte: encode('apple'), lte: encode('b') }))), ['apple', 'apply', 'b']);
  assert.deepEqual(keysOf(v.range(toScanRange({ limit: 0 }))), []);
});

test('near returns the keys that share the longest prefix with the query', () => {
  const v = view([put('abcd', '1'), put('abce', '2'), put('abx', '3'), put('zzz', '4')], [tombstone('abcf')], [put('abcf', 'x')]);
  assert.deepEqual(keysOf(v.near(encode('abcz'), toIndexNearOptions(undefined))), ['abcd', 'abce']);
  assert.deepEqual(keysOf(v.near(encode('abcz'), toIndexNearOptions({ greedy: true, minPrefix: 2 }))), ['abcd', 'abce', 'abx']);
  assert.deepEqual(keysOf(v.near(encode('abcz'), toIndexNearOptions({ greedy: true, limit: 3 }))), ['abcd', 'abce', 'abx']);
  assert.deepEqual(keysOf(v.near(encode('q'), toIndexNearOptions(undefined))), ['abcd', 'abce', 'abx', 'zzz']);
  assert.deepEqual(keysOf(v.near(encode('q'), toIndexNearOptions({ minPrefix: 1 }))), []);
});

test('fuzzy finds keys within the edit distance and respects the exact prefix', () => {
  const v = view([put('hello', '1'), put('help', '2'), put('hero', '3'), put('jello', '4'), put('world', '5')]);
  const found = v.fuzzy('helo', 1, fuzzyOptions()).map((m) => [text(m.entry.key), m.distance]);
  assert.deepEqual(found, [
    ['hello', 1],
    ['help', 1],
    ['hero', 1],
  ]);
  assert.deepEqual(
    v.fuzzy('helo', 2, fuzzyOptions({ minPrefix: 2 })).map((m) => text(m.entry.key)),
    ['hello', 'help', 'hero'],
  );
  assert.deepEqual(
    v.fuzzy('jelo', 1, fuzzyOptions({ minPrefix: 1 })).map((m) => text(m.entry.key)),
    ['jello'],
  );
});

function levenshtein(a: string, b: string): number {
  const x = codePoints(a);
  const y = codePoints(b);
  let row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const next = [i];
    for (let j = 1; j <= y.length; j++) next[j] = Math.min(row[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1), row[j]! + 1, next[j - 1]! + 1);
    row = next;
  }
  return row[y.length]!;
}

const keyArb = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', '\u{1F600}'), maxLength: 5 });
const layerArb = fc.array(
  fc.tuple(keyArb, fc.boolean(), fc.string({ maxLength: 3 })).map(([key, live, value]) => (live ? put(key, value) : tombstone(key))),
  { maxLength: 12 },
);

function model(layers: SourceEntry[][]): Map<string, string> {
  const resolved = new Map<string, string | null>();
  for (const layer of layers) {
    const seen = new Map<string, SourceEntry>();
    for (const entry of layer) seen.set(text(entry.key), entry);
    for (const [key, entry] of seen) if (!resolved.has(key)) resolved.set(key, entry.kind === 'put' ? String(entry.value) : null);
  }
  const live = new Map<string, string>();
  const sorted = [...resolved].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const [key, value] of sorted) if (value !== null) live.set(key, value);
  return live;
}

test('every read equals a newest-wins model over random stacks of sources', () => {
  fc.assert(
    fc.property(fc.array(layerArb, { maxLength: 4 }), keyArb, keyArb, fc.boolean(), (layers, a, b, reverse) => {
      const v = view(...layers);
      const live = model(layers);
      const keys = [...live.keys()];
      assert.deepEqual(keysOf(v.range()), keys);
      assert.deepEqual([...v.pairs(FULL_SCAN, 'utf8')], [...live], 'pairs: the live entries, keys decoded');
      for (const key of [a, b, ...keys])
        assert.equal(v.get(encode(key)) === undefined ? undefined : v.get(encode(key))!.value, live.get(key));
      const [lo, hi] = Buffer.compare(Buffer.from(a), Buffer.from(b)) <= 0 ? [a, b] : [b, a];
      const inside = keys.filter(
        (k) => Buffer.compare(Buffer.from(k), Buffer.from(lo)) >= 0 && Buffer.compare(Buffer.from(k), Buffer.from(hi)) < 0,
      );
      assert.deepEqual(keysOf(v.range(toScanRange({ gte: encode(lo), lt: encode(hi), reverse }))), reverse ? inside.reverse() : inside);
      const prefixed = keys.filter((k) => Buffer.from(k).subarray(0, Buffer.byteLength(a)).equals(Buffer.from(a)));
      assert.deepEqual(keysOf(v.range(toScanRange({ prefix: encode(a) }))), prefixed);
      const fuzzy = keys.filter((k) => levenshtein(a, k) <= 1);
      assert.deepEqual(
        v.fuzzy(a, 1, fuzzyOptions()).map((m) => text(m.entry.key)),
        fuzzy,
      );
      const near = keysOf(v.near(encode(a), toIndexNearOptions({ limit: 100 })));
      const query = encode(a);
      const lcp = (k: string): number => sharedPrefixLength(encode(k), query);
      const best = keys.length === 0 ? -1 : utf8Boundary(query, Math.max(...keys.map(lcp)));
      assert.deepEqual(near, best < 0 ? [] : keys.filter((k) => lcp(k) >= best));
    }),
    { numRuns: 400 },
  );
});

test('a limit counts live merged entries: a newer tombstone does not use up an older source', () => {
  const merged = view([tombstone('a'), tombstone('ac')], [put('a', '1'), put('ab', '2'), put('ac', '3'), put('b', '4')]);
  assert.deepEqual(
    [...merged.range(toScanRange({ limit: 1 }))].map((entry) => text(entry.key)),
    ['ab'],
  );
  assert.deepEqual(
    [...merged.range(toScanRange({ limit: 2, reverse: true }))].map((entry) => text(entry.key)),
    ['b', 'ab'],
  );
  assert.deepEqual(
    merged.near(encode('ad'), toIndexNearOptions({ limit: 5 })).map((entry) => text(entry.key)),
    ['ab'],
    'near finds the live neighbour behind a deleted one',
  );
});

test('leaving a range early closes the sources it reads, whether it merges them or reads one alone', () => {
  const closed: string[] = [];
  class ClosingSource extends ArraySource {
    constructor(
      private readonly name: string,
      entries: readonly SourceEntry[],
    ) {
      super(entries);
    }

    override *entriesIn(range: ScanRange): Generator<SourceEntry> {
      try {
        const inner = super.entriesIn(range);
        for (let result = inner.next(); result.done !== true; result = inner.next()) yield result.value;
      } finally {
        closed.push(this.name);
      }
    }
  }
  const merged = new MergedView([new ClosingSource('newer', [put('a', '1')]), new ClosingSource('older', [put('b', '2'), put('c', '3')])]);
  for (const entry of merged.range()) if (text(entry.key) === 'a') break;
  assert.deepEqual(closed.sort(), ['newer', 'older']);

  closed.length = 0;
  const alone = new MergedView([new ClosingSource('empty', []), new ClosingSource('full', [tombstone('a'), put('b', '2'), put('c', '3')])]);
  assert.deepEqual(keysOf(alone.range(toScanRange({ limit: 1 }))), ['b'], 'tombstones skipped, the limit counts live entries');
  assert.deepEqual(closed.sort(), ['empty', 'full']);
});

test('a range reads nothing before its first next(), so a range made and dropped costs nothing', () => {
  let asked = 0;
  class CountingSource extends ArraySource {
    override entriesIn(range: ScanRange): Iterator<SourceEntry> {
      asked++;
      return super.entriesIn(range);
    }
  }
  const v = new MergedView([new CountingSource([]), new CountingSource([put('a', '1')])]);
  const entries = v.range();
  assert.equal(asked, 0, 'range() alone asks no source');
  assert.deepEqual(keysOf(entries), ['a']);
  assert.equal(asked, 2);
});

test("a view asks for its segments' key filter at its first get, not when it is made", () => {
  let asked = 0;
  const segments = {
    segmentCount: 1,
    get keyFilter(): undefined {
      asked++;
      return undefined;
    },
  };
  const v = new MergedView([new ArraySource([put('a', 'new')]), new ArraySource([put('a', 'old'), put('b', 'old')])], segments);
  assert.equal(asked, 0, 'making the view (a writer does at every memtable change) builds no filter');
  assert.equal(v.get(encode('a'))!.value, 'new');
  assert.equal(v.get(encode('b'))!.value, 'old', 'without a filter, the segments are asked in turn');
  assert.equal(asked, 2);
});

test('a scan reads the only segment alone while every source above it is empty, choosing at its first next()', () => {
  let readAlone = 0;
  class Segment extends ArraySource {
    pairsIn(range: ScanRange, keyEncoding: KeyEncoding): Iterator<[Key, Value]> {
      readAlone++;
      const puts = [...iterate(this.entriesIn({ ...range, limit: Infinity }))].filter((entry) => entry.kind === 'put');
      return puts
        .slice(0, range.limit)
        .map((entry): [Key, Value] => [decodeKey(entry.key, keyEncoding), entry.value])
        [Symbol.iterator]();
    }
  }
  class Memtable extends ArraySource {
    readonly added: SourceEntry[] = [];
    override lookup(key: Key): Lookup | undefined {
      return new ArraySource(this.added).lookup(key);
    }
    override entriesIn(range: ScanRange): Iterator<SourceEntry> {
      return new ArraySource(this.added).entriesIn(range);
    }
    isEmpty(): boolean {
      return this.added.length === 0;
    }
  }
  const memtable = new Memtable([]);
  const v = new MergedView([memtable, new Segment([put('a', '1'), tombstone('b'), put('c', '3')])], {
    segmentCount: 1,
    keyFilter: undefined,
  });
  assert.deepEqual(
    [...v.pairs(FULL_SCAN, 'utf8')],
    [
      ['a', '1'],
      ['c', '3'],
    ],
  );
  assert.deepEqual([...v.pairs(toScanRange({ reverse: true, limit: 1 }), 'utf8')], [['c', '3']], 'the limit counts puts');
  assert.deepEqual([...v.pairs(toScanRange({ gt: encode('a') }), 'binary')], [[encode('c'), '3']]);
  assert.equal(readAlone, 3);

  const made = v.pairs(FULL_SCAN, 'utf8');
  memtable.added.push(put('b', '2'), tombstone('c'));
  assert.deepEqual(
    [...made],
    [
      ['a', '1'],
      ['b', '2'],
    ],
    'a write before the first next() is merged in',
  );
  assert.equal(readAlone, 3, 'the memtable holds entries: merged, not read alone');
});

function iterate<T>(iterator: Iterator<T>): Iterable<T> {
  return { [Symbol.iterator]: () => iterator };
}
