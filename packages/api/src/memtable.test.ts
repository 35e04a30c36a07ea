import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Memtable, type MemtableOperation } from './memtable.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const idOf = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
/** A put of `value`, or a delete when it is undefined, as the writer hands it over. */
const operation = (key: string, value: string | Uint8Array | undefined, valueBytes = 0): MemtableOperation =>
  value === undefined ? { kind: 'delete', id: idOf(key), valueBytes: 0 } : { kind: 'put', id: idOf(key), value, valueBytes };
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

test('the newest write to a key wins and a delete leaves a tombstone', () => {
  const table = new Memtable();
  table.apply(1, operation('k', 'v1', 2));
  table.apply(2, operation('k', 'v2', 2));
  assert.deepEqual(table.lookup(encode('k')), { kind: 'put', value: 'v2' });
  table.apply(3, operation('k', undefined));
  assert.deepEqual(table.lookup(encode('k')), { kind: 'tombstone' });
  assert.equal(table.lookup(encode('other')), undefined);
  assert.equal(table.size, 1);
  assert.equal(table.firstSequence, 1);
  assert.equal(table.lastSequence, 3);
});

test('byte size counts what was written: new keys with their overhead, every value', () => {
  const table = new Memtable();
  table.apply(1, operation('k', new Uint8Array(1000), 1000));
  const afterFirst = table.bytes;
  assert.ok(afterFirst >= 1001, 'key and value');
  table.apply(2, operation('k', new Uint8Array(10), 10));
  assert.equal(table.bytes, afterFirst + 10, 'an overwrite adds its value only');
  table.apply(3, operation('other', 'v', 1));
  assert.ok(table.bytes > afterFirst + 10 + 1 + 'other'.length, 'a new key adds its overhead');
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
          table.apply(i + 1, operation(key, live ? `v${i}` : undefined, 3));
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
