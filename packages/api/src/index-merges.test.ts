import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '@silt/fs';
import { SeededRandom } from '@silt/fs/internal';
import { Index } from './index-handle.js';
import { MergeFailedError, type MergeEvent } from './merge-scheduler.js';
import type { BackpressureEvent } from './index-events.js';
import { tempDir } from '@silt/test-support';
import { writerStats } from './test-support/writer-stats.js';

const NO_TIMER = { refreshIntervalMs: 2 ** 31 - 1 } as const;

function segmentFiles(dir: string): string[] {
  return readdirSync(join(dir, 'segments')).sort();
}

function byteOrder(entries: Iterable<[string, string]>): Array<[string, string]> {
  return [...entries].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

test('after many flushes the segment count stays bounded, and every value reads back', async () => {
  const dir = join(tempDir('bounded'), 'idx');
  await using index = await Index.open(dir, NO_TIMER);
  const model = new Map<string, string>();
  const random = new SeededRandom(7);
  let mostSegments = 0;
  for (let flush = 0; flush < 80; flush++) {
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < 25; i++) pairs.push([`k${random.intBetween(0, 1500)}`, `v${flush}.${i}`]);
    await index.mset(pairs);
    for (const [key, value] of pairs) model.set(key, value);
    await index.flush();
    mostSegments = Math.max(mostSegments, index.stats().segments.length);
  }
  await index.mergesIdle();
  const stats = writerStats(index);
  assert.ok(stats.merges.completed > 0, 'merges ran');
  // Past the cap (32) each write waits for a merge, so one flush at most goes beyond it.
  assert.ok(mostSegments <= 33, `at most segmentCap + 1 segments at any flush, saw ${mostSegments}`);
  assert.ok(stats.segments.length <= 16, `settles at or under the policy's target, has ${stats.segments.length}`);
  assert.deepEqual([...index.range()], byteOrder(model));
  assert.deepEqual(segmentFiles(dir).length, stats.segments.length, 'merged-away files are collected');
});

test('values after merges equal a Map model, deletes and overwrites included', async () => {
  const dir = join(tempDir('merge-model'), 'idx');
  const model = new Map<string, string>();
  const random = new SeededRandom(11);
  {
    await using index = await Index.open(dir, { ...NO_TIMER, mergePolicy: { minRunLength: 2 } });
    for (let op = 0; op < 6_000; op++) {
      const key = `key:${random.intBetween(0, 800)}`;
      if (random.chance(0.25)) {
        await index.delete(key);
        model.delete(key);
      } else {
        const value = `value ${op}`;
        await index.set(key, value);
        model.set(key, value);
      }
      if (op % 250 === 249) await index.flush();
    }
    await index.forceMerge(1);
    assert.equal(index.stats().segments.length, 1);
    assert.deepEqual([...index.range()], byteOrder(model));
    for (let i = 0; i <= 800; i++) assert.equal(index.get(`key:${i}`), model.get(`key:${i}`));
  }
  await using reopened = await Index.open(dir, NO_TIMER);
  assert.deepEqual([...reopened.range()], byteOrder(model));
});

test('tombstones vanish after a full merge, and the file shrinks', async () => {
  const dir = join(tempDir('tombstones'), 'idx');
  await using index = await Index.open(dir, { ...NO_TIMER, autoMerge: false });
  const value = 'x'.repeat(200);
  await index.mset(Array.from({ length: 2_000 }, (_, i): [string, string] => [`k${i}`, value]));
  await index.flush();
  const fullBytes = index.stats().segmentBytes;
  for (let i = 0; i < 2_000; i++) if (i % 10 !== 0) await index.delete(`k${i}`);
  await index.flush();
  assert.equal(index.stats().segments.length, 2);
  assert.equal(index.stats().segments[1]!.tombstones, 1_800);

  const merged = new Promise<MergeEvent>((resolve) => index.once('merge', resolve));
  await index.forceMerge(1);
  const event = await merged;
  const [segment] = index.stats().segments;
  assert.equal(index.stats().segments.length, 1);
  assert.equal(segment!.tombstones, 0);
  assert.equal(segment!.entries, 200);
  assert.equal(event.droppedTombstones, 1_800);
  assert.deepEqual(event.inputs.length, 2);
  assert.equal(event.output, segment!.id);
  assert.ok(index.stats().segmentBytes < fullBytes / 5, `${index.stats().segmentBytes} bytes after, ${fullBytes} before`);
  assert.deepEqual(segmentFiles(dir), [`${segment!.id}.seg`], 'the inputs are collected');
  assert.equal(index.get('k10'), value);
  assert.equal(index.get('k11'), undefined);
});

