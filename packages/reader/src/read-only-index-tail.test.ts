import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FaultInjectingFileSystem,
  LOG_ACKNOWLEDGED_FILE,
  ManualClock,
  WAL_DIRECTORY,
  logFileName,
  nodeFileSystem,
  type CancelTimer,
} from '@silt/fs';
import { ManifestNotFoundError } from '@silt/segments';
import { WriteAheadLog, type Durability, type WalEntryInput } from '@silt/wal';
import { encodeAcknowledgedMarker } from '@silt/wal/internal';
import { nextEvent, tempDir, turnsUntil, whenCondition } from '@silt/test-support';
import { ReadOnlyIndex, type TailOverflow } from './read-only-index.js';
import { subscribeToLog } from './internal.js';
import { FixtureWriter, type FixtureEntry } from './test-support/index-fixture.js';

/** Only file-system events wake these readers within a test's lifetime: no safety poll. */
const EVENTS_ONLY = { pollIntervalMs: 2 ** 31 - 1 } as const;

const put = (key: string, value: string | Uint8Array): WalEntryInput => ({ kind: 'put', key, value });
const del = (key: string): WalEntryInput => ({ kind: 'delete', key });

/** The log of a fixture index, as its writer would open it. */
function openLog(writer: FixtureWriter, durability: Durability, maxFileBytes = 1024 * 1024): Promise<WriteAheadLog> {
  return WriteAheadLog.open(join(writer.directory, WAL_DIRECTORY), { durability, maxFileBytes });
}

/** Resolves once `condition` holds, checked now and at each 'tail' and 'refresh' of `reader`; fails after 10 s. */
function until(reader: ReadOnlyIndex, condition: () => boolean, what: string): Promise<void> {
  const state = (): string => `visible sequence ${reader.visibleSequence}, generation ${reader.generation}`;
  return whenCondition(reader, ['tail', 'refresh'], condition, what, state);
}

for (const durability of ['fsync', 'write'] as const) {
  test(`in '${durability}' mode a write is visible in a reader without any flush, and an idle writer's last write too`, async () => {
    const writer = FixtureWriter.create('tail-visible');
    await writer.flush([['old', 'from a segment']]);
    const wal = await WriteAheadLog.open(join(writer.directory, WAL_DIRECTORY), { durability, nextSequence: 2 });
    try {
      await using reader = await ReadOnlyIndex.open(writer.directory, EVENTS_ONLY);
      assert.equal(reader.visibleSequence, 1);
      await wal.append([put('apple', 'red'), put('bytes', Uint8Array.of(1, 2, 3)), put('old', 'overwritten')]);
      await until(reader, () => reader.visibleSequence === 4, 'the first batch');
      assert.equal(reader.get('apple'), 'red', 'a value written as text comes back as text');
      assert.deepEqual(reader.get('bytes'), Uint8Array.of(1, 2, 3), 'and bytes as bytes');
      assert.equal(reader.get('old'), 'overwritten', 'the tail is newer than the segments');
      assert.deepEqual(
        [...reader.range()].map(([key]) => key),
        ['apple', 'bytes', 'old'],
      );
      // The writer goes idle after this one: nothing later pushes it out.
      await wal.append([del('apple')]);
      await until(reader, () => !reader.has('apple'), 'the idle writer’s last write');
      assert.equal(reader.visibleSequence, 5);
      assert.equal(reader.generation, 1, 'no flush: the tail alone');
      assert.deepEqual(reader.near('oldie'), [['old', 'overwritten']]);
      assert.deepEqual(
        reader.fuzzy('olf', 1).map(([key]) => key),
        ['old'],
      );
      const { tail } = reader.stats();
      assert.equal(tail.following, true);
      assert.equal(tail.entries, 3, 'apple (deleted), bytes, old');
    } finally {
      await wal.close();
    }
  });
}

