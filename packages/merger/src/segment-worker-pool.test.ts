import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ClosedError, CrashSimFileSystem } from '@silt/fs';
import { WriteAheadLog, type WalEntry } from '@silt/wal';
import { SegmentReader } from '@silt/segments';
import { SegmentWorkerPool } from './segment-worker-pool.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const put = (key: string, value: string | Uint8Array): WalEntry =>
  typeof value === 'string' ? { kind: 'put', key: encode(key), value: encode(value), valueIsText: true } : { kind: 'put', key: encode(key), value };
const del = (key: string): WalEntry => ({ kind: 'delete', key: encode(key) });

async function logWith(dir: string, batches: WalEntry[][]): Promise<WriteAheadLog> {
  const wal = await WriteAheadLog.open(join(dir, 'wal'));
  for (const batch of batches) await wal.append(batch);
  return wal;
}

for (const where of ['a worker thread', 'this thread'] as const) {
  test(`a flush in ${where} writes the newest operation per key of exactly its log range`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'silt-flush-'));
    mkdirSync(join(dir, 'segments'));
    const pool = new SegmentWorkerPool(where === 'this thread' ? { inProcessFs: new CrashSimFileSystem({ seed: 1 }) } : {});
    try {
      // Sequences 1..3 lie before the range; 4..9 are in it; 10 is after it.
      const wal = await logWith(dir, [
        [put('early', 'x')],
        [put('b', 'old'), put('gone', 'soon')],
        [put('b', 'new'), put('bin', Uint8Array.of(0, 255)), del('gone')],
        [put('a', '1'), put('c', 'é')],
        [del('early')],
        [put('late', 'after the range')],
      ]);
      const result = await pool.flush({ walDirectory: join(dir, 'wal'), fromSequence: 4, toSequence: 9, segmentPath: join(dir, 'segments', '1.seg') });
      await wal.close();
      assert.equal(result.minSequence, 4);
      assert.equal(result.maxSequence, 9);
      assert.equal(result.entries, 6);
      assert.equal(result.tombstones, 2);
      assert.deepEqual(result.minKey, encode('a'));
      assert.deepEqual(result.maxKey, encode('gone'));
      const reader = SegmentReader.open(result.path);
      assert.deepEqual([...reader.range()], [['a', '1'], ['b', 'new'], ['bin', Uint8Array.of(0, 255)], ['c', 'é']]);
      assert.deepEqual(reader.lookup('gone'), { kind: 'tombstone' });
      assert.deepEqual(reader.lookup('early'), { kind: 'tombstone' });
      assert.equal(reader.lookup('late'), undefined);
      reader.close();
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a closed pool refuses work', async () => {
  const pool = new SegmentWorkerPool();
  await pool.close();
  await assert.rejects(pool.flush({ walDirectory: '/nowhere', fromSequence: 1, toSequence: 1, segmentPath: '/nowhere/1.seg' }), ClosedError);
});
