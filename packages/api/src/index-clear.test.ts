import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { nodeFileSystem, ValidationError } from '@silt/fs';
import { readLogRange } from '@silt/wal';
import { tempDir } from '@silt/test-support';
import { Index } from './index-handle.js';
import { writerStats } from './test-support/writer-stats.js';

/** Kinds of the entries of the newest log record. */
function lastRecordKinds(dir: string, index: Index): string[] {
  const records = readLogRange(nodeFileSystem, join(dir, 'wal'), 1, writerStats(index).lastSequence);
  return records.at(-1)!.entries.map((entry) => entry.kind);
}

async function letters(dir: string): Promise<Index> {
  const index = await Index.open(dir);
  await index.mset([...'abcdefgh'].map((letter) => [letter, letter.toUpperCase()] as const));
  await index.mset([
    ['user:1', 'x'],
    ['user:2', 'y'],
  ]);
  return index;
}

test('clear(range) deletes the live keys of the range, in segments and memtables, as one log record', async () => {
  const dir = join(tempDir('clear'), 'idx');
  let index = await letters(dir);
  await index.flush();
  await index.delete('d'); // a tombstone in the memtable: not a live key, not deleted again
  await index.set('c', 'newer');
  await index.clear({ gte: 'b', lt: 'f' });
  assert.deepEqual(lastRecordKinds(dir, index), ['delete', 'delete', 'delete']);
  assert.deepEqual([...index.keys()], ['a', 'f', 'g', 'h', 'user:1', 'user:2']);
  await index.clear({ prefix: 'user:' });
  await index.clear({ gt: 'f', limit: 1 });
  const check = (): void =>
    assert.deepEqual(
      [...index.range()],
      [
        ['a', 'A'],
        ['f', 'F'],
        ['h', 'H'],
      ],
    );
  check();
  await index.close();
  index = await Index.open(dir);
  check();
  await index.clear();
  assert.deepEqual([...index.range()], []);
  await index.close();
  index = await Index.open(dir);
  assert.deepEqual([...index.range()], []);
  await index.close();
});

test('a clear of an empty range writes nothing; writes after the clear are kept', async () => {
  const dir = join(tempDir('clear-empty'), 'idx');
  await using index = await letters(dir);
  const before = writerStats(index).lastSequence;
  await index.clear({ prefix: 'nothing here' });
  assert.equal(writerStats(index).lastSequence, before);
  const cleared = index.clear({ prefix: 'user:' });
  const after = index.set('user:3', 'z'); // issued after the clear: not touched by it
  await Promise.all([cleared, after]);
  assert.deepEqual([...index.range({ prefix: 'user:' })], [['user:3', 'z']]);
});

test('clear refuses bad range options and a range too large for one log record, and deletes nothing', async () => {
  const dir = join(tempDir('clear-refused'), 'idx');
  await using index = await Index.open(dir, { memtableBytes: 64 * 1024 * 1024 });
  await index.set('keep', 'v');
  await assert.rejects(index.clear({ gte: 7 } as never), ValidationError);
  await assert.rejects(index.clear({ bogus: 'a' } as never), ValidationError);
  const key = (i: number): string => `${String(i).padStart(8, '0')}${'k'.repeat(200)}`;
  const keys = 80_000; // 80,000 deletes of 213 bytes: more than one 16 MiB record
  for (let i = 0; i < keys; i += 10_000) await index.mset(Array.from({ length: 10_000 }, (_, j) => [key(i + j), ''] as const));
  const before = writerStats(index).lastSequence;
  await assert.rejects(index.clear(), /maxRecordBytes/);
  assert.equal(writerStats(index).lastSequence, before);
  assert.equal(index.get(key(0)), '');
  assert.equal(index.get('keep'), 'v');
});