test('log files rotated, flushed and deleted under a reader lose nothing, fail no read, and no value ever goes back', async () => {
  const writer = FixtureWriter.create('tail-rotation');
  const wal = await openLog(writer, 'write', 1024);
  try {
    await using reader = await ReadOnlyIndex.open(writer.directory, EVENTS_ONLY);
    const errors: Error[] = [];
    reader.on('error', (error) => errors.push(error));
    // Values carry their sequence number, so "older" is a number that went down.
    const newestSeen = new Map<string, number>();
    const model = new Map<string, string>();
    const checkNothingWentBack = (): void => {
      for (const key of model.keys()) {
        const value = reader.get(key);
        if (value === undefined) continue;
        const sequence = Number(String(value).split(':')[0]);
        assert.ok(sequence >= (newestSeen.get(key) ?? 0), `${key} went back from ${newestSeen.get(key)} to ${sequence}`);
        newestSeen.set(key, sequence);
      }
    };
    reader.on('tail', checkNothingWentBack);
    reader.on('refresh', checkNothingWentBack);
    const written: Array<[sequence: number, key: string, value: string]> = [];
    let covered = 0;
    for (let round = 0; round < 6; round++) {
      for (let n = 0; n < 25; n++) {
        const key = `k${(round * 25 + n) % 9}`;
        const sequence = wal.lastSequence + 1;
        const value = `${sequence}:${'x'.repeat(80)}`;
        await wal.append([put(key, value)]);
        written.push([sequence, key, value]);
        model.set(key, value);
      }
      await until(reader, () => reader.visibleSequence === wal.lastSequence, `round ${round}'s writes`);
      for (const [key, value] of model) assert.equal(reader.get(key), value);
      // A flush of all but the last few writes, then the log it covered goes: several files a round.
      const through = wal.lastSequence - 3;
      const flushed = written.filter(([sequence]) => sequence > covered && sequence <= through);
      const generation = await writer.flush(
        flushed.map(([, key, value]): FixtureEntry => [key, value]),
        through,
      );
      covered = through;
      const filesBefore = wal.stats().files;
      await wal.truncateBefore(covered + 1);
      assert.ok(wal.stats().files < filesBefore, 'covered log files were deleted');
      await until(reader, () => reader.generation === generation, `round ${round}'s flush`);
      for (const [key, value] of model) assert.equal(reader.get(key), value, `${key} after round ${round}'s flush`);
      assert.ok(reader.stats().tail.entries <= 3, 'the flush took over all but the last writes');
    }
    checkNothingWentBack();
    assert.deepEqual(errors, []);
  } finally {
    await wal.close();
  }
});

test('a reader whose next log file was deleted before it read it moves to the generation that covers it and tails on past it', async () => {
  const writer = FixtureWriter.create('tail-gone');
  const wal = await openLog(writer, 'write', 1024);
  // The reader cannot see the marker at first (as if the writer had not published it): it tails nothing meanwhile.
  const fs = new FaultInjectingFileSystem(nodeFileSystem, [
    { operation: 'open', nth: 1, code: 'ENOENT', sticky: true, pathIncludes: LOG_ACKNOWLEDGED_FILE },
  ]);
  // A manual clock: the manifest's events are never acted on, so only the tail's catch-up can refresh.
  await using reader = await ReadOnlyIndex.open(writer.directory, { ...EVENTS_ONLY, fs }, { clock: new ManualClock() });
  const errors: Error[] = [];
  reader.on('error', (error) => errors.push(error));
  const entries: FixtureEntry[] = [];
  const write = async (sequence: number): Promise<void> => {
    const value = `${sequence}:${'v'.repeat(100)}`; // several records a file
    await wal.append([put(`k${sequence}`, value)]);
    entries.push([`k${sequence}`, value]);
  };
  for (let sequence = 1; sequence <= 30; sequence++) await write(sequence);
  await reader.refresh();
  assert.equal(reader.visibleSequence, 0, 'no marker seen, nothing tailed');
  await writer.flush(entries.slice(0, 25), 25);
  await wal.truncateBefore(26);
  assert.equal(existsSync(join(writer.directory, WAL_DIRECTORY, logFileName(1))), false, 'the file holding 1 is gone');
  const generation = reader.generation;
  fs.clearFaults();
  await write(31); // the reader wakes, finds 1 gone, and catches up
  await until(reader, () => reader.visibleSequence === 31, 'the writes past the flush');
  assert.equal(reader.generation, generation + 1);
  for (const [key, value] of entries) assert.equal(reader.get(key), value);
  assert.deepEqual(errors, []);
  await wal.close();
});

