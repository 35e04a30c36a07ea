import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toScanRange } from '@silt/segments/internal';
import { encodeRecord } from '@silt/wal/internal';
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

test('a value that encodes to another length than its operation says is a RangeError, and the table is as before', () => {
  const table = new Memtable();
  table.apply(1, operation('kept', 'v', 1));
  const bytesBefore = table.bytes;
  // 'héllo' is 6 bytes of UTF-8: said to be 5, its bytes would shift every entry after it.
  assert.throws(() => table.apply(2, operation('k', 'héllo', 5)), { name: 'RangeError', message: /said 5 bytes and encoded to 6/ });
  assert.throws(() => table.apply(2, operation('k', new Uint8Array(3), 4)), RangeError);
  assert.equal(table.lookup(encode('k')), undefined);
  assert.equal(table.size, 1);
  assert.equal(table.bytes, bytesBefore);
  assert.equal(table.lastSequence, 1);
  // The refused writes took no sequence number: the next one follows the last write taken.
  table.apply(2, operation('k', 'ok', 2));
  assert.deepEqual(table.lookup(encode('k')), { kind: 'put', value: 'ok' });
  table.withdraw(2);
  assert.equal(table.lookup(encode('k')), undefined);
  assert.deepEqual(table.lookup(encode('kept')), { kind: 'put', value: 'v' });
});

test('byte size counts what the table holds: every write with its key, a new key its overhead too', () => {
  const table = new Memtable();
  table.apply(1, operation('k', new Uint8Array(1000), 1000));
  const afterFirst = table.bytes;
  assert.ok(afterFirst >= 1001, 'key and value');
  table.apply(2, operation('k', new Uint8Array(10), 10));
  const overwriteBookkeeping = table.bytes - afterFirst - (1 + 10);
  assert.ok(overwriteBookkeeping > 0, 'an overwrite adds its key, its value and its entry');
  const beforeNewKey = table.bytes;
  table.apply(3, operation('other', 'v', 1));
  const newKeyBookkeeping = table.bytes - beforeNewKey - ('other'.length + 1);
  assert.ok(newKeyBookkeeping > overwriteBookkeeping, 'a new key adds its hash slot besides');
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
          table.apply(i + 1, operation(key, live ? `v${i}` : undefined, `v${i}`.length));
          model.set(key, live);
          if (i % 7 === 0) void [...table.entriesIn(toScanRange({}))]; // interleave ordered reads with writes
        });
        const [lo, hi] = byteOrder(a, b) <= 0 ? [a, b] : [b, a];
        const bounds = exclusive ? { gt: encode(lo), lt: encode(hi) } : { gte: encode(lo), lte: encode(hi) };
        const expected = [...model.keys()]
          .filter((k) => (exclusive ? byteOrder(k, lo) > 0 && byteOrder(k, hi) < 0 : byteOrder(k, lo) >= 0 && byteOrder(k, hi) <= 0))
          .sort(byteOrder);
        if (reverse) expected.reverse();
        const actual = [...table.entriesIn(toScanRange({ ...bounds, reverse }))].map((entry) => decode(entry.key));
        assert.deepEqual(actual, expected);
      },
    ),
    { numRuns: 300 },
  );
});

type Write = readonly [key: string, value: string | Uint8Array | undefined];

/**
 * Writes laid out as a log file lays them out, key then value, in one
 * buffer per `perFile` writes: what `applyLogged` is given at open.
 */
function logFiles(writes: readonly Write[], perFile: number) {
  const laid: Array<{ bytes: Uint8Array; keyStart: number; keyLength: number; valueStart: number; valueLength: number }> = [];
  for (let first = 0; first < writes.length; first += perFile) {
    const parts = writes
      .slice(first, first + perFile)
      .map(([key, value]) => [encode(key), typeof value === 'string' ? encode(value) : (value ?? new Uint8Array(0))] as const);
    // A little padding first, as a file's header or an earlier record would be.
    const bytes = new Uint8Array(3 + parts.reduce((sum, [key, value]) => sum + key.length + value.length, 0));
    let at = 3;
    for (const [key, value] of parts) {
      bytes.set(key, at);
      bytes.set(value, at + key.length);
      laid.push({ bytes, keyStart: at, keyLength: key.length, valueStart: at + key.length, valueLength: value.length });
      at += key.length + value.length;
    }
  }
  return laid;
}

