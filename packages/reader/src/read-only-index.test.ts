import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  ClosedError,
  CorruptionError,
  CrashSimFileSystem,
  FaultInjectingFileSystem,
  IoError,
  ManualClock,
  nodeFileSystem,
  ValidationError,
  type FaultOperation,
} from '@silt/fs';
import { MANIFEST_FILE, segmentFileName } from '@silt/fs';
import { ManifestNotFoundError, WriterLock, type SegmentRecord } from '@silt/segments';
import { ReadOnlyIndex } from './read-only-index.js';
import { readOnlyIndexOptionsSchema } from './read-only-index-options.js';
import { FixtureWriter, type FixtureEntry } from './test-support/index-fixture.js';
import { nextEvent, tempDir } from '@silt/test-support';

/** The writer-lock child of @silt/segments' tests; with `release` it prints `locked <holder pid>`, or `acquired <its pid>` and lets go. */
const LOCK_HOLDER = fileURLToPath(new URL('./catalog/test-support/lock-holder.js', import.meta.resolve('@silt/segments')));
/** Only file-system events can refresh these readers within a test's lifetime. */
const EVENTS_ONLY = { pollIntervalMs: 2 ** 31 - 1 } as const;
/** A reader that does not refresh unless told. */
const FIXED = { watch: false } as const;

const pairs = (reader: ReadOnlyIndex): Array<[string, string]> => [...reader.range()] as Array<[string, string]>;
const modelPairs = (model: Map<string, string>): Array<[string, string]> => [...model.entries()];

const nextRefresh = (reader: ReadOnlyIndex): Promise<number> => nextEvent<number>(reader, 'refresh');

/** Lets a check the clock just started run to its end: it reads the manifest and, in 'file' mode, opens files at once. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Counts the calls of `operation` on segment files made through the returned file system. */
function countingFs(operation: FaultOperation): { fs: FaultInjectingFileSystem; calls: string[] } {
  const calls: string[] = [];
  const fs = new FaultInjectingFileSystem(nodeFileSystem, [], (called, path) => {
    if (called === operation && path.endsWith('.seg')) calls.push(path);
  });
  return { fs, calls };
}

test('a reader serves the newest data across segments: get, has, range, near, fuzzy', async () => {
  const writer = FixtureWriter.create('reads');
  await writer.flush([
    ['apple', 'old'],
    ['apricot', '1'],
    ['banana', '2'],
    ['cherry', 'gone'],
  ]);
  await writer.flush([
    ['apple', 'new'],
    ['cherry', null],
    ['applet', '3'],
  ]);
  await using reader = await ReadOnlyIndex.open(writer.directory, FIXED);
  assert.equal(reader.generation, 2);
  assert.equal(reader.get('apple'), 'new');
  assert.equal(reader.get('cherry'), undefined);
  assert.equal(reader.has('banana'), true);
  assert.equal(reader.has('cherry'), false);
  assert.deepEqual(pairs(reader), modelPairs(writer.model()));
  assert.deepEqual(
    [...reader.range({ prefix: 'ap', reverse: true, limit: 2 })],
    [
      ['apricot', '1'],
      ['applet', '3'],
    ],
  );
  assert.deepEqual(reader.near('applesauce'), [
    ['apple', 'new'],
    ['applet', '3'],
  ]);
  assert.deepEqual(reader.fuzzy('banano', 1), [['banana', '2']]);
  assert.throws(() => reader.get(''), ValidationError);
});