test('a log file emptied under a reader stalls its tail before the gap, says so in stats(), fails no read, and a generation covering the gap moves it on', async () => {
  const writer = FixtureWriter.create('tail-damaged');
  const wal = await openLog(writer, 'write', 1024);
  const entries: FixtureEntry[] = [];
  for (let sequence = 1; sequence <= 30; sequence++) {
    const value = `${sequence}:${'v'.repeat(100)}`; // several records a file
    await wal.append([put(`k${sequence}`, value)]);
    entries.push([`k${sequence}`, value]);
  }
  await wal.close();
  const logFiles = readdirSync(join(writer.directory, WAL_DIRECTORY))
    .filter((name) => name.endsWith('.log'))
    .sort();
  const secondStart = Number.parseInt(logFiles[1] ?? '', 10);
  writeFileSync(join(writer.directory, WAL_DIRECTORY, logFiles[1] ?? ''), '');

  await using reader = await ReadOnlyIndex.open(writer.directory, { watch: false });
  assert.equal(reader.visibleSequence, secondStart - 1, 'every record before the emptied file, none past it');
  assert.match(String(reader.stats().tail.stalled), new RegExp(`sequence numbers from ${secondStart} are missing`));
  for (const [key, value] of entries.slice(0, secondStart - 1)) assert.equal(reader.get(key), value);
  assert.equal(reader.get(`k${secondStart}`), undefined, 'nothing past the gap: the writes after it would skip one');

  await writer.flush(entries, 30); // repair or a writer that still had them in memory: a generation covering the gap
  await reader.refresh();
  assert.equal(reader.visibleSequence, 30);
  assert.equal(reader.stats().tail.stalled, undefined);
  for (const [key, value] of entries) assert.equal(reader.get(key), value);
});

test("in 'none' mode the writer publishes its log at a clean close only: a reader sees nothing sooner", async () => {
  const writer = FixtureWriter.create('tail-none');
  const wal = await openLog(writer, 'none');
  await using reader = await ReadOnlyIndex.open(writer.directory, EVENTS_ONLY);
  await wal.append([put('a', '1')]);
  await reader.refresh();
  assert.equal(reader.get('a'), undefined);
  await wal.close();
  await until(reader, () => reader.get('a') === '1', 'the write, at the close');
});

test('past maxTailBytes tailing pauses with a tailOverflow event, reads go on without going back, and a flush resumes it', async () => {
  const writer = FixtureWriter.create('tail-overflow');
  const wal = await openLog(writer, 'write');
  try {
    await using reader = await ReadOnlyIndex.open(writer.directory, { ...EVENTS_ONLY, maxTailBytes: 64 * 1024 });
    const overflowed = nextEvent<TailOverflow>(reader, 'tailOverflow');
    const entries: FixtureEntry[] = [];
    for (let n = 0; n < 100; n++) {
      const value = `${n}:${'v'.repeat(1000)}`;
      await wal.append([put(`key${String(n).padStart(3, '0')}`, value)]);
      entries.push([`key${String(n).padStart(3, '0')}`, value]);
    }
    const overflow = await overflowed;
    assert.equal(overflow.maxTailBytes, 64 * 1024);
    assert.ok(overflow.bytes > overflow.maxTailBytes, `${overflow.bytes} bytes held`);
    const paused = reader.visibleSequence;
    assert.ok(paused > 0 && paused < 100, `paused at ${paused}`);
    assert.deepEqual(reader.stats().tail, {
      following: false,
      entries: paused,
      bytes: overflow.bytes,
      maxTailBytes: 64 * 1024,
      overflows: 1,
      stalled: undefined,
    });
    // What it showed, it still shows; what came later waits for a flush.
    await wal.append([put('later', 'after the pause')]);
    await reader.refresh();
    assert.equal(reader.visibleSequence, paused);
    for (const [key, value] of entries.slice(0, paused)) assert.equal(reader.get(key), value);
    assert.equal(reader.get('later'), undefined);
    // A flush covering everything takes the table over; tailing resumes past it.
    const generation = await writer.flush([...entries, ['later', 'after the pause']], wal.lastSequence);
    await until(reader, () => reader.generation === generation, 'the flush');
    assert.equal(reader.stats().tail.following, true);
    assert.equal(reader.stats().tail.entries, 0);
    assert.equal(reader.get('later'), 'after the pause');
    await wal.append([put('resumed', 'tailed again')]);
    await until(reader, () => reader.get('resumed') === 'tailed again', 'a write after the resume');
    assert.equal(reader.generation, generation, 'from the tail, not a flush');
  } finally {
    await wal.close();
  }
});

