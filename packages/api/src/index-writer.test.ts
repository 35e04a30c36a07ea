import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ClosedError,
  FaultInjectingFileSystem,
  ManualClock,
  nodeFileSystem,
  sequenceOfLogFile,
  ValidationError,
  WriterFailedError,
} from '@silt/fs';
import { LockError } from '@silt/segments';
import { ReadOnlyIndex } from '@silt/reader';
import { readLogRange } from '@silt/wal';
import { Index } from './index-handle.js';
import type { FlushEvent } from './flusher.js';
import { tempDir } from '@silt/test-support';
import { writerStats } from './test-support/writer-stats.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

test('values come back as the type they were given, before and after a flush and a reopen', async () => {
  const dir = join(tempDir('types'), 'idx');
  let index = await Index.open(dir);
  await index.set('text', 'héllo');
  await index.set('bin', bytes(0, 1, 255));
  await index.set(bytes(0xff, 0x00), 'binary key');
  const check = (): void => {
    assert.equal(index.get('text'), 'héllo');
    assert.deepEqual(index.get('bin'), bytes(0, 1, 255));
    assert.equal(index.get(bytes(0xff, 0x00)), 'binary key');
    assert.equal(index.get('missing'), undefined);
    assert.equal(index.has('text'), true);
    assert.equal(index.has('missing'), false);
  };
  check();
  await index.flush();
  check();
  await index.close();
  index = await Index.open(dir);
  check();
  await index.close();
});

test('a value handed out is a copy: changing it changes nothing stored', async () => {
  await using index = await Index.open(join(tempDir('copies'), 'idx'));
  const given = bytes(1, 2, 3);
  await index.set('k', given);
  given[0] = 9;
  const read = index.get('k') as Uint8Array;
  assert.deepEqual(read, bytes(1, 2, 3));
  read[1] = 9;
  assert.deepEqual(index.get('k'), bytes(1, 2, 3));
});

test('a delete shadows an older value in a segment, across flushes and a reopen', async () => {
  const dir = join(tempDir('delete'), 'idx');
  let index = await Index.open(dir);
  await index.set('k', 'old');
  await index.flush();
  await index.delete('k');
  assert.equal(index.get('k'), undefined);
  await index.flush();
  assert.equal(index.get('k'), undefined);
  assert.deepEqual([...index.range()], []);
  await index.close();
  index = await Index.open(dir);
  assert.equal(index.get('k'), undefined);
  await index.set('k', 'again');
  assert.equal(index.get('k'), 'again');
  await index.close();
});

test('range merges memtables and segments with bounds, prefix, reverse and limit', async () => {
  await using index = await Index.open(join(tempDir('range'), 'idx'));
  await index.mset([
    ['apple', '1'],
    ['apricot', '2'],
    ['banana', '3'],
  ]);
  await index.flush();
  await index.mset([
    ['avocado', '4'],
    ['apricot', '2b'],
  ]);
  await index.delete('banana');
  assert.deepEqual(
    [...index.range()],
    [
      ['apple', '1'],
      ['apricot', '2b'],
      ['avocado', '4'],
    ],
  );
  assert.deepEqual(
    [...index.range({ prefix: 'ap' })],
    [
      ['apple', '1'],
      ['apricot', '2b'],
    ],
  );
  assert.deepEqual(
    [...index.range({ gt: 'apple', lte: 'avocado', reverse: true })],
    [
      ['avocado', '4'],
      ['apricot', '2b'],
    ],
  );
  assert.deepEqual([...index.range({ gte: 'a', limit: 1 })], [['apple', '1']]);
  assert.deepEqual([...index.range({ lt: 'a' })], []);
});

test('binary key encoding returns keys as bytes', async () => {
  await using index = await Index.open(join(tempDir('binary'), 'idx'), { keyEncoding: 'binary' });
  await index.set(bytes(2), 'b');
  await index.set(bytes(1), 'a');
  assert.deepEqual(
    [...index.range()],
    [
      [bytes(1), 'a'],
      [bytes(2), 'b'],
    ],
  );
});

