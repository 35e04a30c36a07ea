import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ClosedError, logFileName, ValidationError } from '@silt/fs';
import { ChangesTooOldError } from '@silt/reader';
import { tempDir } from '@silt/test-support';
import { Index } from './index-handle.js';
import { take } from './test-support/change-subscriptions.js';

/** No timer flush: a test flushes when it means to. */
const QUIET = { refreshIntervalMs: 2 ** 31 - 1 } as const;

test('Index.changes yields every acknowledged set, mset entry and delete from now on, in sequence order, values as written', async () => {
  await using index = await Index.open(join(tempDir('changes'), 'idx'), QUIET);
  await index.set('before', 'not in the feed');
  const subscription = index.changes();
  await index.set('a', 'one');
  await index.mset([
    ['b', Uint8Array.of(7)],
    ['c', 'three'],
  ]);
  await index.delete('a');
  assert.deepEqual(await take(subscription, 4), [
    { key: 'a', value: 'one', sequence: 2 },
    { key: 'b', value: Uint8Array.of(7), sequence: 3 },
    { key: 'c', value: 'three', sequence: 4 },
    { key: 'a', deleted: true, sequence: 5 },
  ]);
});

test('Index.changes hands keys back as the index keyEncoding says, and filters by prefix', async () => {
  await using index = await Index.open(join(tempDir('changes-binary'), 'idx'), { ...QUIET, keyEncoding: 'binary' });
  const subscription = index.changes({ prefix: Uint8Array.of(1) });
  await index.set(Uint8Array.of(0, 9), 'no');
  await index.set(Uint8Array.of(1, 9), 'yes');
  assert.deepEqual(await take(subscription, 1), [{ key: Uint8Array.of(1, 9), value: 'yes', sequence: 2 }]);
});

test('a subscription that keeps up follows the log across flushes that delete its files', async () => {
  const dir = join(tempDir('changes-flush'), 'idx');
  await using index = await Index.open(dir, { ...QUIET, walFileBytes: 4096 });
  const subscription = index.changes();
  const seen: number[] = [];
  for (let round = 0; round < 5; round++) {
    await Promise.all(Array.from({ length: 40 }, (_, i) => index.set(`k${round}-${i}`, 'v'.repeat(100))));
    for (const change of await take(subscription, 40)) seen.push(change.sequence);
    await index.flush();
  }
  assert.deepEqual(
    seen,
    Array.from({ length: 200 }, (_, i) => i + 1),
  );
  assert.ok(!existsSync(join(dir, 'wal', logFileName(1))), 'the flushes deleted log files meanwhile');
});

test('since resumes after a reopen while the log still holds the rest, and is too old once a flush deleted it', async () => {
  const dir = join(tempDir('changes-since'), 'idx');
  let index = await Index.open(dir, { ...QUIET, walFileBytes: 4096 });
  const first = index.changes();
  await index.mset(Array.from({ length: 10 }, (_, i) => [`k${i}`, `v${i}`] as const));
  const [one] = await take(first, 1);
  await index.close();
  assert.equal(first.closed, true, 'closing the index ended it');
  index = await Index.open(dir, { ...QUIET, walFileBytes: 4096 });
  try {
    const resumed = index.changes({ since: one!.sequence });
    assert.deepEqual(
      (await take(resumed, 9)).map((change) => change.key),
      Array.from({ length: 9 }, (_, i) => `k${i + 1}`),
    );
    await Promise.all(Array.from({ length: 100 }, (_, i) => index.set(`later${i}`, 'x'.repeat(100))));
    await index.flush();
    await assert.rejects(index.changes({ since: one!.sequence }).next(), (error: unknown) => {
      assert.ok(error instanceof ChangesTooOldError);
      assert.equal(error.since, one!.sequence);
      assert.ok(error.oldestAvailable! > one!.sequence + 1);
      return true;
    });
  } finally {
    await index.close();
  }
});

test("in 'none' durability changes() is refused with a ValidationError saying why", async () => {
  await using index = await Index.open(join(tempDir('changes-none'), 'idx'), { ...QUIET, durability: 'none' });
  assert.throws(
    () => index.changes(),
    (error: unknown) => error instanceof ValidationError && /needs durability 'write' or 'fsync'.*'none' mode/.test(error.message),
  );
});

test('closing the index ends a waiting subscription quietly, and a closed index refuses changes()', async () => {
  const index = await Index.open(join(tempDir('changes-close'), 'idx'), QUIET);
  const subscription = index.changes();
  const waiting = subscription.next();
  await index.close();
  assert.deepEqual(await waiting, { value: undefined, done: true });
  assert.throws(() => index.changes(), ClosedError);
});
