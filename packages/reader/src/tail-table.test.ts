import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toScanRange, type ScanRange } from '@silt/segments/internal';
import type { DecodedRecord, LogEntryVisitor } from '@silt/wal';
import { MergedView } from './merged-view.js';
import { PRUNED_ROOM_KEPT_BYTES, TAIL_ENTRY_OVERHEAD_BYTES, TailTable } from './tail-table.js';
import { ArraySource, put, tombstone } from './test-support/array-source.js';
import type { SourceEntry } from './entry-source.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Write = readonly [key: string, value: string | Uint8Array | null];

/**
 * A log record as LogTail hands it over: its entries laid out in one buffer,
 * which the test overwrites after the visit, as LogTail reuses its buffer.
 */
function record(firstSeq: number, writes: readonly Write[]): DecodedRecord {
  const parts: Array<{ kind: 'put' | 'put-text' | 'delete'; key: Uint8Array; value: Uint8Array }> = writes.map(([key, value]) => ({
    kind: value === null ? 'delete' : typeof value === 'string' ? 'put-text' : 'put',
    key: encoder.encode(key),
    value: value === null ? new Uint8Array(0) : typeof value === 'string' ? encoder.encode(value) : value,
  }));
  const buffer = new Uint8Array(parts.reduce((total, part) => total + part.key.length + part.value.length, 0));
  const visit = (visitor: LogEntryVisitor): void => {
    let at = 0;
    for (const part of parts) {
      buffer.set(part.key, at);
      buffer.set(part.value, at + part.key.length);
      visitor(part.kind, buffer, at, part.key.length, at + part.key.length, part.value.length);
      at += part.key.length + part.value.length;
    }
    buffer.fill(0xee); // LogTail's next read reuses the buffer
  };
  return {
    firstSeq,
    lastSeq: firstSeq + writes.length - 1,
    get entries(): never {
      throw new Error('the table walks records with visit(), no entry objects');
    },
    visit,
    hasOrigin: () => false,
    offset: 0,
    length: buffer.length,
    syncedOffset: 0,
  };
}

/** A table holding `writes`, one record each, from sequence `first` on. */
function tableOf(writes: readonly Write[], first = 1): TailTable {
  const table = new TailTable();
  writes.forEach((write, n) => table.applyRecord(record(first + n, [write])));
  return table;
}

const keysIn = (table: TailTable, range: ScanRange): string[] => {
  const keys: string[] = [];
  const entries = table.entriesIn(range);
  for (let next = entries.next(); next.done !== true; next = entries.next()) keys.push(decoder.decode(next.value.key));
  return keys;
};

test('the newest write of a key wins, deletes included, and values come back as the type written', () => {
  const table = new TailTable();
  table.applyRecord(
    record(11, [
      ['a', 'first'],
      ['b', Uint8Array.of(1, 2, 3)],
      ['c', 'doomed'],
    ]),
  );
  table.applyRecord(
    record(14, [
      ['a', 'second'],
      ['c', null],
    ]),
  );
  assert.deepEqual(table.lookup('a'), { kind: 'put', value: 'second' });
  assert.deepEqual(table.lookup(encoder.encode('b')), { kind: 'put', value: Uint8Array.of(1, 2, 3) });
  assert.deepEqual(table.lookup('c'), { kind: 'tombstone' });
  assert.equal(table.lookup('d'), undefined);
  assert.equal(table.size, 3);
  assert.equal(table.lastSequence, 15);
});

test('keys and values are copied out of the log buffer, and bytes handed out are the caller own', () => {
  const table = tableOf([['key', Uint8Array.of(7, 7)]]);
  // `record` overwrote its buffer after the visit: the table kept its own copies.
  const found = table.lookup('key');
  assert.deepEqual(found, { kind: 'put', value: Uint8Array.of(7, 7) });
  if (found?.kind === 'put' && found.value instanceof Uint8Array) found.value[0] = 0;
  assert.deepEqual(table.lookup('key'), { kind: 'put', value: Uint8Array.of(7, 7) });
  assert.deepEqual(keysIn(table, toScanRange({})), ['key']);
});