test('refresh() moves to the newest generation, resolves with it and emits refresh; isCurrent() tells when it is behind', async () => {
  const writer = FixtureWriter.create('refresh');
  await writer.flush([['a', '1']]);
  await using reader = await ReadOnlyIndex.open(writer.directory, FIXED);
  const refreshed: number[] = [];
  reader.on('refresh', (generation) => refreshed.push(generation));
  assert.equal(reader.isCurrent(), true);
  assert.equal(await reader.refresh(), 1, 'nothing new: the same generation');
  await writer.flush([
    ['a', '2'],
    ['b', '1'],
  ]);
  await writer.flush([['c', '1']]);
  assert.equal(reader.isCurrent(), false);
  assert.equal(reader.get('a'), '1', 'a snapshot: the commit is not seen before a refresh');
  assert.equal(await reader.refresh(), 3);
  assert.equal(reader.isCurrent(), true);
  assert.deepEqual(refreshed, [3]);
  assert.deepEqual(pairs(reader), modelPairs(writer.model()));
});

test('a refresh opens only the new segments and reuses the open readers of the others', async () => {
  const writer = FixtureWriter.create('reuse');
  const first = await writer.flush([['a', '1']]);
  const second = await writer.flush([['b', '1']]);
  const { fs, calls } = countingFs('open');
  await using reader = await ReadOnlyIndex.open(writer.directory, { ...FIXED, accessMode: 'file', fs });
  assert.deepEqual(calls.sort(), [writer.segmentPath(first), writer.segmentPath(second)].sort());
  const third = await writer.flush([['c', '1']]);
  await reader.refresh();
  assert.deepEqual(calls.slice(2), [writer.segmentPath(third)]);
  const merged = await writer.merge([second, third]);
  await reader.refresh();
  assert.deepEqual(calls.slice(3), [writer.segmentPath(merged)]);
  assert.deepEqual(pairs(reader), [
    ['a', '1'],
    ['b', '1'],
    ['c', '1'],
  ]);
});

test('a refresh event says which segments the new generation added and removed; segments lists the ones served', async () => {
  const writer = FixtureWriter.create('refresh-change');
  const first = await writer.flush([['a', '1']]);
  const second = await writer.flush([['b', '1']]);
  await using reader = await ReadOnlyIndex.open(writer.directory, FIXED);
  assert.deepEqual(
    reader.segments.map((segment) => segment.id),
    [first, second],
  );
  const ids = (segments: readonly SegmentRecord[]): number[] => segments.map((segment) => segment.id);
  const changes: unknown[] = [];
  reader.on('refresh', (generation, change) =>
    changes.push({
      generation,
      previous: change.previous,
      segments: ids(change.segments),
      added: ids(change.added),
      removed: ids(change.removed),
    }),
  );
  const third = await writer.flush([['c', '1']]);
  await reader.refresh();
  const merged = await writer.merge([second, third]);
  await reader.refresh();
  assert.deepEqual(changes, [
    { generation: 3, previous: 2, segments: [first, second, third], added: [third], removed: [] },
    { generation: 4, previous: 3, segments: [first, merged], added: [merged], removed: [second, third] },
  ]);
  assert.deepEqual(
    reader.segments.map((segment) => segment.id),
    [first, merged],
  );
  assert.ok(reader.segments.every((segment) => segment.entries > 0 && segment.bytes > 0 && segment.file === `segments/${segment.id}.seg`));
});

test('while a refresh reads a large new segment in slices, reads go on from the generation served before', async () => {
  const writer = FixtureWriter.create('sliced');
  await writer.flush([['a', 'old']]);
  await using reader = await ReadOnlyIndex.open(writer.directory, { watch: false });
  // Over 4 MiB, so it is read in more than one event-loop turn.
  const big = 'x'.repeat(1000);
  await writer.flush(
    Array.from({ length: 6000 }, (_, i): FixtureEntry => [`big-${String(i).padStart(5, '0')}`, big]).concat([['a', 'new']]),
  );
  const refreshed = reader.refresh();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(reader.generation, 1, 'still loading the new segment');
  assert.equal(reader.get('a'), 'old');
  assert.equal(await refreshed, 2);
  assert.equal(reader.get('a'), 'new');
  assert.equal(reader.get('big-05999'), big);
});