const kindOf = (value: Write[1]) =>
  (value === undefined ? 'delete' : typeof value === 'string' ? 'put-text' : 'put') as 'delete' | 'put-text' | 'put';
const valueBytesOf = (value: Write[1]): number =>
  value === undefined ? 0 : typeof value === 'string' ? encode(value).length : value.length;

/** The table `applyLogged` makes of the first `logged` writes, `apply` of the rest; and the table `apply` makes of all. */
function replayedAndDirect(writes: readonly Write[], logged: number, perFile: number): { replayed: Memtable; direct: Memtable } {
  const replayed = new Memtable();
  const direct = new Memtable();
  const laid = logFiles(writes.slice(0, logged), perFile);
  writes.forEach(([key, value], i) => {
    const sequence = 10 + i;
    const asOperation = operation(key, value, valueBytesOf(value));
    direct.apply(sequence, asOperation);
    const at = laid[i];
    if (at === undefined) replayed.apply(sequence, asOperation);
    else replayed.applyLogged(sequence, kindOf(value), at.bytes, at.keyStart, at.keyLength, at.valueStart, at.valueLength);
  });
  return { replayed, direct };
}

const writeArbitrary = fc.tuple(
  fc.string({ maxLength: 4, unit: fc.constantFrom('a', 'b', 'é', '\u0000', 'z') }),
  fc.option(fc.oneof(fc.string({ maxLength: 5 }), fc.uint8Array({ maxLength: 5 })), { nil: undefined }),
);

/**
 * The writes of `batches` applied as the writer applies an `mset`: each
 * batch's log record handed over whole (`applyRecord`), from sequence 10 on.
 */
function recorded(batches: ReadonlyArray<readonly Write[]>): Memtable {
  const table = new Memtable();
  let sequence = 10;
  for (const batch of batches) {
    const entries = batch.map(([key, value]) =>
      value === undefined ? { kind: 'delete' as const, key } : { kind: 'put' as const, key, value },
    );
    table.applyRecord(sequence, encodeRecord(sequence, entries));
    sequence += batch.length;
  }
  return table;
}

/** Reads of every key written, by string and by bytes, and full scans both ways, agree. */
function assertSameReads(table: Memtable, expected: Memtable, writes: readonly Write[]): void {
  for (const [key] of writes) {
    assert.deepEqual(table.lookup(key), expected.lookup(key), `string key ${JSON.stringify(key)}`);
    assert.deepEqual(table.lookup(encode(key)), expected.lookup(encode(key)), `byte key ${JSON.stringify(key)}`);
  }
  assert.deepEqual([...table.entriesIn(toScanRange({}))], [...expected.entriesIn(toScanRange({}))]);
  assert.deepEqual([...table.entriesIn(toScanRange({ reverse: true }))], [...expected.entriesIn(toScanRange({ reverse: true }))]);
}

/** `writes` cut into batches of the sizes `sizes` names in turn (1 to 8). */
function batchesOf(writes: readonly Write[], sizes: readonly number[]): Write[][] {
  const batches: Write[][] = [];
  for (let at = 0, n = 0; at < writes.length; n++) {
    const size = sizes.length === 0 ? writes.length : sizes[n % sizes.length]!;
    batches.push(writes.slice(at, at + size));
    at += size;
  }
  return batches;
}

test('writes applied from their log records read back as the same writes applied one by one would', () => {
  fc.assert(
    fc.property(
      fc.array(writeArbitrary, { maxLength: 60 }),
      fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 5 }),
      (writes, sizes) => {
        const table = recorded(batchesOf(writes, sizes));
        const { direct } = replayedAndDirect(writes, 0, 1);
        assertSameReads(table, direct, writes);
        assert.deepEqual(
          [table.size, table.bytes, table.firstSequence, table.lastSequence],
          [direct.size, direct.bytes, direct.firstSequence, direct.lastSequence],
        );
      },
    ),
    { numRuns: 300 },
  );
});