test('with tail: false a reader sees writes at flushes only', async () => {
  const writer = FixtureWriter.create('tail-off');
  const wal = await openLog(writer, 'fsync');
  try {
    await using reader = await ReadOnlyIndex.open(writer.directory, { tail: false, watch: false });
    await wal.append([put('a', '1')]);
    await reader.refresh();
    assert.equal(reader.get('a'), undefined);
    assert.equal(reader.visibleSequence, 0);
    assert.equal(reader.stats().tail.following, false);
    await writer.flush([['a', '1']], 1);
    await reader.refresh();
    assert.equal(reader.get('a'), '1');
    assert.equal(reader.visibleSequence, 1);
  } finally {
    await wal.close();
  }
});

test('a log directory created after the reader opened is found, and tailed from its first write', async () => {
  const writer = FixtureWriter.create('tail-late-log');
  await using reader = await ReadOnlyIndex.open(writer.directory, EVENTS_ONLY);
  const wal = await openLog(writer, 'write');
  try {
    await wal.append([put('first', 'write')]);
    await until(reader, () => reader.get('first') === 'write', 'the first write of a log that did not exist at open');
  } finally {
    await wal.close();
  }
});

test('subscribeToLog calls a listener at each log event, after the reader applied what it read, until unsubscribed', async () => {
  const writer = FixtureWriter.create('tail-subscribe');
  const wal = await openLog(writer, 'write');
  try {
    await using reader = await ReadOnlyIndex.open(writer.directory, EVENTS_ONLY);
    const seen: number[] = [];
    const unsubscribe = subscribeToLog(reader, () => seen.push(reader.visibleSequence));
    await wal.append([put('a', '1')]);
    await turnsUntil(() => seen.includes(1), 'a call after the write was applied');
    unsubscribe();
    const calls = seen.length;
    await wal.append([put('b', '2')]);
    await until(reader, () => reader.has('b'), 'the next write');
    assert.equal(seen.length, calls, 'no calls after unsubscribing');
    // A reader that does not tail starts watching the log for its subscribers.
    await using untailed = await ReadOnlyIndex.open(writer.directory, { tail: false, pollIntervalMs: 50 });
    let woken = 0;
    subscribeToLog(untailed, () => woken++);
    await turnsUntil(() => woken > 0, 'a wake-up of a reader that does not tail');
  } finally {
    await wal.close();
  }
});

/** A manual clock that counts the timers set on it: a reader waiting for an index sets one a wait. */
class CountingClock extends ManualClock {
  private count = 0;

  get timersSet(): number {
    return this.count;
  }

  override setTimer(delayMs: number, callback: () => void): CancelTimer {
    this.count++;
    return super.setTimer(delayMs, callback);
  }
}

test('waitForIndex: a reader started before its index opens it once a writer creates it, woken by the directory events', async () => {
  const directory = join(tempDir('wait'), 'idx');
  // The clock never moves: only events can wake the waiting reader.
  const clock = new CountingClock();
  const opening = ReadOnlyIndex.open(directory, { waitForIndex: 60_000 }, { clock });
  await turnsUntil(() => clock.timersSet >= 1, 'the first wait');
  mkdirSync(directory); // an empty directory is no index yet: the reader waits on, now watching it
  await turnsUntil(() => clock.timersSet >= 2, 'the wait after the directory appeared');
  const writer = FixtureWriter.createAt(directory);
  await writer.flush([['a', '1']]);
  const guard = setTimeout(() => assert.fail('the reader did not open within 10 s'), 10_000);
  try {
    await using reader = await opening;
    // It may have opened the manifest's first, empty generation, before the flush committed: the clock never moves, so refresh by hand.
    await reader.refresh();
    assert.equal(reader.get('a'), '1');
  } finally {
    clearTimeout(guard);
  }
});

test('waitForIndex: past the wait, open fails with ManifestNotFoundError saying how long it waited', async () => {
  const directory = join(tempDir('wait-fail'), 'idx');
  const clock = new ManualClock();
  const started = clock.now();
  let outcome: { error: unknown } | undefined;
  ReadOnlyIndex.open(directory, { waitForIndex: 1000 }, { clock }).then(
    (reader) => {
      outcome = { error: undefined };
      return reader.close();
    },
    (error: unknown) => {
      outcome = { error };
    },
  );
  while (outcome === undefined) {
    await turnsUntil(() => outcome !== undefined || clock.pendingTimers > 0, 'a wait');
    clock.advance(100);
  }
  const { error } = outcome;
  assert.ok(error instanceof ManifestNotFoundError, String(error));
  assert.match(error.message, /the index directory does not exist \(waited 1000 ms for the index to appear\)/);
  assert.ok(clock.now() - started >= 1000);
  await assert.rejects(ReadOnlyIndex.open(directory), /the index directory does not exist$/, 'without waitForIndex: at once, as before');
});

