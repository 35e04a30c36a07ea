import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { FaultInjectingFileSystem, ManualClock, nodeFileSystem, type FaultRule } from '@silt/fs';
import { ReadOnlyIndex, type TailOverflow } from '@silt/reader';
import { tempDir, whenCondition } from '@silt/test-support';
import { Index } from './index-handle.js';
import { writerStats } from './test-support/writer-stats.js';

/**
 * A reader tailing the log of a real writer (`Index`), in the writer's
 * process: what the reader shows against what the writer acknowledged.
 * (Readers in processes of their own, and writer kills: elsewhere.)
 */

/** Only file-system events wake these readers within a test's lifetime: no safety poll. */
const EVENTS_ONLY = { pollIntervalMs: 2 ** 31 - 1 } as const;

/** Resolves once `condition` holds, checked now and at each 'tail' and 'refresh' of `reader`; fails after 10 s. */
function until(reader: ReadOnlyIndex, condition: () => boolean, what: string): Promise<void> {
  const state = (): string => `visible sequence ${reader.visibleSequence}, generation ${reader.generation}`;
  return whenCondition(reader, ['tail', 'refresh'], condition, what, state);
}

for (const durability of ['fsync', 'write'] as const) {
  test(`in '${durability}' mode a write is visible in a reader without any flush, and an idle writer's last write too`, async () => {
    const dir = join(tempDir('tail-index'), 'idx');
    // A manual clock: the writer's refresh timer never flushes.
    await using index = await Index.open(dir, { durability }, { clock: new ManualClock() });
    await using reader = await ReadOnlyIndex.open(dir, EVENTS_ONLY);
    await index.set('a', 'first');
    await until(reader, () => reader.get('a') === 'first', 'the first write');
    await index.mset([
      ['b', Uint8Array.of(9)],
      ['a', 'second'],
    ]);
    await index.delete('b');
    // The writer is idle from here on: nothing later carries the last write along.
    await until(reader, () => reader.visibleSequence === writerStats(index).lastSequence, 'the idle writer’s last write');
    assert.equal(reader.get('a'), 'second');
    assert.equal(reader.has('b'), false);
    assert.equal(reader.generation, index.stats().generation);
    assert.equal(writerStats(index).flushes, 0, 'no flush: the reader tailed the log');
  });
}

for (const { durability, fault } of [
  { durability: 'fsync', fault: { operation: 'datasync', nth: 1, code: 'EIO', sticky: true } },
  { durability: 'write', fault: { operation: 'write', nth: 1, code: 'ENOSPC', partial: true, pathIncludes: '.log' } },
] as const satisfies ReadonlyArray<{ durability: 'fsync' | 'write'; fault: FaultRule }>) {
  test(`a write whose promise rejected is never visible in a tailing reader, nor after the writer closes or reopens (${durability} mode, ${fault.operation} fails)`, async () => {
    const dir = join(tempDir('tail-refused'), 'idx');
    const fs = new FaultInjectingFileSystem(nodeFileSystem);
    const index = await Index.open(dir, { fs, durability }, { clock: new ManualClock() });
    index.on('error', () => undefined);
    await using reader = await ReadOnlyIndex.open(dir, EVENTS_ONLY);
    await index.mset([
      ['kept', 'acknowledged'],
      ['doomed', 'still here'],
    ]);
    await until(reader, () => reader.get('doomed') === 'still here', 'the acknowledged writes');
    const acknowledged = reader.visibleSequence;
    fs.addFault(fault);
    const refused = [index.set('kept', 'refused'), index.delete('doomed'), index.set('fresh', 'refused')];
    const outcomes = await Promise.allSettled(refused);
    assert.ok(
      outcomes.every((outcome) => outcome.status === 'rejected'),
      'the log refused every one of them',
    );
    const nothingRefused = (where: string): void => {
      assert.equal(reader.get('kept'), 'acknowledged', `${where}: the overwrite is not visible`);
      assert.equal(reader.get('doomed'), 'still here', `${where}: the delete is not visible`);
      assert.equal(reader.has('fresh'), false, `${where}: the new key is not visible`);
      assert.equal(reader.visibleSequence, acknowledged, where);
    };
    await reader.refresh(); // reads all the log acknowledges
    nothingRefused('after the refusal');
    await index.close().catch(() => undefined);
    await reader.refresh();
    nothingRefused('after the writer closed');
    const reopened = await Index.open(dir, { durability }, { clock: new ManualClock() });
    try {
      await reader.refresh();
      nothingRefused('after a reopen');
      await reopened.set('next', 'write');
      await until(reader, () => reader.get('next') === 'write', 'the reopened writer’s first write');
      assert.equal(reader.get('kept'), 'acknowledged');
      assert.equal(reader.has('fresh'), false);
    } finally {
      await reopened.close();
    }
  });
}