test('a record with a memory block of its own is held as it is; a small one from the buffer pool is copied first', () => {
  const big: Write[] = Array.from({ length: 200 }, (_, i) => [`big-${i}`, 'v'.repeat(100)]);
  const small: Write[] = [
    ['small-a', 'x'],
    ['small-b', Uint8Array.of(1, 2)],
  ];
  const bigRecord = encodeRecord(
    1,
    big.map(([key, value]) => ({ kind: 'put', key, value: value! })),
  );
  const smallRecord = encodeRecord(
    201,
    small.map(([key, value]) => ({ kind: 'put', key, value: value! })),
  );
  assert.ok(bigRecord.buffer.byteLength < 2 * bigRecord.byteLength, 'the big record has its block to itself');
  assert.ok(smallRecord.buffer.byteLength >= 2 * smallRecord.byteLength, 'the small record shares a pool block');
  const table = new Memtable();
  table.applyRecord(1, bigRecord);
  table.applyRecord(201, smallRecord);
  const smallValue = table.lookup('small-b');
  smallRecord.fill(0); // the pool block is reused by whatever allocates next: the table must not read it
  assert.deepEqual(table.lookup('small-a'), { kind: 'put', value: 'x' });
  assert.deepEqual(table.lookup('small-b'), smallValue);
  assert.deepEqual(table.lookup('big-199'), { kind: 'put', value: 'v'.repeat(100) });
  assert.equal(table.size, 202);
});

test('writes replayed from log bytes read back as the same writes applied one by one would', () => {
  fc.assert(
    fc.property(fc.array(writeArbitrary, { maxLength: 60 }), fc.nat(), fc.integer({ min: 1, max: 7 }), (writes, cut, perFile) => {
      // Logged writes come first (the replay), direct ones after (new writes); a logged write after a direct one is a copy.
      const { replayed, direct } = replayedAndDirect(writes, cut % (writes.length + 1), perFile);
      for (const [key] of writes) {
        assert.deepEqual(replayed.lookup(key), direct.lookup(key), `string key ${JSON.stringify(key)}`);
        assert.deepEqual(replayed.lookup(encode(key)), direct.lookup(encode(key)), `byte key ${JSON.stringify(key)}`);
      }
      assert.equal(replayed.lookup('never written'), undefined);
      assert.deepEqual([...replayed.entriesIn(toScanRange({}))], [...direct.entriesIn(toScanRange({}))]);
      assert.deepEqual(
        [...replayed.entriesIn(toScanRange({ reverse: true, gte: encode('b') }))],
        [...direct.entriesIn(toScanRange({ reverse: true, gte: encode('b') }))],
      );
      assert.deepEqual(
        [replayed.size, replayed.bytes, replayed.firstSequence, replayed.lastSequence],
        [direct.size, direct.bytes, direct.firstSequence, direct.lastSequence],
      );
    }),
    { numRuns: 500 },
  );
});

test('a replay of many keys, most written twice, finds every newest value', () => {
  const keys = 20_000;
  const writes: Write[] = [];
  for (let i = 0; i < keys; i++) writes.push([`key-${i}`, `first ${i}`]);
  for (let i = 0; i < keys; i += 2) writes.push([`key-${i}`, i % 4 === 0 ? undefined : Uint8Array.of(i & 0xff, 7)]);
  const { replayed, direct } = replayedAndDirect(writes, writes.length, 4096);
  assert.equal(replayed.size, keys);
  for (let i = 0; i < keys; i++) assert.deepEqual(replayed.lookup(`key-${i}`), direct.lookup(`key-${i}`));
  assert.deepEqual(
    [...replayed.entriesIn(toScanRange({ prefix: encode('key-1999') }))],
    [...direct.entriesIn(toScanRange({ prefix: encode('key-1999') }))],
  );
});