test('with watch: false the snapshot stays fixed until refresh()', async () => {
  const writer = FixtureWriter.create('fixed');
  await writer.flush([['a', '1']]);
  const clock = new ManualClock();
  await using reader = await ReadOnlyIndex.open(writer.directory, { watch: false, pollIntervalMs: 10, accessMode: 'file' }, { clock });
  await using witness = await ReadOnlyIndex.open(writer.directory, EVENTS_ONLY);
  let refreshes = 0;
  reader.on('refresh', () => refreshes++);
  const witnessed = nextRefresh(witness);
  await writer.flush([['a', '2']]);
  // A watching reader in this process has had the commit's events; and far more time than the debounce and many polls passes.
  assert.equal(await witnessed, 2);
  clock.advance(60_000);
  await nextTurn();
  assert.equal(clock.pendingTimers, 0, 'nothing is scheduled: no poll, no check');
  assert.equal(reader.generation, 1);
  assert.equal(reader.get('a'), '1');
  assert.equal(refreshes, 0);
  assert.equal(await reader.refresh(), 2);
  assert.equal(reader.get('a'), '2');
});

test('a watching reader picks up each commit from file-system events alone', async () => {
  const writer = FixtureWriter.create('events');
  await writer.flush([['a', '1']]);
  await using reader = await ReadOnlyIndex.open(writer.directory, EVENTS_ONLY);
  for (let round = 2; round <= 4; round++) {
    const refreshed = nextRefresh(reader);
    await writer.flush([['a', String(round)]]);
    assert.equal(await refreshed, round);
    assert.equal(reader.get('a'), String(round));
    assert.equal(reader.isCurrent(), true);
  }
  const merged = nextRefresh(reader);
  await writer.merge(writer.liveIds());
  assert.equal(await merged, 5);
  assert.deepEqual(pairs(reader), [['a', '4']]);
});

test('the safety poll refreshes a reader when no event arrives', async () => {
  const writer = FixtureWriter.create('poll');
  await writer.flush([['a', '1']]);
  // The clock moves only by the poll interval, never as far as the debounce: events cannot be what refreshes it.
  const clock = new ManualClock();
  await using reader = await ReadOnlyIndex.open(writer.directory, { debounceMs: 10_000, pollIntervalMs: 20 }, { clock });
  const refreshed = nextRefresh(reader);
  await writer.flush([['a', '2']]);
  clock.advance(19);
  await nextTurn();
  assert.equal(reader.generation, 1, 'no poll yet');
  clock.advance(1);
  assert.equal(await refreshed, 2);
  assert.equal(reader.get('a'), '2');
});

test('the lease follows the generation served: the collector keeps its files, frees them once it moves on, and close drops it', async () => {
  const writer = FixtureWriter.create('lease');
  const a = await writer.flush([['a', '1']]);
  const reader = await ReadOnlyIndex.open(writer.directory, FIXED);
  const leases = (): number[] => writer.manifest.liveLeases().map((lease) => lease.generation);
  assert.deepEqual(leases(), [1]);
  const b = await writer.flush([['b', '1']]);
  await writer.merge([a, b]);
  assert.deepEqual(writer.collect(), [b], 'segment a is in generation 1, which the reader holds; b never was');
  assert.equal(existsSync(writer.segmentPath(a)), true);
  assert.deepEqual(pairs(reader), [['a', '1']]);
  assert.equal(await reader.refresh(), 3);
  assert.deepEqual(leases(), [3]);
  assert.deepEqual(writer.collect(), [a]);
  assert.deepEqual(pairs(reader), [
    ['a', '1'],
    ['b', '1'],
  ]);
  await reader.close();
  assert.deepEqual(writer.manifest.liveLeases(), []);
});