test('writes must come in sequence order', () => {
  const table = tableOf([['a', '1']], 5);
  assert.throws(() => table.applyRecord(record(5, [['b', '2']])), RangeError);
});

test('pruning drops every key whose newest write a generation covers, keeps the rest, and leaves the old table as it was', () => {
  const table = tableOf([
    ['a', '1'], // 1
    ['b', '2'], // 2
    ['a', '3'], // 3: a's newest write
    ['c', null], // 4
    ['d', '5'], // 5
    ['d', '6'], // 6: d's newest write
  ]);
  const pruned = table.prunedThrough(3);
  assert.notEqual(pruned, table);
  assert.equal(pruned.lookup('a'), undefined, 'write 3 is covered: the segments serve it');
  assert.equal(pruned.lookup('b'), undefined);
  assert.deepEqual(pruned.lookup('c'), { kind: 'tombstone' });
  assert.deepEqual(pruned.lookup('d'), { kind: 'put', value: '6' });
  assert.deepEqual(keysIn(pruned, toScanRange({})), ['c', 'd'], 'each key once');
  assert.equal(pruned.size, 2);
  assert.equal(pruned.lastSequence, 6);
  assert.deepEqual(keysIn(table, toScanRange({})), ['a', 'b', 'c', 'd'], 'an iterator of the old table reads it whole');
  assert.equal(table.prunedThrough(0), table, 'nothing covered: the same table');
  assert.equal(pruned.prunedThrough(6).size, 0);
});

test('keys written over and over: pruning is right after the write order dropped their stale places, and the bytes stay those of the keys', () => {
  const table = new TailTable();
  for (let sequence = 1; sequence <= 5000; sequence++) table.applyRecord(record(sequence, [[`k${sequence % 3}`, String(sequence)]]));
  assert.equal(table.size, 3);
  assert.equal(table.bytes, 3 * (2 + 4 + TAIL_ENTRY_OVERHEAD_BYTES));
  const pruned = table.prunedThrough(4998);
  assert.deepEqual(
    [...pruned.entriesIn(toScanRange({}))].map((entry) => [decoder.decode(entry.key), entry.kind === 'put' && entry.value]),
    [
      ['k1', '4999'],
      ['k2', '5000'],
    ],
  );
  assert.equal(table.prunedThrough(4997).size, 3);
  assert.equal(pruned.prunedThrough(5000).size, 0);
});

test('a pruned table has room for as much as the table it came from held: filled as far again, it does not grow', () => {
  const key = (n: number): string => `k${String(n).padStart(5, '0')}`;
  const table = new TailTable();
  for (let sequence = 1; sequence <= 5000; sequence++) table.applyRecord(record(sequence, [[key(sequence), `v${sequence}`.padEnd(100)]]));
  const pruned = table.prunedThrough(4990);
  assert.equal(pruned.size, 10);
  const room = pruned.allocatedBytes;
  for (let sequence = 5001; sequence <= 9990; sequence++)
    pruned.applyRecord(record(sequence, [[key(sequence), `v${sequence}`.padEnd(100)]]));
  assert.equal(pruned.size, 5000);
  // Sized for the ten survivors, it grew back half again at a time, copying its arena each time.
  assert.equal(pruned.allocatedBytes, room, 'no growth');
});

test('the room a pruned table keeps is bounded: a table as large as a whole tail does not pass its size on', () => {
  const table = new TailTable();
  const value = 'v'.repeat(200);
  const keys = Math.ceil((1.5 * PRUNED_ROOM_KEPT_BYTES) / 200);
  for (let sequence = 1; sequence <= keys; sequence++) table.applyRecord(record(sequence, [[`k${sequence}`, value]]));
  assert.ok(table.allocatedBytes > 1.5 * PRUNED_ROOM_KEPT_BYTES);
  const pruned = table.prunedThrough(keys);
  assert.equal(pruned.size, 0);
  assert.ok(pruned.allocatedBytes <= 1.25 * PRUNED_ROOM_KEPT_BYTES, `${pruned.allocatedBytes} bytes kept`);
});