test('a full merge of nothing but tombstones leaves no segment at all', async () => {
  const dir = join(tempDir('all-gone'), 'idx');
  await using index = await Index.open(dir, { ...NO_TIMER, autoMerge: false });
  await index.mset([
    ['a', '1'],
    ['b', '2'],
  ]);
  await index.flush();
  await index.delete('a');
  await index.delete('b');
  await index.forceMerge(1);
  assert.equal(index.stats().segments.length, 0);
  assert.deepEqual(segmentFiles(dir), []);
  assert.deepEqual([...index.range()], []);
});

test('forceMerge takes a whole number of segments of at least 1', async () => {
  await using index = await Index.open(join(tempDir('force-args'), 'idx'), NO_TIMER);
  for (const bad of [0, -1, 1.5, Number.NaN, '2'] as unknown[]) {
    await assert.rejects(index.forceMerge(bad as number), ValidationError, String(bad));
  }
});

test('forceMerge(n) stops at n segments, merging the newest first', async () => {
  const dir = join(tempDir('force-n'), 'idx');
  await using index = await Index.open(dir, { ...NO_TIMER, autoMerge: false });
  for (let i = 0; i < 7; i++) {
    await index.set(`k${i}`, `v${i}`);
    await index.flush();
  }
  const oldest = index.stats().segments[0]!.id;
  await index.forceMerge(3);
  const segments = index.stats().segments;
  assert.equal(segments.length, 3);
  assert.equal(segments[0]!.id, oldest, 'the oldest segment was not needed');
  for (let i = 0; i < 7; i++) assert.equal(index.get(`k${i}`), `v${i}`);
});

test('with autoMerge off, only forceMerge merges: the policy starts nothing after it', async () => {
  const dir = join(tempDir('force-only'), 'idx');
  await using index = await Index.open(dir, { ...NO_TIMER, autoMerge: false, mergePolicy: { minRunLength: 2 } });
  for (let i = 0; i < 12; i++) {
    await index.set(`k${i}`, `v${i}`);
    await index.flush();
  }
  assert.equal(index.stats().segments.length, 12, 'flushes started no merge');
  await index.forceMerge(10);
  await index.mergesIdle();
  assert.equal(index.stats().segments.length, 10, 'ten tiny segments, which the policy would merge, stay');
  assert.equal(writerStats(index).merges.completed, 1);
});

// Retries after a failed merge, and their doubling delays, are the scheduler's: merge-scheduler.test.ts drives them with a ManualClock.

test('a merge that fails in its worker changes nothing, raises MergeFailedError, and the writer goes on', async () => {
  const dir = join(tempDir('merge-fails'), 'idx');
  await using index = await Index.open(dir, { ...NO_TIMER, autoMerge: false });
  for (let i = 0; i < 3; i++) {
    await index.mset(Array.from({ length: 500 }, (_, j): [string, string] => [`k${i}.${j}`, 'v'.repeat(50)]));
    await index.flush();
  }
  // Damage a data block of the oldest segment: the merge reads it, the writer's reads of other segments go on.
  const oldest = join(dir, 'segments', `${index.stats().segments[0]!.id}.seg`);
  const damaged = readFileSync(oldest);
  damaged[100] = damaged[100]! ^ 0xff;
  writeFileSync(oldest, damaged);
  const filesBefore = segmentFiles(dir);
  const errors: Error[] = [];
  index.on('error', (error) => errors.push(error));

  await assert.rejects(index.forceMerge(1), MergeFailedError);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof MergeFailedError);
  assert.equal(errors[0].code, 'SILT_MERGE_FAILED');
  assert.deepEqual(segmentFiles(dir), filesBefore, 'no output is left behind');
  assert.equal(index.stats().segments.length, 3);
  assert.equal(writerStats(index).merges.failed, 1);
  assert.equal(writerStats(index).failed, undefined, 'the writer did not fail');
  await index.set('after', 'still writing');
  assert.equal(index.get('after'), 'still writing');
  assert.equal(index.get('k2.7'), 'v'.repeat(50));
});