test('near finds the keys sharing the longest prefix, and fuzzy the keys within an edit distance', async () => {
  await using index = await Index.open(join(tempDir('near'), 'idx'));
  await index.mset([
    ['hello', '1'],
    ['help', '2'],
    ['helmet', '3'],
    ['world', '4'],
  ]);
  await index.flush();
  await index.set('helium', '5');
  assert.deepEqual(index.near('helpx'), [['help', '2']]);
  assert.deepEqual(
    index.near('helz').map(([key]) => key),
    ['helium', 'hello', 'helmet', 'help'],
  );
  assert.deepEqual(index.fuzzy('helo', 1), [
    ['hello', '1'],
    ['help', '2'],
  ]);
  assert.deepEqual(index.fuzzy('wrld', 1, { minPrefix: 0 }), [['world', '4']]);
  assert.deepEqual(index.fuzzy('wrld', 1), []);
});

test('a rejected batch writes nothing at all', async () => {
  await using index = await Index.open(join(tempDir('atomic'), 'idx'));
  await assert.rejects(
    index.mset([
      ['a', '1'],
      ['', '2'],
    ]),
    ValidationError,
  );
  await assert.rejects(
    index.mset([
      ['a', '1'],
      ['b', 42 as unknown as string],
    ]),
    /mset pair #1/,
  );
  await assert.rejects(index.mset([]), ValidationError);
  assert.equal(index.get('a'), undefined);
  assert.equal(writerStats(index).lastSequence, 0);
});

test('bad keys, values and options are typed errors that change nothing', async () => {
  const dir = join(tempDir('validation'), 'idx');
  await using index = await Index.open(dir, { maxValueBytes: 10 });
  await assert.rejects(index.set('', 'v'), /must not be empty/);
  await assert.rejects(index.set(5 as unknown as string, 'v'), /a key must be a string or a Uint8Array, got number/);
  await assert.rejects(index.set('k', null as unknown as string), ValidationError);
  await assert.rejects(index.set('k'.repeat(70_000), 'v'), /limit is 65535 bytes/);
  await assert.rejects(index.set('k', 'x'.repeat(11)), /limit is 10 bytes/);
  await assert.rejects(index.delete(new Uint8Array(0)), ValidationError);
  assert.throws(() => index.get(''), ValidationError);
  assert.throws(() => index.get(new Uint8Array(0)), /must not be empty/);
  assert.throws(() => index.get(7 as unknown as string), /a key must be a string or a Uint8Array, got number/);
  assert.throws(() => index.get('é'.repeat(40_000)), /80000 bytes; the limit is 65535 bytes/);
  assert.throws(() => index.has(''), ValidationError);
  assert.throws(() => index.range({ gte: 1 as unknown as string }), /range option 'gte'/);
  assert.throws(() => index.range({ sideways: true } as never), /unknown range option 'sideways'/);
  assert.throws(
    () => index.range({ gte: 'a', gt: 'b' }),
    /at most one of the range options gte and gt/,
    'at the call, not at the first next()',
  );
  assert.throws(() => index.range({ lte: 'a', lt: 'b' }), /at most one of the range options lte and lt/);
  assert.throws(() => index.fuzzy('abc', -1), /maxEdits/);
  assert.equal(writerStats(index).lastSequence, 0);
  await assert.rejects(Index.open(join(tempDir('bad-options'), 'idx'), { durability: 'sometimes' } as never), /durability/);
  await assert.rejects(Index.open(join(tempDir('bad-options'), 'idx'), { refreshIntervalMs: -5 }), ValidationError);
  await assert.rejects(Index.open(join(tempDir('bad-options'), 'idx'), { colour: 'blue' } as never), /colour/);
});

test("with role 'writer', a second writer is refused at once with LockError, and can open once the first closes", async () => {
  const dir = join(tempDir('lock'), 'idx');
  const first = await Index.open(dir);
  await assert.rejects(
    Index.open(dir, { role: 'writer' }),
    (error: unknown) => error instanceof LockError && error.message.includes(String(process.pid)),
  );
  await first.close();
  const second = await Index.open(dir, { role: 'writer' });
  await second.close();
});

test('every call after close is a ClosedError, and close is idempotent', async () => {
  const index = await Index.open(join(tempDir('closed'), 'idx'));
  await index.set('k', 'v');
  await index.close();
  await index.close();
  await assert.rejects(index.set('k', 'v'), ClosedError);
  await assert.rejects(index.flush(), ClosedError);
  assert.throws(() => index.get('k'), ClosedError);
  assert.throws(() => index.range(), ClosedError);
  assert.throws(() => index.stats(), ClosedError);
});