test('a segment file removed before the reader could open it: the reader starts again from the newest generation', async () => {
  const writer = FixtureWriter.create('vanished');
  const a = await writer.flush([['a', '1']]);
  let sabotage: (() => void) | undefined;
  const fs = new FaultInjectingFileSystem(nodeFileSystem, [], (operation, path) => {
    if (operation !== 'open' || sabotage === undefined || !path.endsWith(segmentFileName(b))) return;
    const run = sabotage;
    sabotage = undefined;
    run();
  });
  await using reader = await ReadOnlyIndex.open(writer.directory, { ...FIXED, accessMode: 'file', fs });
  const b = await writer.flush([['b', '1']]);
  const commitMerge = await writer.prepareMerge([a, b]);
  // Just before the reader opens b: a merge replaces it and a collector that
  // does not see the reader's lease (another pid namespace) deletes it.
  sabotage = () => {
    for (const lease of writer.manifest.liveLeases()) writer.manifest.dropLease(lease.id);
    commitMerge();
    assert.deepEqual(writer.collect().sort(), [a, b].sort());
  };
  assert.equal(await reader.refresh(), 3);
  assert.equal(sabotage, undefined, 'the sabotage ran');
  assert.deepEqual(pairs(reader), [
    ['a', '1'],
    ['b', '1'],
  ]);
  assert.deepEqual(
    writer.manifest.liveLeases().map((lease) => lease.generation),
    [3],
    'the reclaimed lease was replaced by one on the generation served',
  );
});

test('a missing index is a ManifestNotFoundError, and opening it creates nothing', async () => {
  const root = tempDir('missing');
  const nowhere = join(root, 'no-such-index');
  await assert.rejects(ReadOnlyIndex.open(nowhere), ManifestNotFoundError);
  assert.equal(existsSync(nowhere), false);
  mkdirSync(join(root, 'empty'));
  await assert.rejects(ReadOnlyIndex.open(join(root, 'empty')), (error: unknown) => {
    assert.ok(error instanceof ManifestNotFoundError);
    assert.match(error.message, /manifest\.sqlite/);
    return true;
  });
  assert.equal(existsSync(join(root, 'empty', MANIFEST_FILE)), false);
});

test('a damaged index is a CorruptionError: a manifest that is not one, a damaged segment', async () => {
  const root = tempDir('damaged');
  mkdirSync(join(root, 'foreign'));
  writeFileSync(join(root, 'foreign', MANIFEST_FILE), Buffer.alloc(8192, 0x5a));
  await assert.rejects(ReadOnlyIndex.open(join(root, 'foreign')), CorruptionError);

  const writer = FixtureWriter.create('damaged-segment');
  const id = await writer.flush([
    ['a', '1'],
    ['b', '2'],
  ]);
  writeFileSync(writer.segmentPath(id), Buffer.from('not a segment, not even close to one; a few dozen bytes'));
  for (const accessMode of ['memory', 'mmap', 'file'] as const) {
    await assert.rejects(ReadOnlyIndex.open(writer.directory, { accessMode, watch: false }), CorruptionError);
  }
  assert.deepEqual(writer.manifest.liveLeases(), [], 'a reader that failed to open holds no lease');
});

test('a background refresh that fails goes to the error event, never to a read; the generation served before keeps serving', async () => {
  const writer = FixtureWriter.create('bad-refresh');
  await writer.flush([['a', '1']]);
  await using reader = await ReadOnlyIndex.open(writer.directory, EVENTS_ONLY);
  const failed = nextEvent<Error>(reader, 'error');
  // A generation naming a damaged file: the reader cannot open it.
  const id = writer.manifest.allocateSegmentId();
  writeFileSync(writer.segmentPath(id), Buffer.alloc(300, 1));
  const key = new TextEncoder().encode('z');
  writer.manifest.commit({
    add: [{ id, minSequence: 2, maxSequence: 2, minKey: key, maxKey: key, bytes: 300, entries: 1, tombstones: 0 }],
    walCoveredSequence: 2,
  });
  const error = await failed;
  assert.ok(error instanceof CorruptionError, String(error));
  assert.equal(reader.generation, 1);
  assert.equal(reader.get('a'), '1');
  assert.equal(reader.isCurrent(), false);
  await assert.rejects(reader.refresh(), CorruptionError);
  assert.equal(reader.get('a'), '1');
});

