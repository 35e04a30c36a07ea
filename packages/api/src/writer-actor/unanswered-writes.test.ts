import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { nodeFileSystem } from '@silt/fs';
import { tempDir } from '@silt/test-support';
import { WriteAheadLog } from '@silt/wal';
import { findUnansweredWrites } from './unanswered-writes.js';

const client = (n: number): Uint8Array => new Uint8Array(8).fill(n);
const put = (key: string) => [{ kind: 'put' as const, key, value: 'v' }];

test("a client's unanswered writes are found by their origins: applied ones with their sequence numbers, others absent", async () => {
  const dir = join(tempDir('unanswered'), 'wal');
  const wal = await WriteAheadLog.open(dir);
  try {
    await wal.appendNow(put('a'), { coalesce: true, origin: { client: client(1), request: 5 } }).durable;
    await wal.appendNow(put('b'), { origin: { client: client(2), request: 5 } }).durable;
    await wal.appendNow([...put('c'), ...put('d')], { origin: { client: client(1), request: 6 } }).durable;
    await wal.appendNow(put('own')).durable;
    const mine = findUnansweredWrites(nodeFileSystem, dir, client(1), [5, 6, 7], 1, 5);
    assert.deepEqual(mine, {
      kind: 'read',
      applied: new Map([
        [5, 1],
        [6, 4],
      ]),
    });
    const theirs = findUnansweredWrites(nodeFileSystem, dir, client(2), [5, 6], 2, 5);
    assert.deepEqual(theirs, { kind: 'read', applied: new Map([[5, 2]]) });
    const pastThem = findUnansweredWrites(nodeFileSystem, dir, client(1), [5], 2, 5);
    assert.deepEqual(pastThem, { kind: 'read', applied: new Map() }, 'records before `from` are not read');
  } finally {
    await wal.close();
  }
});

test('a log that no longer holds, or does not yet acknowledge, the range makes the outcome unknown, never "absent"', async () => {
  const dir = join(tempDir('unanswered-gone'), 'wal');
  const wal = await WriteAheadLog.open(dir, { nextSequence: 100 });
  try {
    await wal.appendNow(put('a'), { origin: { client: client(1), request: 1 } }).durable;
    const gone = findUnansweredWrites(nodeFileSystem, dir, client(1), [1], 50, 100);
    assert.equal(gone.kind, 'unknown');
    assert.match(gone.kind === 'unknown' ? gone.reason : '', /no longer holds sequence number 50/);
    const ahead = findUnansweredWrites(nodeFileSystem, dir, client(1), [1], 100, 120);
    assert.equal(ahead.kind, 'unknown');
  } finally {
    await wal.close();
  }
});
