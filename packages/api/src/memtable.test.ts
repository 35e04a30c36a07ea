import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Memtable } from './memtable.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

test('the newest write to a key wins and a delete leaves a tombstone', () => {
  const table = new Memtable();
  table.apply(1, encode('k'), 'v1', 2);
  table.apply(2, encode('k'), 'v2', 2);
  assert.deepEqual(table.lookup(encode('k')), { kind: 'put', value: 'v2' });
  table.apply(3, encode('k'), undefined, 0);
  assert.deepEqual(table.lookup(encode('k')), { kind: 'tombstone' });
  assert.equal(table.lookup(encode('other')), undefined);
  assert.equal(table.size, 1);
  assert.equal(table.firstSequence, 1);
  assert.equal(table.lastSequence, 3);
});

test('byte size grows with new keys and tracks replaced values', () => {
  const table = new Memtable();
  table.apply(1, encode('k'), new Uint8Array(1000), 1000);
  const afterFirst = table.bytes;
  table.apply(2, encode('k'), new Uint8Array(10), 10);
  assert.equal(table.bytes, afterFirst - 990);
});

test('ordered reads follow key bytes, bounds and direction, with writes in between', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.string({ maxLength: 4 }), fc.boolean()), { maxLength: 40 }),
      fc.string({ maxLength: 3 }),
      fc.string({ maxLength: 3 }),
      fc.boolean(),
      fc.boolean(),
      (writes, a, b, reverse, exclusive) => {
        const table = new Memtable();
        const model = new Map<string, boolean>();
        writes.forEach(([key, live], i) => {
          table.apply(i + 1, encode(key), live ? `v${i}` : undefined, 3);
          model.set(key, live);
          if (i % 7 === 0) [...table.entries({})]; // interleave ordered reads with writes
        });
        const [lo, hi] = byteOrder(a, b) <= 0 ? [a, b] : [b, a];
        const bounds = exclusive ? { gt: encode(lo), lt: encode(hi) } : { gte: encode(lo), lte: encode(hi) };
        const expected = [...model.keys()]
          .filter((k) => (exclusive ? byteOrder(k, lo) > 0 && byteOrder(k, hi) < 0 : byteOrder(k, lo) >= 0 && byteOrder(k, hi) <= 0))
          .sort(byteOrder);
        if (reverse) expected.reverse();
        const actual = [...table.entries({ ...bounds, reverse })].map((entry) => decode(entry.key));
        assert.deepEqual(actual, expected);
      },
    ),
    { numRuns: 300 },
  );
});