test("with tail: 'onRead' a log event only marks the table stale: the next read applies every write acknowledged before it", async () => {
  const writer = FixtureWriter.create('tail-on-read');
  await writer.flush([['old', 'from a segment']]);
  const wal = await WriteAheadLog.open(join(writer.directory, WAL_DIRECTORY), { durability: 'write', nextSequence: 2 });
  try {
    await using reader = await ReadOnlyIndex.open(writer.directory, { ...EVENTS_ONLY, tail: 'onRead' });
    const tails: number[] = [];
    reader.on('tail', (visible) => tails.push(visible));
    let events = 0;
    subscribeToLog(reader, () => events++);
    await turnsUntil(() => events > 0, 'the wake-up that starts the watch');
    await wal.append([put('apple', 'red'), put('old', 'overwritten')]);
    await turnsUntil(() => events > 1, "the append's log event");
    assert.equal(reader.stats().tail.entries, 0, 'the event applied nothing');
    assert.deepEqual(tails, []);
    assert.equal(reader.get('old'), 'overwritten', 'the read applied the log first');
    assert.equal(reader.get('apple'), 'red');
    assert.equal(reader.visibleSequence, 3);
    assert.deepEqual(tails, [3], "the 'tail' event comes with the read");
    await reader.catchUpTo(3);
    const acknowledged = wal.appendNow([del('apple')]);
    await acknowledged.durable;
    await reader.catchUpTo(acknowledged.lastSequence);
    assert.equal(reader.has('apple'), false, 'catchUpTo reads at once, event or not');
  } finally {
    await wal.close();
  }
});

/**
 * Opens the index in `directory` in another process, once per tail mode, and reads 'apple' and
 * 'old' there: a read that spins fails the test at the deadline instead of hanging the runner.
 */
function readInChild(directory: string): { signal: NodeJS.Signals | null; status: number | null; stderr: string; stdout: string } {
  const readOnlyIndex = new URL('./read-only-index.js', import.meta.url).href;
  const script = `
    const { ReadOnlyIndex } = await import(${JSON.stringify(readOnlyIndex)});
    const seen = [];
    for (const tail of [true, 'onRead']) {
      const reader = await ReadOnlyIndex.open(process.argv[1], { pollIntervalMs: ${EVENTS_ONLY.pollIntervalMs}, tail });
      seen.push([reader.get('apple'), reader.get('old'), reader.visibleSequence]);
      await reader.close();
    }
    console.log(JSON.stringify(seen));`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script, directory], { encoding: 'utf8', timeout: 30_000 });
}

test('a marker ahead of the records in the log file holds no read: reads serve the records there, in every tail mode', async () => {
  const writer = FixtureWriter.create('tail-marker-ahead');
  await writer.flush([['old', 'from a segment']]);
  const wal = await WriteAheadLog.open(join(writer.directory, WAL_DIRECTORY), { durability: 'write', nextSequence: 2 });
  await wal.append([put('apple', 'red')]);
  await wal.close();
  // Damage: the marker names sequence 9 where the file's acknowledged bytes hold 2 only.
  const markerPath = join(writer.directory, WAL_DIRECTORY, LOG_ACKNOWLEDGED_FILE);
  const marker = readFileSync(markerPath);
  const view = new DataView(marker.buffer, marker.byteOffset, marker.length);
  const position = { sequence: 9, fileFirstSequence: Number(view.getBigUint64(20, true)), offset: view.getUint32(28, true) };
  writeFileSync(markerPath, encodeAcknowledgedMarker(position));
  const child = readInChild(writer.directory);
  assert.equal(child.signal, null, 'the reads did not end: the child was killed at the deadline');
  assert.equal(child.status, 0, child.stderr);
  const expected = ['red', 'from a segment', 2];
  assert.deepEqual(JSON.parse(child.stdout), [expected, expected], 'tail: true, then onRead');
});