/** Adds a generation naming a segment file of 300 bytes of garbage: no reader can open it. Returns the segment id. */
function commitDamagedSegment(writer: FixtureWriter, sequence: number): number {
  const id = writer.manifest.allocateSegmentId();
  writeFileSync(writer.segmentPath(id), Buffer.alloc(300, 1));
  const key = new TextEncoder().encode('z');
  writer.manifest.commit({
    add: [{ id, minSequence: sequence, maxSequence: sequence, minKey: key, maxKey: key, bytes: 300, entries: 1, tombstones: 0 }],
    walCoveredSequence: sequence,
  });
  return id;
}

/**
 * Gives a watching reader many chances to refresh: manifest writes (a lease
 * taken and dropped, as another reader's open and close do) for events, and
 * 5 s on its clock, past every debounce and follow-up, for 250 polls, each
 * check run to its end.
 */
async function provokeRefreshes(writer: FixtureWriter, clock: ManualClock): Promise<void> {
  for (let round = 0; round < 250; round++) {
    if (round % 50 === 0) writer.manifest.dropLease(writer.manifest.takeLease().id);
    clock.advance(20);
    await nextTurn();
  }
}

test('a damaged generation is reported once and not tried again until a newer one is committed', async () => {
  const writer = FixtureWriter.create('damaged-once');
  await writer.flush([['a', '1']]);
  const { fs, calls } = countingFs('open');
  const clock = new ManualClock();
  await using reader = await ReadOnlyIndex.open(writer.directory, { accessMode: 'file', pollIntervalMs: 20, fs }, { clock });
  const errors: Array<[generation: number, error: Error]> = [];
  reader.on('error', (error) => errors.push([writer.manifest.currentGeneration(), error]));
  const firstError = nextEvent<Error>(reader, 'error');
  const damaged = commitDamagedSegment(writer, 2);
  clock.advance(20);
  assert.ok((await firstError) instanceof CorruptionError);
  const opensOfDamaged = (): number => calls.filter((path) => path === writer.segmentPath(damaged)).length;
  const opensAfterReport = opensOfDamaged();
  await provokeRefreshes(writer, clock);
  assert.deepEqual(
    errors.map(([generation]) => generation),
    [2],
    'generation 2 reported once, whatever the events and polls',
  );
  assert.equal(opensOfDamaged(), opensAfterReport, 'and not opened again');
  assert.equal(reader.generation, 1);

  // A newer generation that still holds the damaged segment is tried, and reported once too.
  const secondError = nextEvent<Error>(reader, 'error');
  writer.manifest.commit({ walCoveredSequence: 3 });
  clock.advance(20);
  assert.ok((await secondError) instanceof CorruptionError);
  await provokeRefreshes(writer, clock);
  assert.deepEqual(
    errors.map(([generation]) => generation),
    [2, 3],
  );

  // A newer generation without it: the reader moves to it.
  const refreshed = nextRefresh(reader);
  writer.manifest.commit({ remove: [damaged] });
  clock.advance(20);
  assert.equal(await refreshed, 4);
  assert.equal(reader.isCurrent(), true);
  assert.equal(reader.get('a'), '1');
  assert.equal(reader.has('z'), false);
  assert.equal(errors.length, 2);
});

test('a background refresh that failed for another reason (an I/O error) is tried again and succeeds', async () => {
  const writer = FixtureWriter.create('io-retry');
  await writer.flush([['a', '1']]);
  const fs = new FaultInjectingFileSystem(nodeFileSystem);
  await using reader = await ReadOnlyIndex.open(writer.directory, { accessMode: 'file', pollIntervalMs: 20, fs });
  // The next segment file opened (only new ones are) fails once, as a flaky disk or network mount would.
  fs.addFault({ operation: 'open', nth: 1, code: 'EIO', pathIncludes: '.seg' });
  const failed = nextEvent<Error>(reader, 'error');
  await writer.flush([['b', '2']]);
  const error = await failed;
  assert.ok(error instanceof IoError, String(error));
  assert.equal(fs.injected, 1);
  // Waited for only now (an 'error' would reject it); the retry comes at a later poll or event.
  assert.equal(await nextRefresh(reader), 2);
  assert.equal(reader.get('b'), '2');
});

