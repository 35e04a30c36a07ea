import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IteratorCursor, NewestWinsMerge } from './newest-wins-merge.js';
import { compareBytes } from './key-bytes.js';

interface Entry {
  readonly key: Uint8Array;
  readonly from: number;
}

const compare = (a: Uint8Array, b: Uint8Array): number => compareBytes(a, 0, a.length, b, 0, b.length);
const hex = (key: Uint8Array): string => Buffer.from(key).toString('hex');

function drain(merge: NewestWinsMerge<IteratorCursor<Entry>>): Entry[] {
  const out: Entry[] = [];
  for (let cursor = merge.next(); cursor !== undefined; cursor = merge.next()) out.push(cursor.entry);
  return out;
}

/** One stream per layer: its distinct keys sorted, each entry naming its layer. */
function streams(layers: readonly Uint8Array[][], descending: boolean): IteratorCursor<Entry>[] {
  return layers.map((keys, from) => {
    const unique = [...new Map(keys.map((key) => [hex(key), key])).values()].sort(compare);
    if (descending) unique.reverse();
    return new IteratorCursor(unique.map((key) => ({ key, from }))[Symbol.iterator]());
  });
}

/** The model: every key once, from the newest (lowest-numbered) layer that has it, in key order. */
function model(layers: readonly Uint8Array[][], descending: boolean): string[] {
  const newest = new Map<string, { key: Uint8Array; from: number }>();
  layers.forEach((keys, from) => {
    for (const key of keys) if (!newest.has(hex(key))) newest.set(hex(key), { key, from });
  });
  const sorted = [...newest.values()].sort((a, b) => compare(a.key, b.key));
  if (descending) sorted.reverse();
  return sorted.map(({ key, from }) => `${hex(key)}@${from}`);
}

test('each key comes once, from the newest stream holding it, in key order both ways', () => {
  const layers = fc.array(fc.array(fc.uint8Array({ maxLength: 3 }), { maxLength: 30 }), { maxLength: 11 });
  fc.assert(
    fc.property(layers, fc.boolean(), (keys, descending) => {
      const merged = drain(new NewestWinsMerge(streams(keys, descending), descending));
      assert.deepEqual(
        merged.map(({ key, from }) => `${hex(key)}@${from}`),
        model(keys, descending),
      );
    }),
    { numRuns: 300 },
  );
});

test('a merge of no streams, or of empty ones, is empty', () => {
  assert.equal(new NewestWinsMerge<IteratorCursor<Entry>>([]).next(), undefined);
  const empty = (): IteratorCursor<Entry> => new IteratorCursor<Entry>([][Symbol.iterator]());
  assert.equal(new NewestWinsMerge([empty(), empty()]).next(), undefined);
});

test('with one stream left holding entries, soleStream names it and remaining() reads it on from its current entry', () => {
  const entries = (from: number, ...keys: string[]): Entry[] => keys.map((key) => ({ key: Buffer.from(key), from }));
  const empty = new IteratorCursor<Entry>([][Symbol.iterator]());
  const live = new IteratorCursor(entries(1, 'a', 'b', 'c')[Symbol.iterator]());
  const merge = new NewestWinsMerge([empty, live]);
  assert.equal(merge.soleStream(), live);
  assert.deepEqual(
    [...live.remaining()].map((entry) => `${Buffer.from(entry.key).toString()}@${entry.from}`),
    ['a@1', 'b@1', 'c@1'],
  );

  const two = new NewestWinsMerge(streams([[Buffer.from('a')], [Buffer.from('b')]], false));
  assert.equal(two.soleStream(), undefined, 'two streams with entries need the merge');
  const one = new NewestWinsMerge(streams([[Buffer.from('a'), Buffer.from('b')]], false));
  one.next();
  assert.equal(one.soleStream(), undefined, 'once next() has moved, the merge owns the cursor');
});

test('returning remaining() early returns the stream under it', () => {
  let closed = false;
  function* stream(): Generator<Entry> {
    try {
      for (const key of ['a', 'b', 'c']) yield { key: Buffer.from(key), from: 0 };
    } finally {
      closed = true;
    }
  }
  const cursor = new IteratorCursor(stream());
  assert.ok(cursor.advance());
  for (const entry of cursor.remaining()) if (Buffer.from(entry.key).toString() === 'b') break;
  assert.ok(closed);
});