test('bytes read from replayed writes are the caller’s own and the log bytes stay as they were', () => {
  const { replayed } = replayedAndDirect([['k', Uint8Array.of(1, 2, 3)]], 1, 1);
  const first = replayed.lookup('k');
  assert.ok(first?.kind === 'put' && first.value instanceof Uint8Array);
  first.value.fill(9);
  assert.deepEqual(replayed.lookup('k'), { kind: 'put', value: Uint8Array.of(1, 2, 3) });
  const [entry] = [...replayed.entriesIn(toScanRange({}))];
  assert.ok(entry?.kind === 'put' && entry.value instanceof Uint8Array);
  entry.value.fill(9);
  assert.deepEqual(replayed.lookup('k'), { kind: 'put', value: Uint8Array.of(1, 2, 3) });
});

test('writes withdrawn after the log refused them leave the table as if they had never been made', () => {
  fc.assert(
    fc.property(
      fc.array(writeArbitrary, { maxLength: 60 }),
      fc.nat(),
      fc.nat(),
      fc.nat(),
      fc.integer({ min: 1, max: 7 }),
      (writes, loggedCut, acknowledgedCut, refusedCut, perFile) => {
        // Logged writes (a replay) come first; of the direct ones, a prefix is acknowledged and the log refused a suffix.
        const logged = loggedCut % (writes.length + 1);
        const refusedFrom = logged + (refusedCut % (writes.length - logged + 1));
        const acknowledged = logged + (acknowledgedCut % (refusedFrom - logged + 1));
        const { replayed: table } = replayedAndDirect(writes, logged, perFile);
        const { replayed: expected } = replayedAndDirect(writes.slice(0, refusedFrom), logged, perFile);
        table.acknowledged(10 + acknowledged - 1);
        table.withdraw(10 + refusedFrom);
        assertSameReads(table, expected, writes);
        assert.deepEqual(
          [table.size, table.firstSequence, table.lastSequence],
          [expected.size, expected.firstSequence, expected.lastSequence],
        );
      },
    ),
    { numRuns: 500 },
  );
});

test('writes of log records withdrawn after the log refused them leave the table as if they had never been made', () => {
  fc.assert(
    fc.property(
      fc.array(writeArbitrary, { maxLength: 60 }),
      fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 5 }),
      fc.nat(),
      fc.nat(),
      (writes, sizes, acknowledgedCut, refusedCut) => {
        // The log refuses whole records: from a batch's first write on.
        const batches = batchesOf(writes, sizes);
        const refusedBatch = refusedCut % (batches.length + 1);
        const refusedFrom = batches.slice(0, refusedBatch).reduce((sum, batch) => sum + batch.length, 0);
        const acknowledged = acknowledgedCut % (refusedFrom + 1);
        const table = recorded(batches);
        table.acknowledged(10 + acknowledged - 1);
        table.withdraw(10 + refusedFrom);
        const expected = recorded(batches.slice(0, refusedBatch));
        assertSameReads(table, expected, writes);
        assert.deepEqual(
          [table.size, table.firstSequence, table.lastSequence],
          [expected.size, expected.firstSequence, expected.lastSequence],
        );
      },
    ),
    { numRuns: 500 },
  );
});

test('an acknowledged write cannot be withdrawn; a refused overwrite brings back the value it replaced', () => {
  const table = new Memtable();
  table.apply(1, operation('k', 'acknowledged', 12));
  table.apply(2, operation('other', 'acknowledged', 12));
  table.acknowledged(2);
  table.apply(3, operation('k', 'refused', 7));
  table.apply(4, operation('k', undefined));
  table.apply(5, operation('new', 'refused', 7));
  table.withdraw(1);
  assert.deepEqual(table.lookup('k'), { kind: 'put', value: 'acknowledged' });
  assert.deepEqual(table.lookup('other'), { kind: 'put', value: 'acknowledged' });
  assert.equal(table.lookup('new'), undefined);
  assert.deepEqual(
    [...table.entriesIn(toScanRange({}))].map((entry) => decode(entry.key)),
    ['k', 'other'],
  );
  assert.equal(table.lastSequence, 2);
});