test('a range iterator made before a refresh reads its own snapshot to the end, even once its files are collected', async () => {
  const writer = FixtureWriter.create('pinned');
  const entries: FixtureEntry[] = Array.from({ length: 2000 }, (_, i) => [`key-${String(i).padStart(5, '0')}`, `value-${i}`.repeat(5)]);
  const a = await writer.flush(entries.slice(0, 1000));
  const b = await writer.flush(entries.slice(1000));
  // A tiny cache: the iterator has to read blocks from the files after the refresh.
  await using reader = await ReadOnlyIndex.open(writer.directory, { ...FIXED, accessMode: 'file', cacheBytes: 4096 });
  const before = reader.range();
  const seen = [before.next().value];
  const abandoned = reader.range({ reverse: true });
  abandoned.next();
  await writer.merge([a, b]);
  await writer.flush([['key-00001', 'changed']]);
  await reader.refresh();
  writer.collect();
  assert.equal(existsSync(writer.segmentPath(a)), false, 'the old files are gone from the directory');
  for (const pair of before) seen.push(pair);
  assert.deepEqual(seen, entries, 'the old snapshot, whole');
  assert.equal(reader.get('key-00001'), 'changed');
  assert.equal(abandoned.return?.().done, true);
});

test('bad options are a ValidationError, and no lease is taken', async () => {
  const writer = FixtureWriter.create('options');
  await writer.flush([['a', '1']]);
  for (const options of [
    { accessMode: 'disk' },
    { debounceMs: -1 },
    { pollIntervalMs: 1.5 },
    { watch: 'yes' },
    { refreshIntervalMs: 50 },
    { tail: 1 },
    { maxTailBytes: 1024 },
    { maxTailBytes: 2 * 1024 * 1024 * 1024 },
    { waitForIndex: -5 },
  ]) {
    await assert.rejects(ReadOnlyIndex.open(writer.directory, options as never), ValidationError, JSON.stringify(options));
  }
  await assert.rejects(ReadOnlyIndex.open(''), ValidationError);
  assert.deepEqual(writer.manifest.liveLeases(), []);
  const defaults = readOnlyIndexOptionsSchema.parse({});
  assert.deepEqual(defaults, {
    accessMode: 'memory',
    cacheBytes: 8 * 1024 * 1024,
    keyEncoding: 'utf8',
    watch: true,
    debounceMs: 10,
    pollIntervalMs: 2000,
    tail: true,
    maxTailBytes: 256 * 1024 * 1024,
    waitForIndex: 0,
  });
});

test('after close, reads and refresh throw ClosedError; close is idempotent and await using closes', async () => {
  const writer = FixtureWriter.create('close');
  await writer.flush([['a', '1']]);
  const reader = await ReadOnlyIndex.open(writer.directory);
  await Promise.all([reader.close(), reader.close()]);
  assert.throws(() => reader.get('a'), ClosedError);
  assert.throws(() => reader.range(), ClosedError);
  assert.throws(() => reader.isCurrent(), ClosedError);
  await assert.rejects(reader.refresh(), ClosedError);
  {
    await using scoped = await ReadOnlyIndex.open(writer.directory, { keyEncoding: 'binary' });
    assert.deepEqual([...scoped.range()], [[new TextEncoder().encode('a'), '1']]);
    assert.equal(writer.manifest.liveLeases().length, 1);
  }
  assert.deepEqual(writer.manifest.liveLeases(), []);
});