test('bytes count key and value bytes plus the overhead a key, an overwrite replacing what it overwrote', () => {
  const table = new TailTable();
  assert.equal(table.bytes, 0);
  table.applyRecord(record(1, [['key', 'x'.repeat(100)]]));
  assert.equal(table.bytes, 3 + 100 + TAIL_ENTRY_OVERHEAD_BYTES);
  table.applyRecord(record(2, [['key', 'y'.repeat(10)]]));
  assert.equal(table.bytes, 3 + 10 + TAIL_ENTRY_OVERHEAD_BYTES);
  table.applyRecord(record(3, [['other', 'é']]));
  assert.equal(table.bytes, 3 + 10 + 5 + 2 + 2 * TAIL_ENTRY_OVERHEAD_BYTES, 'values count their UTF-8 bytes');
  table.applyRecord(record(4, [['key', null]]));
  assert.equal(table.bytes, 3 + 5 + 2 + 2 * TAIL_ENTRY_OVERHEAD_BYTES);
  assert.equal(table.prunedThrough(3).bytes, 3 + TAIL_ENTRY_OVERHEAD_BYTES);
});

test('ordered reads: bounds, prefix, reverse and limit, with keys added after an ordered read', () => {
  const table = tableOf([
    ['banana', '1'],
    ['apple', '2'],
    ['cherry', null],
  ]);
  assert.deepEqual(keysIn(table, toScanRange({})), ['apple', 'banana', 'cherry']);
  table.applyRecord(record(4, [['apricot', '3']]));
  table.applyRecord(record(5, [['blueberry', '4']]));
  assert.deepEqual(keysIn(table, toScanRange({})), ['apple', 'apricot', 'banana', 'blueberry', 'cherry']);
  assert.deepEqual(keysIn(table, toScanRange({ prefix: 'ap' })), ['apple', 'apricot']);
  assert.deepEqual(keysIn(table, toScanRange({ gt: 'apple', lte: 'blueberry' })), ['apricot', 'banana', 'blueberry']);
  assert.deepEqual(keysIn(table, toScanRange({ reverse: true, limit: 2 })), ['cherry', 'blueberry']);
  assert.deepEqual(keysIn(table, toScanRange({ gte: 'b', lt: 'c', reverse: true })), ['blueberry', 'banana']);
});

test('over the segments of a flush covering part of it, the pruned tail reads as the whole history: a newest-wins model', () => {
  const key = fc.constantFrom('a', 'ab', 'abc', 'b', 'ba', 'é', 'éa', 'z');
  const write = fc.tuple(key, fc.option(fc.constantFrom('1', '2', '3'), { nil: null }));
  fc.assert(
    fc.property(fc.array(write, { maxLength: 24 }), fc.nat(24), (writes, coveredAsked) => {
      // Writes 1..n were tailed; a flush put 1..covered in a segment (newest per key, tombstones kept).
      const covered = Math.min(coveredAsked, writes.length);
      const segment = new ArraySource(writes.slice(0, covered).map(([k, v]): SourceEntry => (v === null ? tombstone(k) : put(k, v))));
      const view = new MergedView([tableOf(writes).prunedThrough(covered), segment]);
      const model = new Map<string, string>();
      for (const [k, v] of writes) {
        if (v === null) model.delete(k);
        else model.set(k, v as string);
      }
      const expected = [...model.entries()].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      const actual = [...view.range()].map((entry): [string, string] => [
        decoder.decode(entry.key),
        String(entry.kind === 'put' && entry.value),
      ]);
      assert.deepEqual(actual, expected);
      for (const [k] of writes) assert.equal(view.get(k)?.value, model.get(k));
      const reversed = [...view.range(toScanRange({ reverse: true }))].map((entry) => decoder.decode(entry.key));
      assert.deepEqual(reversed, expected.map(([k]) => k).reverse());
    }),
  );
});