test('past segmentCap a backpressure event says so, and stats count the segments', async () => {
  const dir = join(tempDir('backpressure'), 'idx');
  await using index = await Index.open(dir, { ...NO_TIMER, autoMerge: false, mergePolicy: { minRunLength: 2, segmentCap: 4 } });
  const events: BackpressureEvent[] = [];
  index.on('backpressure', (event) => events.push(event));
  for (let i = 0; i < 5; i++) {
    await index.set(`k${i}`, 'v');
    await index.flush();
  }
  assert.deepEqual(events, []);
  await index.set('over', 'the cap');
  await index.set('over', 'again');
  assert.deepEqual(events, [{ segments: 5, segmentCap: 4 }], 'one event per episode');
  await index.forceMerge(1);
  await index.set('under', 'the cap');
  assert.equal(events.length, 1);
});

test('automatic merges bring segments of dissimilar sizes back under the cap', async () => {
  const dir = join(tempDir('dissimilar'), 'idx');
  // No floor and a tight size ratio: no tier forms, so only the count target can merge them.
  await using index = await Index.open(dir, {
    ...NO_TIMER,
    mergePolicy: { minRunLength: 4, segmentCap: 8, floorBytes: 0, sizeRatio: 1.01 },
  });
  const sizes = [4000, 1000, 3000, 200, 2500, 700, 1800, 90, 1200, 400];
  for (const [n, size] of sizes.entries()) {
    await index.set(`k${n}`, 'v'.repeat(size));
    await index.flush();
  }
  await index.mergesIdle();
  for (let n = 0; n < sizes.length; n++) assert.equal(index.get(`k${n}`), 'v'.repeat(sizes[n]!));
  assert.ok(index.stats().segments.length <= 8, `${index.stats().segments.length} segments`);
});

test('a range iterator keeps reading across a merge that retires and deletes its segments', async () => {
  const dir = join(tempDir('pinned'), 'idx');
  await using index = await Index.open(dir, { ...NO_TIMER, autoMerge: false, accessMode: 'file', cacheBytes: 0 });
  for (let i = 0; i < 4; i++) {
    await index.mset(Array.from({ length: 300 }, (_, j): [string, string] => [`k${String(j * 4 + i).padStart(5, '0')}`, `v${i}`]));
    await index.flush();
  }
  const iterator = index.range();
  const first = iterator.next();
  assert.equal(first.done, false);
  await index.forceMerge(1);
  assert.equal(segmentFiles(dir).length, 1, 'the old files are gone from the directory');
  let count = 1;
  for (const _ of iterator) count++;
  assert.equal(count, 1_200);
});

test('merge options are validated with the other options', async () => {
  for (const bad of [
    { mergeThreads: 0 },
    { mergePolicy: { segmentCap: 1 } },
    { mergePolicy: { minRunLength: 12 } },
    { mergePolicy: { unknown: 1 } },
    { autoMerge: 'yes' },
  ]) {
    await assert.rejects(Index.open(join(tempDir('bad-merge-options'), 'idx'), bad as never), ValidationError, JSON.stringify(bad));
  }
});

test('a merge writes its output once: flushed bytes plus merged bytes is what reached the disk', async () => {
  const dir = join(tempDir('write-amp'), 'idx');
  await using index = await Index.open(dir, { ...NO_TIMER, autoMerge: false });
  let flushed = 0;
  index.on('flush', (event) => (flushed += event.bytes));
  for (let i = 0; i < 4; i++) {
    await index.mset(Array.from({ length: 200 }, (_, j): [string, string] => [`k${i}.${j}`, 'v'.repeat(30)]));
    await index.flush();
  }
  await index.forceMerge(1);
  const [segment] = index.stats().segments;
  assert.equal(writerStats(index).merges.bytesWritten, segment!.bytes);
  assert.equal(statSync(join(dir, 'segments', `${segment!.id}.seg`)).size, segment!.bytes);
  assert.ok(flushed > 0);
});