test('reads keep serving while a writer commits, merges and collects, and each refresh only moves forward', async () => {
  const keys = fc.constantFrom('a', 'b', 'c', 'ab', 'abc', 'b\u00e9', 'z');
  const entry = fc.tuple(keys, fc.option(fc.string({ maxLength: 6 }), { nil: null }));
  const step = fc.oneof(
    fc.record({ kind: fc.constant('flush' as const), entries: fc.array(entry, { minLength: 1, maxLength: 6 }) }),
    fc.record({ kind: fc.constant('merge' as const), from: fc.nat(), length: fc.integer({ min: 2, max: 4 }) }),
    fc.record({ kind: fc.constant('collect' as const) }),
    fc.record({ kind: fc.constant('refresh' as const) }),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { minLength: 1, maxLength: 10 }),
      fc.constantFrom('memory' as const, 'file' as const),
      async (steps, accessMode) => {
        const writer = FixtureWriter.create('model');
        await writer.flush([['a', 'first']]);
        const snapshots = new Map([[1, writer.model()]]);
        const reader = await ReadOnlyIndex.open(writer.directory, { accessMode, watch: false });
        try {
          let generation = reader.generation;
          for (const s of steps) {
            if (s.kind === 'flush') await writer.flush(s.entries);
            if (s.kind === 'merge') {
              const live = writer.liveIds();
              if (live.length < s.length) continue;
              const start = s.from % (live.length - s.length + 1);
              await writer.merge(live.slice(start, start + s.length));
            }
            if (s.kind === 'collect') writer.collect();
            if (s.kind === 'refresh') {
              await reader.refresh();
              assert.equal(reader.generation, writer.manifest.currentGeneration());
            }
            snapshots.set(writer.manifest.currentGeneration(), writer.model());
            assert.ok(reader.generation >= generation, 'the generation never moves back');
            generation = reader.generation;
            assert.deepEqual(pairs(reader), modelPairs(snapshots.get(reader.generation)!));
          }
        } finally {
          await reader.close();
          writer.close();
        }
      },
    ),
    { numRuns: 25 },
  );
});

test('a reader watching beside a writer in the same process leaves the writer lock held', async () => {
  const writer = FixtureWriter.create('same-process');
  await writer.flush([['a', '1']]);
  const lock = WriterLock.acquire(writer.directory);
  try {
    const reader = await ReadOnlyIndex.open(writer.directory, { ...EVENTS_ONLY, accessMode: 'file' });
    const refreshed = nextRefresh(reader);
    await writer.flush([['a', '2']]);
    assert.equal(await refreshed, 2);
    await reader.close();
    // A second reader, opened and closed, for the same reason.
    await (await ReadOnlyIndex.open(writer.directory)).close();
    const probe = execFileSync(process.execPath, [LOCK_HOLDER, writer.directory, 'release'], { encoding: 'utf8' });
    assert.equal(probe.trim(), `locked ${process.pid}`);
    // The manifest's own locks held too: the writer still commits and another reader sees it.
    await writer.flush([['a', '3']]);
    await using after = await ReadOnlyIndex.open(writer.directory, FIXED);
    assert.equal(after.get('a'), '3');
  } finally {
    lock.release();
  }
  assert.match(execFileSync(process.execPath, [LOCK_HOLDER, writer.directory, 'release'], { encoding: 'utf8' }), /^acquired \d+\n$/);
});

test('a reader in mmap mode serves from mapped segments and says so; where it cannot map, it reads as file mode does', async () => {
  const writer = FixtureWriter.create('mmap-reader');
  await writer.flush([
    ['a', '1'],
    ['b', '2'],
  ]);
  await using mapped = await ReadOnlyIndex.open(writer.directory, { accessMode: 'mmap', watch: false });
  assert.equal(mapped.get('b'), '2');
  assert.equal(mapped.stats().accessMode, 'mmap');
  await using unmapped = await ReadOnlyIndex.open(writer.directory, {
    accessMode: 'mmap',
    watch: false,
    fs: new CrashSimFileSystem({ seed: 1 }),
  });
  assert.equal(unmapped.get('b'), '2');
  assert.equal(unmapped.stats().accessMode, 'file');
});