test('the refresh interval flushes new writes by itself and emits flush', async () => {
  const clock = new ManualClock();
  await using index = await Index.open(join(tempDir('timer'), 'idx'), { refreshIntervalMs: 20 }, { clock });
  const flushed = new Promise<FlushEvent>((resolve) => index.once('flush', resolve));
  await index.set('k', 'v');
  clock.advance(19);
  assert.equal(writerStats(index).memtable.sealed + writerStats(index).flushes, 0, 'not before the interval is up');
  clock.advance(1);
  const event = await flushed;
  assert.equal(event.entries, 1);
  assert.equal(event.fromSequence, 1);
  assert.equal(index.stats().segments.length, 1);
  assert.equal(index.stats().coveredSequence, 1);
});

test('a full memtable flushes early, and writes go on meanwhile', async () => {
  await using index = await Index.open(join(tempDir('memtable'), 'idx'), { memtableBytes: 4096 }, { clock: new ManualClock() });
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 500; i++) writes.push(index.set(`key${String(i).padStart(4, '0')}`, 'x'.repeat(50)));
  await Promise.all(writes);
  await index.flush();
  const stats = writerStats(index);
  assert.ok(stats.flushes >= 5, `only ${stats.flushes} flushes`);
  assert.equal(
    stats.segments.reduce((n, s) => n + s.entries, 0),
    500,
  );
  assert.equal([...index.range()].length, 500);
});

test('flushed log files are deleted and the manifest covers what they held', async () => {
  const dir = join(tempDir('truncate'), 'idx');
  await using index = await Index.open(dir, { walFileBytes: 1024 }, { clock: new ManualClock() });
  for (let i = 0; i < 40; i++) await index.set(`k${i}`, 'v'.repeat(100));
  assert.ok(writerStats(index).wal.files > 2, `the log rotated into ${writerStats(index).wal.files} files`);
  await index.flush();
  const stats = writerStats(index);
  assert.equal(stats.coveredSequence, 40);
  assert.equal(stats.wal.files, 1, 'only the newest log file is kept');
  const logFiles = readdirSync(join(dir, 'wal')).filter((name) => sequenceOfLogFile(name) !== undefined);
  assert.equal(logFiles.length, 1, 'one log file is left, besides the acknowledged marker');
});

test('a write error stops the writer: later writes fail, reads go on, and a reopen keeps every acknowledged write', async () => {
  const dir = join(tempDir('fault'), 'idx');
  const fs = new FaultInjectingFileSystem(nodeFileSystem);
  const index = await Index.open(dir, { fs, durability: 'fsync' }, { clock: new ManualClock() });
  await index.set('before', '1');
  const errors: Error[] = [];
  index.on('error', (error) => errors.push(error));
  fs.addFault({ operation: 'datasync', nth: 1, code: 'EIO', sticky: true });
  await assert.rejects(index.set('during', '2'), /EIO/);
  await assert.rejects(index.set('after', '3'), WriterFailedError);
  await assert.rejects(index.flush(), /EIO|stopped/);
  assert.equal(errors.length, 1);
  assert.equal(index.get('before'), '1');
  assert.match(writerStats(index).failed ?? '', /EIO/);
  await index.close();
  const reopened = await Index.open(dir);
  assert.equal(reopened.get('before'), '1');
  assert.equal(reopened.get('during'), undefined, 'its promise rejected, so the log cut it off');
  assert.equal(reopened.get('after'), undefined);
  await reopened.close();
});

for (const { mode, fault } of [
  { mode: 'fsync', fault: { operation: 'datasync', nth: 1, code: 'EIO', sticky: true } },
  { mode: 'write', fault: { operation: 'write', nth: 1, code: 'ENOSPC', partial: true } },
] as const) {
  test(`a write whose promise rejected is never visible: not to reads here, not to readers, not after a reopen (${mode} mode, ${fault.operation} fails)`, async () => {
    const dir = join(tempDir('refused'), 'idx');
    const fs = new FaultInjectingFileSystem(nodeFileSystem);
    const index = await Index.open(dir, { fs, durability: mode, memtableBytes: 4096 }, { clock: new ManualClock() });
    index.on('error', () => undefined);
    await index.mset([
      ['kept', 'old'],
      ['doomed', 'still here'],
    ]);
    await index.flush();
    await index.set('kept', 'newer, acknowledged');
    fs.addFault(fault);
    // One turn: an overwrite, a delete, new keys, a batch, and more than a memtable's worth, so some sit in a sealed table.
    const refused = [index.set('kept', 'refused'), index.delete('doomed'), index.mset([['batch', 'refused']])];
    for (let i = 0; i < 100; i++) refused.push(index.set(`fresh${i}`, 'x'.repeat(100)));
    assert.equal(index.get('kept'), 'refused', 'served at once, before the log has it');
    const outcomes = await Promise.allSettled(refused);
    assert.ok(
      outcomes.every((outcome) => outcome.status === 'rejected'),
      'the log refused every one of them',
    );
    const visible = (reads: { get(key: string): unknown; has(key: string): boolean }, where: string): void => {
      assert.equal(reads.get('kept'), 'newer, acknowledged', `${where}: the overwrite is gone`);
      assert.equal(reads.get('doomed'), 'still here', `${where}: the delete is gone`);
      assert.equal(reads.has('batch'), false, `${where}: the batch is gone`);
      assert.equal(reads.has('fresh0'), false, `${where}: the new keys are gone`);
      assert.equal(reads.has('fresh99'), false, `${where}: the new keys are gone`);
    };
    visible(index, 'this process');
    assert.deepEqual(
      [...index.range()].map(([key]) => key),
      ['doomed', 'kept'],
    );
    await assert.rejects(index.flush());
    const reader = await ReadOnlyIndex.open(dir);
    assert.equal(reader.has('fresh0'), false, 'no segment holds a refused write');
    await reader.close();
    await index.close();
    const reopened = await Index.open(dir);
    visible(reopened, 'after a reopen');
    await reopened.close();
  });
}

