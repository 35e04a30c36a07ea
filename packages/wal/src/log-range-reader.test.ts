import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError, nodeFileSystem } from '@silt/fs';
import { ScratchArena } from '@silt/fs/internal';
import { tempDir } from '@silt/test-support';
import { WriteAheadLog } from './write-ahead-log.js';
import { readLogRange } from './log-range-reader.js';
import { logFileName } from '@silt/fs';
import type { WalEntry } from './wal-entry.js';

const put = (n: number): WalEntry => ({
  kind: 'put',
  key: new TextEncoder().encode(`k${n}`),
  value: new TextEncoder().encode(`v${n}`),
  valueIsText: true,
});

/** A closed log of 30 one-put records in three files (1–10, 11–20, 21–30), and an empty fourth. */
async function threeLogFiles(name: string): Promise<string> {
  const dir = tempDir(name);
  const wal = await WriteAheadLog.open(dir, { durability: 'write' });
  for (let i = 1; i <= 30; i++) {
    await wal.append([put(i)]);
    if (i % 10 === 0) await wal.rotate();
  }
  await wal.close();
  return dir;
}

test('a range read sees exactly the records that overlap it, across rotated files, while the log stays open', async () => {
  const dir = tempDir('wal-range');
  const wal = await WriteAheadLog.open(dir, { durability: 'write' });
  for (let i = 1; i <= 30; i++) {
    await wal.append(i % 3 === 0 ? [put(i), put(i + 1000)] : [put(i)]);
    if (i % 10 === 0) await wal.rotate();
  }
  const last = wal.lastSequence;
  const records = readLogRange(nodeFileSystem, dir, 5, 25);
  assert.ok(records[0]!.firstSeq <= 5);
  const lastRecord = records.at(-1)!;
  assert.ok(lastRecord.firstSeq + lastRecord.entries.length - 1 >= 25);
  for (let i = 1; i < records.length; i++) {
    assert.equal(records[i]!.firstSeq, records[i - 1]!.firstSeq + records[i - 1]!.entries.length);
  }
  assert.equal(
    readLogRange(nodeFileSystem, dir, 1, last).reduce((n, r) => n + r.entries.length, 0),
    last,
  );
  assert.throws(() => readLogRange(nodeFileSystem, dir, 1, last + 5), CorruptionError);
  await wal.truncateBefore(20);
  assert.throws(() => readLogRange(nodeFileSystem, dir, 1, 5), CorruptionError);
  await wal.close();
});

test('a range read across a deleted middle log file is a CorruptionError naming the missing sequence numbers, not a range with a hole', async () => {
  const dir = await threeLogFiles('wal-range-gap');
  unlinkSync(join(dir, logFileName(11)));
  assert.deepEqual(
    readLogRange(nodeFileSystem, dir, 2, 9).map((r) => r.firstSeq),
    [2, 3, 4, 5, 6, 7, 8, 9],
    'a range before the gap reads',
  );
  assert.throws(
    () => readLogRange(nodeFileSystem, dir, 5, 25),
    (error: unknown) => {
      assert.ok(error instanceof CorruptionError);
      assert.match(error.message, /sequence numbers 11–20 are missing/);
      return true;
    },
  );
});

test('damage past the end of a range does not fail the range read: the newest file may hold a write in progress', async () => {
  const dir = tempDir('wal-range-tail');
  const wal = await WriteAheadLog.open(dir, { durability: 'write' });
  for (let i = 1; i <= 10; i++) await wal.append([put(i)]);
  await wal.close();
  const path = join(dir, logFileName(1));
  const bytes = readFileSync(path);
  let eighth = 0;
  for (let record = 1; record < 8; record++) eighth += bytes.readUInt32LE(eighth + 8);
  bytes[eighth + 40]! ^= 0xff;
  writeFileSync(path, bytes);
  assert.equal(readLogRange(nodeFileSystem, dir, 1, 7).length, 7);
  assert.throws(() => readLogRange(nodeFileSystem, dir, 1, 8), CorruptionError);
});

test('a range read into a scratch arena yields the same records as one into fresh buffers, twice over', async () => {
  const dir = await threeLogFiles('wal-range-arena');
  const describe = (records: ReturnType<typeof readLogRange>): string[] =>
    records.flatMap((record) =>
      record.entries.map(
        (entry) =>
          `${record.firstSeq}:${Buffer.from(entry.key).toString()}=${entry.kind === 'put' ? Buffer.from(entry.value).toString() : '-'}`,
      ),
    );
  const expected = describe(readLogRange(nodeFileSystem, dir, 3, 27));
  const arena = new ScratchArena();
  for (let round = 0; round < 2; round++) {
    arena.reset();
    assert.deepEqual(describe(readLogRange(nodeFileSystem, dir, 3, 27, arena)), expected, `round ${round}`);
  }
  assert.ok(arena.capacity > 0, 'the files were read into the arena');
});

test('a range across log files is read into one storage of the arena, sized for all of them before the first read', async () => {
  const dir = await threeLogFiles('wal-range-reserve');
  const filesOfRange = [1, 11, 21].map((first) => statSync(join(dir, logFileName(first))).size);
  const arena = new ScratchArena();
  const storages = (records: ReturnType<typeof readLogRange>): Set<ArrayBufferLike> =>
    new Set(records.flatMap((record) => record.entries.map((entry) => entry.key.buffer)));

  const first = storages(readLogRange(nodeFileSystem, dir, 3, 27, arena));
  // Grown file by file, the second file's read outgrew the first's storage: the next flush faulted most of the new one in again.
  assert.equal(first.size, 1, 'every file of the range lies in one storage');
  assert.equal(
    arena.capacity,
    filesOfRange.reduce((sum, size) => sum + size, 0),
    'sized once, for the files the range covers (not the empty one after it)',
  );
  arena.reset();
  assert.deepEqual(storages(readLogRange(nodeFileSystem, dir, 3, 27, arena)), first, 'the next range reuses it');
});
