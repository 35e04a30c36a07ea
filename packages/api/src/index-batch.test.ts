import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ClosedError, nodeFileSystem, ValidationError } from '@silt/fs';
import { ReadOnlyIndex } from '@silt/reader';
import { readLogRange } from '@silt/wal';
import { tempDir } from '@silt/test-support';
import { Index } from './index-handle.js';
import { writerStats } from './test-support/writer-stats.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

/** Every log record from sequence 1, as [firstSeq, kinds of its entries]. */
function logRecords(dir: string, index: Index): Array<[number, string[]]> {
  const records = readLogRange(nodeFileSystem, join(dir, 'wal'), 1, writerStats(index).lastSequence);
  return records.map((record) => [record.firstSeq, record.entries.map((entry) => entry.kind)]);
}

test('batch([...]) writes puts and deletes as one log record, in order, read back at once and after a reopen', async () => {
  const dir = join(tempDir('batch'), 'idx');
  let index = await Index.open(dir);
  await index.set('gone', 'x');
  await index.batch([
    { type: 'put', key: 'a', value: '1' },
    { type: 'del', key: 'gone' },
    { type: 'put', key: bytes(0xff), value: bytes(1, 2) },
    { type: 'put', key: 'a', value: 'last wins' },
    { type: 'del', key: 'never there' },
  ]);
  const check = (): void => {
    assert.equal(index.get('a'), 'last wins');
    assert.equal(index.get('gone'), undefined);
    assert.deepEqual(index.get(bytes(0xff)), bytes(1, 2));
  };
  check();
  assert.deepEqual(logRecords(dir, index), [
    [1, ['put']],
    [2, ['put', 'delete', 'put', 'put', 'delete']],
  ]);
  await index.close();
  index = await Index.open(dir);
  check();
  await index.flush();
  await using reader = await ReadOnlyIndex.open(dir, { watch: false });
  assert.deepEqual(
    [...reader.range()],
    [
      ['a', 'last wins'],
      ['\ufffd', bytes(1, 2)],
    ],
  );
  await index.close();
});

test('the chained batch gathers puts and deletes and writes them as one record', async () => {
  const dir = join(tempDir('chained'), 'idx');
  await using index = await Index.open(dir);
  await index.set('old', 'x');
  const batch = index.batch().put('a', '1').del('old').put('b', '2');
  assert.equal(batch.length, 3);
  assert.equal(index.get('a'), undefined, 'nothing is written before write()');
  batch.clear().put('c', '3').del('old');
  await batch.write();
  assert.deepEqual([...index.range()], [['c', '3']]);
  assert.deepEqual(logRecords(dir, index).at(-1), [2, ['put', 'delete']]);
  assert.throws(() => batch.put('d', '4'), /written already/);
  await assert.rejects(batch.write(), ValidationError);
  await index.batch().write(); // an empty batch writes nothing
  assert.equal(writerStats(index).lastSequence, 3);
});

test('a bad operation refuses the whole batch, naming it, and nothing is written', async () => {
  const dir = join(tempDir('batch-refused'), 'idx');
  await using index = await Index.open(dir);
  await index.set('keep', 'v');
  const before = writerStats(index).lastSequence;
  const refusals: Array<[unknown, RegExp]> = [
    [
      [
        { type: 'put', key: 'a', value: '1' },
        { type: 'del', key: '' },
      ],
      /^batch operation #1: /,
    ],
    [
      [
        { type: 'put', key: 'a', value: '1' },
        { type: 'put', key: 'b', value: 7 },
      ],
      /^batch operation #1: a value must be a string or a Uint8Array/,
    ],
    [
      [
        { type: 'del', key: 'keep' },
        { type: 'merge', key: 'b' },
      ],
      /^batch operation #1: an operation's type must be 'put' or 'del'/,
    ],
    [[{ type: 'del', key: 'keep' }, null], /^batch operation #1: an operation must be an object/],
    [[{ type: 'put', key: 'k\uD800', value: '1' }], /^batch operation #0: a key must be well-formed UTF-16/],
    ['not an array', /^batch takes an array/],
  ];
  for (const [operations, message] of refusals) {
    await assert.rejects(index.batch(operations as never), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, message);
      return true;
    });
  }
  const chained = index.batch().put('a', '1');
  assert.throws(() => chained.put('b', 7 as unknown as string), /^ValidationError: batch operation #1: a value must be/);
  assert.equal(chained.length, 1);
  assert.equal(writerStats(index).lastSequence, before);
  assert.equal(index.get('keep'), 'v');
  assert.equal(index.get('a'), undefined);
});

test('a batch too large for one log record is refused whole', async () => {
  await using index = await Index.open(join(tempDir('batch-large'), 'idx'));
  const value = 'v'.repeat(1024 * 1024);
  const operations = Array.from({ length: 17 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value }));
  await assert.rejects(index.batch(operations), /maxRecordBytes/);
  assert.equal(index.get('k0'), undefined);
  assert.equal(writerStats(index).lastSequence, 0);
});

test('batch after close is a ClosedError', async () => {
  const index = await Index.open(join(tempDir('batch-closed'), 'idx'));
  await index.close();
  await assert.rejects(index.batch([{ type: 'put', key: 'a', value: '1' }]), ClosedError);
  assert.throws(() => index.batch(), ClosedError);
});