test('under a writer that rotates its log, flushes, deletes covered log files and merges, a reader sees every write and never goes back', async () => {
  const dir = join(tempDir('tail-flushes'), 'idx');
  const index = await Index.open(dir, { walFileBytes: 1024 }, { clock: new ManualClock() });
  try {
    await using reader = await ReadOnlyIndex.open(dir, EVENTS_ONLY);
    const errors: Error[] = [];
    reader.on('error', (error) => errors.push(error));
    // Values carry their sequence number (the writer's count of writes), so "older" is a number that went down.
    const newestSeen = new Map<string, number>();
    const model = new Map<string, string>();
    const nothingWentBack = (): void => {
      for (const key of model.keys()) {
        const value = reader.get(key);
        if (value === undefined) continue;
        const written = Number(String(value).split(':')[0]);
        assert.ok(written >= (newestSeen.get(key) ?? 0), `${key} went back from ${newestSeen.get(key)} to ${written}`);
        newestSeen.set(key, written);
      }
    };
    reader.on('tail', nothingWentBack);
    reader.on('refresh', nothingWentBack);
    let count = 0;
    for (let round = 0; round < 8; round++) {
      for (let n = 0; n < 40; n++) {
        const key = `k${count % 23}`;
        const value = `${++count}:${'x'.repeat(60)}`;
        model.set(key, value);
        void index.set(key, value);
      }
      await index.set(`round`, String(round));
      if (round % 2 === 1) await index.flush();
      if (round % 4 === 3) await index.forceMerge();
      await until(reader, () => reader.visibleSequence === writerStats(index).lastSequence, `round ${round}`);
      for (const [key, value] of model) assert.equal(reader.get(key), value, `${key} in round ${round}`);
    }
    await until(reader, () => reader.generation === index.stats().generation, 'the last generation');
    nothingWentBack();
    assert.ok(writerStats(index).wal.files < 10, 'covered log files were deleted');
    assert.deepEqual(errors, []);
  } finally {
    await index.close();
  }
});

test('a reader of a writer that cannot flush stops at maxTailBytes with an event, and resumes once a flush catches up', async () => {
  const dir = join(tempDir('tail-overflow'), 'idx');
  await using index = await Index.open(dir, {}, { clock: new ManualClock() });
  await using reader = await ReadOnlyIndex.open(dir, { ...EVENTS_ONLY, maxTailBytes: 64 * 1024 });
  const overflowed = once(reader, 'tailOverflow') as Promise<[TailOverflow]>;
  for (let n = 0; n < 100; n++) await index.set(`key${n}`, `${n}:${'v'.repeat(1000)}`);
  const guard = setTimeout(() => assert.fail('no tailOverflow event within 10 s'), 10_000);
  const [overflow] = await overflowed;
  clearTimeout(guard);
  assert.ok(overflow.bytes > overflow.maxTailBytes);
  const paused = reader.visibleSequence;
  await index.set('later', 'waits for a flush');
  await reader.refresh();
  assert.equal(reader.visibleSequence, paused, 'paused');
  assert.equal(reader.get('later'), undefined);
  assert.equal(reader.get('key0'), `0:${'v'.repeat(1000)}`, 'what it showed, it still shows');
  await index.flush();
  await until(reader, () => reader.get('later') === 'waits for a flush', 'the flush');
  assert.equal(reader.stats().tail.following, true);
  await index.set('after', 'tailed again');
  await until(reader, () => reader.get('after') === 'tailed again', 'a write after the resume');
  assert.equal(writerStats(index).flushes, 1);
});
