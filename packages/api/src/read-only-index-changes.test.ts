import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ReadOnlyIndex } from '@silt/reader';
import { tempDir } from '@silt/test-support';
import { Index } from './index-handle.js';
import { take } from './test-support/change-subscriptions.js';

/** No timer flush: a test flushes when it means to. */
const QUIET = { refreshIntervalMs: 2 ** 31 - 1 } as const;

test('a reader change feed yields the writer acknowledged writes in order, filtered, across a flush, and resumes from since', async () => {
  const dir = join(tempDir('reader-changes'), 'idx');
  await using index = await Index.open(dir, { ...QUIET, walFileBytes: 4096 });
  await index.set('user/0', 'before the feed');
  await using reader = await ReadOnlyIndex.open(dir);
  const users = reader.changes({ prefix: 'user/' });
  await index.set('user/1', 'one');
  await index.set('order/1', 'not a user');
  await index.mset([
    ['user/2', Uint8Array.of(2)],
    ['order/2', 'not a user either'],
  ]);
  await index.flush(); // the log files it read so far may go
  await index.delete('user/1');
  const seen = await take(users, 3);
  assert.deepEqual(seen, [
    { key: 'user/1', value: 'one', sequence: 2 },
    { key: 'user/2', value: Uint8Array.of(2), sequence: 4 },
    { key: 'user/1', deleted: true, sequence: 6 },
  ]);
  users.close();

  const resumed = reader.changes({ since: 4 });
  await index.set('user/3', 'three');
  assert.deepEqual(await take(resumed, 3), [
    { key: 'order/2', value: 'not a user either', sequence: 5 },
    { key: 'user/1', deleted: true, sequence: 6 },
    { key: 'user/3', value: 'three', sequence: 7 },
  ]);
});

test('closing the reader ends its change feeds quietly', { timeout: 60_000 }, async () => {
  const dir = join(tempDir('reader-changes-close'), 'idx');
  await using index = await Index.open(dir, QUIET);
  await index.set('a', '1');
  const reader = await ReadOnlyIndex.open(dir, { tail: false });
  const subscription = reader.changes();
  const ended = subscription.next();
  await reader.close();
  assert.deepEqual(await ended, { done: true, value: undefined });
});