test("in 'none' mode a clean close keeps everything", async () => {
  const dir = join(tempDir('none'), 'idx');
  const index = await Index.open(dir, { durability: 'none' }, { clock: new ManualClock() });
  for (let i = 0; i < 100; i++) void index.set(`k${i}`, `v${i}`);
  await index.close();
  const reopened = await Index.open(dir);
  assert.equal(reopened.get('k99'), 'v99');
  assert.equal([...reopened.range()].length, 100);
  await reopened.close();
});

test('stats describe the index', async () => {
  const dir = join(tempDir('stats'), 'idx');
  // The refresh timer stays still (a manual clock): a tick between the writes and the checks would flush.
  await using index = await Index.open(dir, { durability: 'fsync' }, { clock: new ManualClock() });
  await index.mset([
    ['a', '1'],
    ['b', '2'],
  ]);
  let stats = writerStats(index);
  assert.equal(stats.durability, 'fsync');
  assert.deepEqual(stats.memtable, { entries: 2, bytes: stats.memtable.bytes, sealed: 0 });
  assert.equal(stats.lastSequence, 2);
  await index.flush();
  stats = writerStats(index);
  assert.equal(stats.generation, 1);
  assert.equal(stats.segments.length, 1);
  assert.equal(stats.segmentBytes, stats.segments[0]!.bytes);
  assert.ok(existsSync(join(dir, 'segments', `${stats.segments[0]!.id}.seg`)));
});

test('writes are acknowledged while a flush is still running', async () => {
  await using index = await Index.open(join(tempDir('write-during-flush'), 'idx'), {}, { clock: new ManualClock() });
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < 50_000; i++) pairs.push([`key${i}`, 'x'.repeat(40)]);
  await index.mset(pairs);
  let flushDone = false;
  const flushing = index.flush().then(() => {
    flushDone = true;
  });
  await index.set('during', 'the flush');
  assert.equal(flushDone, false, 'the set waited for the flush');
  assert.equal(index.get('during'), 'the flush');
  await flushing;
  assert.equal(index.get('key49999'), 'x'.repeat(40));
});

test('single writes of one turn share one log record, which goes out before a batch made after them', async () => {
  const dir = join(tempDir('pending-record'), 'idx');
  const index = await Index.open(dir, { refreshIntervalMs: 2 ** 31 - 1 });
  const writes: Array<Promise<void>> = [];
  for (let i = 0; i < 200; i++) writes.push(index.set(`k${i}`, `v${i}`));
  writes.push(index.delete('k7'));
  writes.push(
    index.mset([
      ['k3', 'from the batch'],
      ['k4', 'also'],
    ]),
  );
  assert.equal(index.get('k3'), 'from the batch', 'read-your-writes, in call order');
  await Promise.all(writes);
  const records = readLogRange(nodeFileSystem, join(dir, 'wal'), 1, 203);
  assert.deepEqual(
    records.map((record) => record.entries.length),
    [201, 2],
    'the 201 single writes in one record, then the batch in its own',
  );
  await index.close();
  await using reopened = await Index.open(dir);
  assert.equal(reopened.get('k3'), 'from the batch');
  assert.equal(reopened.get('k7'), undefined);
  assert.equal(reopened.get('k199'), 'v199');
});
