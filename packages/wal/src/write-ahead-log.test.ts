import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClosedError, CorruptionError, CrashSimFileSystem, ManualClock, NodeFileSystem, nodeFileSystem, ValidationError } from '@silt/fs';
import { WriteAheadLog } from './write-ahead-log.js';
import { readLogRange } from './log-range-reader.js';
import { RECORD_HEADER_BYTES, visitEncodedRecord } from './record-format.js';
import { LogTail } from './log-tail.js';
import type { DecodedRecord } from './record-format.js';
import { NONE_MODE_BUFFER_BYTES } from './group-commit.js';
import { LOG_ACKNOWLEDGED_FILE, logFileName } from '@silt/fs';
import type { WalEntry } from './wal-entry.js';
import type { WalOptions } from './wal-options.js';
import { tempDir } from '@silt/test-support';
import { unsyncedLogPaths } from './test-support/unsynced-log-paths.js';
import { batchFor, checkRecoveredLog, collect, entryMismatch, type Acked } from './test-support/workload.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function withLog(options: WalOptions, body: (wal: WriteAheadLog, dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir('unit');
  const wal = await WriteAheadLog.open(dir, options);
  try {
    await body(wal, dir);
  } finally {
    await wal.close().catch(() => undefined);
  }
}

/** Appends a batch of workload content for the next sequence numbers; resolves with what was acknowledged. */
async function appendNext(wal: WriteAheadLog, count: number): Promise<Acked> {
  const firstSeq = await wal.append(batchFor(wal.lastSequence + 1, count));
  return { firstSeq, count };
}

function logFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.log'))
    .sort();
}

function bytesOnDisk(dir: string): number {
  return logFiles(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

test('sequence numbers are taken during the append call and the promise resolves with the first of the batch', async () => {
  await withLog({ durability: 'write' }, async (wal) => {
    assert.equal(wal.lastSequence, 0);
    const first = wal.append(batchFor(1, 3));
    assert.equal(wal.lastSequence, 3, 'lastSequence moves before the promise settles');
    const second = wal.append(batchFor(4, 1));
    assert.equal(wal.lastSequence, 4);
    assert.deepEqual(await Promise.all([first, second]), [1, 4]);
    assert.equal(wal.durableSequence, 4);
  });
});

test('appendNow hands back the sequence numbers at once with a promise for when they are durable; the coalescing appends of a turn share one record, in call order with the rest', async () => {
  await withLog({ durability: 'write' }, async (wal) => {
    const a = wal.appendNow(batchFor(1, 1), { coalesce: true });
    const b = wal.appendNow(batchFor(2, 2), { coalesce: true });
    assert.deepEqual([a.firstSequence, a.lastSequence, b.firstSequence, b.lastSequence], [1, 1, 2, 3]);
    assert.equal(a.durable, b.durable, 'one record, one promise');
    const own = wal.appendNow(batchFor(4, 1));
    const c = wal.appendNow(batchFor(5, 1), { coalesce: true });
    assert.notEqual(c.durable, a.durable, 'an append of its own ends the turn record; later ones start the next');
    assert.equal(wal.lastSequence, 5);
    await Promise.all([a.durable, own.durable, c.durable]);
    assert.equal(wal.durableSequence, 5);
    const records = await collect(wal.replay());
    assert.deepEqual(
      records.map((record) => [record.firstSeq, record.lastSeq]),
      [
        [1, 3],
        [4, 4],
        [5, 5],
      ],
    );
    const acked = [
      { firstSeq: 1, count: 3 },
      { firstSeq: 4, count: 1 },
      { firstSeq: 5, count: 1 },
    ];
    checkRecoveredLog(records, { startsAt: 1, acked, issuedThrough: 5 });
  });
});

test('an append of its own hands back its record, whose entries stay as appended after it is written; a coalescing append has none', async () => {
  await withLog({ durability: 'write' }, async (wal) => {
    const coalesced = wal.appendNow(batchFor(1, 1), { coalesce: true });
    const own = wal.appendNow(batchFor(2, 3), { origin: { client: new Uint8Array(8).fill(7), request: 9 } });
    assert.equal(coalesced.record, undefined, 'a coalescing append shares a record encoded at the end of the turn');
    assert.ok(own.record !== undefined);
    const before = Buffer.from(own.record);
    await Promise.all([coalesced.durable, own.durable]);
    let visited = 0;
    visitEncodedRecord(own.record, (kind, bytes, keyStart, keyLength, valueStart, valueLength) => {
      const mismatch = entryMismatch(
        kind === 'delete'
          ? { kind, key: bytes.subarray(keyStart, keyStart + keyLength) }
          : {
              kind: 'put',
              key: bytes.subarray(keyStart, keyStart + keyLength),
              value: bytes.subarray(valueStart, valueStart + valueLength),
              ...(kind === 'put-text' ? { valueIsText: true } : {}),
            },
        2 + visited++,
      );
      assert.equal(mismatch, undefined);
    });
    assert.equal(visited, 3);
    assert.deepEqual(own.record.subarray(RECORD_HEADER_BYTES), before.subarray(RECORD_HEADER_BYTES), 'writing stamped the header only');
  });
});

test('an append names its origin in its record: coalesced appends of several clients each, an own record its one, and a tail reading the log finds them', async () => {
  await withLog({ durability: 'write' }, async (wal, dir) => {
    const client = (n: number): Uint8Array => new Uint8Array(8).fill(n);
    const a = wal.appendNow(batchFor(1, 1), { coalesce: true, origin: { client: client(1), request: 1 } });
    const b = wal.appendNow(batchFor(2, 1), { coalesce: true, origin: { client: client(2), request: 1 } });
    const local = wal.appendNow(batchFor(3, 1), { coalesce: true });
    const own = wal.appendNow(batchFor(4, 2), { origin: { client: client(1), request: 2 } });
    await Promise.all([a.durable, b.durable, local.durable, own.durable]);
    const records = await collect(wal.replay());
    assert.deepEqual(
      records.map((record) => [record.firstSeq, record.lastSeq]),
      [
        [1, 3],
        [4, 5],
      ],
    );
    const tailed: DecodedRecord[] = [];
    const tail = new LogTail(nodeFileSystem, dir, 1);
    tail.read((record) => tailed.push(record));
    tail.close();
    const [turn, batch] = tailed;
    assert.equal(tailed.length, 2);
    assert.ok(turn!.hasOrigin({ client: client(1), request: 1 }) && turn!.hasOrigin({ client: client(2), request: 1 }));
    assert.ok(!turn!.hasOrigin({ client: client(1), request: 2 }));
    assert.ok(batch!.hasOrigin({ client: client(1), request: 2 }) && !batch!.hasOrigin({ client: client(2), request: 1 }));
    checkRecoveredLog(records, {
      startsAt: 1,
      acked: [
        { firstSeq: 1, count: 3 },
        { firstSeq: 4, count: 2 },
      ],
      issuedThrough: 5,
    });
    assert.deepEqual(readLogRange(nodeFileSystem, dir, 1, 5).length, 2, 'segments are built from such records as from any');
  });
});

test('a bad origin is a ValidationError that writes nothing and takes no sequence number', async () => {
  await withLog({ durability: 'write' }, async (wal) => {
    const bad: unknown[] = [
      { client: new Uint8Array(7), request: 1 },
      { client: new Uint8Array(8), request: -1 },
      { client: 'x', request: 1 },
    ];
    for (const origin of bad) {
      assert.throws(() => wal.appendNow(batchFor(1, 1), { origin } as never), ValidationError);
    }
    assert.equal(wal.lastSequence, 0);
  });
});

test('a turn record is cut before it passes 1 MiB or maxRecordBytes, and a coalescing append over 64 KiB gets a record of its own', async () => {
  await withLog({ durability: 'write', maxRecordBytes: 2048 }, async (wal) => {
    const appends = Array.from({ length: 200 }, (_, i) =>
      wal.appendNow([{ kind: 'put', key: `k${i}`, value: 'v'.repeat(40) }], { coalesce: true }),
    );
    await Promise.all(appends.map((appended) => appended.durable));
    const records = await collect(wal.replay());
    assert.ok(records.length > 1, 'several records');
    assert.equal(
      records.reduce((sum, record) => sum + record.entries.length, 0),
      200,
    );
    assert.ok(
      records.every((record) => record.entries.length < 200 / 4),
      'each well below 2 KiB',
    );
  });
  await withLog({ durability: 'write' }, async (wal) => {
    const small = wal.appendNow([{ kind: 'put', key: 'small', value: 'v' }], { coalesce: true });
    const large = wal.appendNow([{ kind: 'put', key: 'large', value: new Uint8Array(65 * 1024) }], { coalesce: true });
    const after = wal.appendNow([{ kind: 'put', key: 'after', value: 'v' }], { coalesce: true });
    assert.notEqual(large.durable, small.durable);
    await Promise.all([small.durable, large.durable, after.durable]);
    const records = await collect(wal.replay());
    assert.deepEqual(
      records.map((record) => [record.firstSeq, record.lastSeq]),
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    );
  });
});

test('a refused appendNow throws at once, takes no sequence number and changes nothing', async () => {
  await withLog({ durability: 'write', maxRecordBytes: 1024 }, async (wal) => {
    const joined = wal.appendNow(batchFor(1, 1), { coalesce: true });
    assert.throws(
      () => wal.appendNow([{ kind: 'put', key: text('big'), value: new Uint8Array(2000) }], { coalesce: true }),
      ValidationError,
    );
    assert.throws(() => wal.appendNow([]), ValidationError);
    assert.throws(() => wal.appendNow(batchFor(2, 1), { coalesce: 'yes' } as never), ValidationError);
    assert.throws(() => wal.appendNow(batchFor(2, 1), { together: true } as never), /unknown appendNow option 'together'/);
    assert.equal(wal.lastSequence, 1);
    await joined.durable;
    const closing = wal.close();
    assert.throws(() => wal.appendNow(batchFor(2, 1), { coalesce: true }), ClosedError);
    await closing;
    assert.equal(wal.lastSequence, 1);
  });
});

test("whenWritten resolves once a range is in the files, where a reader finds it; in 'none' mode it writes out what is buffered", async () => {
  for (const durability of ['none', 'write', 'fsync'] as const) {
    await withLog({ durability }, async (wal, dir) => {
      const appended = wal.appendNow(batchFor(1, 3), { coalesce: true });
      wal.appendNow(batchFor(4, 1), { coalesce: true });
      await assert.rejects(wal.whenWritten(5), ValidationError, 'not handed out yet');
      await wal.whenWritten(appended.lastSequence);
      const records = readLogRange(nodeFileSystem, dir, 1, 4);
      assert.deepEqual(
        records.map((record) => [record.firstSeq, record.lastSeq]),
        [[1, 4]],
        durability,
      );
      await wal.whenWritten(2);
    });
  }
});

test('replay returns every batch in order with its exact entries, and from a sequence number includes the batch holding it', async () => {
  await withLog({ durability: 'fsync' }, async (wal) => {
    const acked: Acked[] = [];
    for (const count of [1, 4, 2, 1, 7]) acked.push(await appendNext(wal, count));
    const all = await collect(wal.replay());
    checkRecoveredLog(all, { startsAt: 1, acked, issuedThrough: wal.lastSequence });
    assert.deepEqual(
      all.map((r) => r.firstSeq),
      [1, 2, 6, 8, 9],
    );
    const fromSeven = await collect(wal.replay(7));
    assert.deepEqual(
      fromSeven.map((r) => r.firstSeq),
      [6, 8, 9],
      'batch 6..7 holds 7',
    );
    assert.deepEqual(await collect(wal.replay(16)), []);
  });
});

test('replay hands back valueIsText as written', async () => {
  await withLog({}, async (wal) => {
    const entries: WalEntry[] = [
      { kind: 'put', key: text('t'), value: text('é'), valueIsText: true },
      { kind: 'put', key: text('b'), value: Uint8Array.of(1) },
      { kind: 'delete', key: text('d') },
    ];
    await wal.append(entries);
    const [record] = await collect(wal.replay());
    assert.deepEqual(
      record?.entries.map((e) => [e.kind, e.kind === 'put' ? (e.valueIsText ?? false) : null]),
      [
        ['put', true],
        ['put', false],
        ['delete', null],
      ],
    );
  });
});

test('a reopened log continues after its last record with the same content', async () => {
  const dir = tempDir('reopen');
  const acked: Acked[] = [];
  for (const durability of ['fsync', 'write', 'none'] as const) {
    const wal = await WriteAheadLog.open(dir, { durability });
    assert.equal(
      wal.lastSequence,
      acked.reduce((n, a) => n + a.count, 0),
    );
    acked.push(await appendNext(wal, 3), await appendNext(wal, 1));
    await wal.close();
  }
  const wal = await WriteAheadLog.open(dir);
  checkRecoveredLog(await collect(wal.replay()), { startsAt: 1, acked, issuedThrough: 12 });
  assert.equal(wal.lastSequence, 12);
  await wal.close();
});

test('nextSequence starts an empty log and moves a non-empty one forward; the files it skips are covered', async () => {
  const dir = tempDir('floor');
  let wal = await WriteAheadLog.open(dir, { nextSequence: 100 });
  assert.equal(wal.lastSequence, 99);
  assert.equal(await wal.append(batchFor(100, 2)), 100);
  await wal.close();
  wal = await WriteAheadLog.open(dir, { nextSequence: 102 });
  assert.equal(wal.lastSequence, 101, 'the log continues where the caller needs it');
  await wal.close();
  wal = await WriteAheadLog.open(dir, { nextSequence: 500 });
  assert.equal(await wal.append(batchFor(500, 1)), 500);
  assert.deepEqual(
    (await collect(wal.replay())).map((r) => r.firstSeq),
    [100, 500],
  );
  await wal.close();
  assert.deepEqual(logFiles(dir), [logFileName(100), logFileName(500)]);
  wal = await WriteAheadLog.open(dir, { nextSequence: 500 });
  assert.equal(wal.lastSequence, 500, 'below nextSequence, 102–499 are not missing: the caller has them');
  await wal.close();
});

test('a nextSequence below the first record the log holds past it is a CorruptionError: the caller needs records the log lacks', async () => {
  const dir = tempDir('floor-back');
  const wal = await WriteAheadLog.open(dir, { nextSequence: 100 });
  await wal.append(batchFor(100, 2));
  await wal.close();
  const before = readFileSync(join(dir, logFileName(100)));
  await assert.rejects(WriteAheadLog.open(dir, { nextSequence: 5 }), (error: unknown) => {
    assert.ok(error instanceof CorruptionError);
    assert.equal(error.file, join(dir, logFileName(100)));
    assert.match(error.message, /sequence numbers 5–99 are missing before 0000000000000100\.log/);
    return true;
  });
  assert.deepEqual(readFileSync(join(dir, logFileName(100))), before);
  assert.deepEqual(logFiles(dir), [logFileName(100)]);
});

test('without nextSequence, a jump nextSequence once made between files cannot be told from lost files: CorruptionError', async () => {
  const dir = tempDir('floor-forgotten');
  let wal = await WriteAheadLog.open(dir);
  await wal.append(batchFor(1, 2));
  await wal.close();
  wal = await WriteAheadLog.open(dir, { nextSequence: 50 });
  await wal.append(batchFor(50, 1));
  await wal.close();
  await assert.rejects(
    WriteAheadLog.open(dir),
    /sequence numbers 3–49 are missing between 0000000000000001\.log and 0000000000000050\.log/,
  );
  wal = await WriteAheadLog.open(dir, { nextSequence: 51 });
  assert.equal(wal.lastSequence, 50);
  await wal.close();
});

test('files rotate at maxFileBytes, each named for its first record', async () => {
  await withLog({ durability: 'write', maxFileBytes: 1024 }, async (wal, dir) => {
    const acked: Acked[] = [];
    for (let i = 0; i < 60; i++) acked.push(await appendNext(wal, 1 + (i % 3)));
    const names = logFiles(dir);
    assert.ok(names.length > 5, `${names.length} files`);
    const records = await collect(wal.replay());
    checkRecoveredLog(records, { startsAt: 1, acked, issuedThrough: wal.lastSequence });
    const firstSeqs = new Set(records.map((r) => r.firstSeq));
    for (const name of names) {
      const sequence = Number(name.slice(0, 16));
      assert.ok(firstSeqs.has(sequence) || sequence === wal.lastSequence + 1, `${name} starts a record`);
      const size = statSync(join(dir, name)).size;
      assert.ok(size <= 1024 || readFileSync(join(dir, name)).readUInt32LE(8) === size, `${name} has ${size} bytes`);
    }
    assert.equal(wal.stats().files, names.length);
    assert.equal(wal.stats().bytes, bytesOnDisk(dir));
  });
});

test('a record larger than maxFileBytes gets a file of its own', async () => {
  await withLog({ maxFileBytes: 1024 }, async (wal, dir) => {
    await appendNext(wal, 1);
    await wal.append([{ kind: 'put', key: text('big'), value: new Uint8Array(5000) }]);
    await appendNext(wal, 1);
    assert.deepEqual(logFiles(dir), [logFileName(1), logFileName(2), logFileName(3)]);
  });
});

test('rotate() starts a new file for what is appended next, and does nothing on an empty file', async () => {
  await withLog({ durability: 'fsync' }, async (wal, dir) => {
    await wal.rotate();
    assert.deepEqual(logFiles(dir), [logFileName(1)]);
    await appendNext(wal, 2);
    const pending = appendNext(wal, 1);
    await wal.rotate();
    await pending;
    await appendNext(wal, 1);
    assert.deepEqual(logFiles(dir), [logFileName(1), logFileName(4)]);
    await wal.rotate();
    assert.deepEqual(logFiles(dir), [logFileName(1), logFileName(4), logFileName(5)]);
  });
});

test('truncateBefore deletes only files whose records all lie below the sequence number, never the newest', async () => {
  await withLog({ maxFileBytes: 1024 }, async (wal, dir) => {
    for (let i = 0; i < 40; i++) await appendNext(wal, 2);
    const before = logFiles(dir);
    const third = Number(before[2]!.slice(0, 16));
    await wal.truncateBefore(third);
    assert.deepEqual(logFiles(dir), before.slice(2), 'files ending below the third file go');
    await wal.truncateBefore(third + 1);
    assert.deepEqual(logFiles(dir), before.slice(2), 'a file holding the sequence number stays');
    const records = await collect(wal.replay());
    assert.equal(records[0]?.firstSeq, third);
    checkRecoveredLog(records, { startsAt: third, acked: [], issuedThrough: 80 });
    await wal.truncateBefore(Number.MAX_SAFE_INTEGER);
    assert.deepEqual(logFiles(dir), [before.at(-1)]);
    assert.equal(wal.stats().files, 1);
  });
});

test('after truncating everything but an empty newest file, a reopen still knows the next sequence number', async () => {
  const dir = tempDir('empty-newest');
  let wal = await WriteAheadLog.open(dir);
  for (let i = 0; i < 5; i++) await appendNext(wal, 2);
  await wal.rotate();
  await wal.truncateBefore(11);
  await wal.close();
  assert.deepEqual(logFiles(dir), [logFileName(11)]);
  assert.equal(statSync(join(dir, logFileName(11))).size, 0);
  wal = await WriteAheadLog.open(dir);
  assert.equal(wal.lastSequence, 10);
  assert.equal(await wal.append(batchFor(11, 1)), 11);
  await wal.close();
});

test("'fsync' mode: an acknowledged batch is on stable storage, and a burst of appends shares one write and one fdatasync", async () => {
  const dir = tempDir('fsync');
  const sim = new CrashSimFileSystem({ seed: 1 });
  const wal = await WriteAheadLog.open(dir, { fs: sim, durability: 'fsync' });
  await appendNext(wal, 1);
  assert.deepEqual(unsyncedLogPaths(sim), [], 'nothing a power loss could take');
  const before = wal.stats();
  await Promise.all(Array.from({ length: 500 }, (_, i) => wal.append(batchFor(2 + i, 1))));
  const after = wal.stats();
  assert.equal(after.groupCommits - before.groupCommits, 1);
  assert.equal(after.syncs - before.syncs, 1);
  assert.deepEqual(unsyncedLogPaths(sim), []);
  await wal.close();
});

test("'fsync' mode: appends made in a later turn form the next group", async () => {
  await withLog({ durability: 'fsync' }, async (wal) => {
    const first = appendNext(wal, 1);
    await new Promise((resolve) => setImmediate(resolve)); // the first group is now being written and synced
    const rest = Array.from({ length: 100 }, () => wal.append(batchFor(wal.lastSequence + 1, 1)));
    await Promise.all([first, ...rest]);
    assert.equal(wal.stats().groupCommits, 2);
    assert.equal(wal.stats().syncs, 2);
  });
});

test("'fsync' mode writes zeros ahead of its records; rotation and close cut every file back to its records", async () => {
  await withLog({ durability: 'fsync', maxFileBytes: 64 * 1024 }, async (wal, dir) => {
    const acked: Acked[] = [await appendNext(wal, 2)];
    const [first] = logFiles(dir);
    assert.equal(statSync(join(dir, first!)).size, 64 * 1024, 'the newest file is filled to maxFileBytes (less than one step)');
    assert.ok(wal.stats().bytes < 1024, 'stats count the records only');
    while (logFiles(dir).length < 3) acked.push(await appendNext(wal, 20));
    const names = logFiles(dir);
    for (const name of names.slice(0, -1)) {
      const bytes = readFileSync(join(dir, name));
      assert.notEqual(bytes.at(-1), 0, `${name} ends at its last record`);
    }
    checkRecoveredLog(await collect(wal.replay()), { startsAt: 1, acked, issuedThrough: wal.lastSequence });
    await wal.close();
    assert.equal(bytesOnDisk(dir), wal.stats().bytes, 'close cut the zeros off the newest file');
  });
});

test("a crashed 'fsync' writer's zeros are cut on reopen, silently: they are not a torn tail", async () => {
  const dir = tempDir('zeros');
  const wal = await WriteAheadLog.open(dir, { durability: 'fsync' });
  const acked = [await appendNext(wal, 3), await appendNext(wal, 1)];
  const copy = join(dir, 'copy');
  mkdirSync(copy);
  for (const name of logFiles(dir)) copyFileSync(join(dir, name), join(copy, name));
  await wal.close();
  assert.ok(bytesOnDisk(copy) > 1024 * 1024, 'the copy holds the zeros written ahead');
  const reopened = await WriteAheadLog.open(copy, { durability: 'write' });
  assert.deepEqual(reopened.recoveryReport, {});
  assert.equal(bytesOnDisk(copy), reopened.stats().bytes);
  checkRecoveredLog(await collect(reopened.replay()), { startsAt: 1, acked });
  await reopened.close();
});

test("'write' mode: an acknowledged batch is in the file (the OS has it), and a background fdatasync follows", async () => {
  const dir = tempDir('write');
  const sim = new CrashSimFileSystem({ seed: 2 });
  const clock = new ManualClock();
  const wal = await WriteAheadLog.open(dir, { fs: sim, clock, durability: 'write', syncIntervalMs: 20 });
  await appendNext(wal, 3);
  assert.ok(bytesOnDisk(dir) > 0, 'written before the promise resolved');
  assert.equal(wal.durableSequence, 3);
  clock.advance(19);
  assert.equal(wal.stats().syncs, 0, 'no fdatasync before the interval is up');
  assert.ok(unsyncedLogPaths(sim).length > 0);
  clock.advance(1);
  while (wal.stats().syncs === 0) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(unsyncedLogPaths(sim), [], 'the background sync made it durable');
  await wal.close();
});

test("'none' mode: appends stay in memory until sync(), close() or a full buffer", async () => {
  await withLog({ durability: 'none' }, async (wal, dir) => {
    await appendNext(wal, 2);
    assert.equal(wal.durableSequence, 2, 'acknowledged at once');
    assert.equal(bytesOnDisk(dir), 0);
    await wal.sync();
    const synced = bytesOnDisk(dir);
    assert.ok(synced > 0);
    const big = new Uint8Array(64 * 1024);
    for (let i = 0; i * big.length < NONE_MODE_BUFFER_BYTES; i++) await wal.append([{ kind: 'put', key: text(`b${i}`), value: big }]);
    while (bytesOnDisk(dir) === synced) await new Promise((resolve) => setImmediate(resolve));
    await appendNext(wal, 1);
    const beforeClose = bytesOnDisk(dir);
    await wal.close();
    assert.ok(bytesOnDisk(dir) > beforeClose, 'close wrote the rest');
  });
});

test('sync() and close() leave nothing a power loss could take, in every mode', async () => {
  for (const durability of ['fsync', 'write', 'none'] as const) {
    const dir = tempDir(`durable-${durability}`);
    const sim = new CrashSimFileSystem({ seed: 3 });
    const wal = await WriteAheadLog.open(dir, { fs: sim, durability, maxFileBytes: 2048, syncIntervalMs: 60_000 });
    for (let i = 0; i < 30; i++) void wal.append(batchFor(wal.lastSequence + 1, 2));
    await wal.sync();
    assert.deepEqual(unsyncedLogPaths(sim), [], `${durability} sync`);
    await wal.rotate();
    assert.deepEqual(unsyncedLogPaths(sim), [], `${durability} rotate`);
    await wal.truncateBefore(20);
    assert.deepEqual(unsyncedLogPaths(sim), [], `${durability} truncateBefore`);
    for (let i = 0; i < 30; i++) void wal.append(batchFor(wal.lastSequence + 1, 1));
    await wal.close();
    assert.deepEqual(unsyncedLogPaths(sim), [], `${durability} close`);
  }
});

test('bad input is a ValidationError that writes nothing and takes no sequence number', async () => {
  await withLog({ durability: 'write', maxRecordBytes: 1024 }, async (wal, dir) => {
    await appendNext(wal, 1);
    const size = bytesOnDisk(dir);
    const bad: unknown[] = [
      undefined,
      'not an array',
      [],
      [null],
      [{ kind: 'upsert', key: text('k'), value: text('v') }],
      [{ kind: 'put', key: 5, value: text('v') }],
      [{ kind: 'put', key: text('k'), value: { length: 1 } }],
      [{ kind: 'put', key: text('k') }],
      [{ kind: 'delete', key: [1, 2] }],
      [{ kind: 'put', key: text('k'), value: text('v'), valueIsText: 'yes' }],
      [
        { kind: 'put', key: text('ok'), value: text('v') },
        { kind: 'put', key: 7, value: text('v') },
      ],
      [{ kind: 'put', key: text('big'), value: new Uint8Array(2000) }],
      [{ kind: 'put', key: 'big', value: 'é'.repeat(600) }],
    ];
    for (const entries of bad) {
      await assert.rejects(wal.append(entries as WalEntry[]), ValidationError, JSON.stringify(entries)?.slice(0, 60));
      assert.equal(wal.lastSequence, 1);
    }
    await assert.rejects(wal.append([{ kind: 'put', key: text('big'), value: new Uint8Array(2000) }]), /maxRecordBytes/);
    await wal.sync();
    assert.equal(bytesOnDisk(dir), size, 'nothing was written');
    assert.equal(await wal.append(batchFor(2, 1)), 2, 'the next good batch takes the next number');
  });
});

test('bad arguments to replay and truncateBefore are ValidationErrors', async () => {
  await withLog({}, async (wal) => {
    await assert.rejects(collect(wal.replay(-1)), ValidationError);
    await assert.rejects(collect(wal.replay(1.5)), ValidationError);
    await assert.rejects(wal.truncateBefore(Number.NaN), ValidationError);
    await assert.rejects(wal.truncateBefore('3' as unknown as number), ValidationError);
  });
});

test('bad options are ValidationErrors naming the option, and nothing is created', async () => {
  const dir = tempDir('options');
  const target = join(dir, 'wal');
  const bad: Array<[unknown, RegExp]> = [
    [{ durability: 'sometimes' }, /durability/],
    [{ syncIntervalMs: 0 }, /syncIntervalMs/],
    [{ syncIntervalMs: 1.5 }, /syncIntervalMs/],
    [{ maxFileBytes: 10 }, /maxFileBytes/],
    [{ maxFileBytes: 2 ** 31 }, /maxFileBytes/],
    [{ maxRecordBytes: 2 ** 30 }, /maxRecordBytes/],
    [{ recovery: 'lenient' }, /recovery/],
    [{ nextSequence: 0 }, /nextSequence/],
    [{ fs: {} }, /fs/],
    [{ durabilty: 'fsync' }, /unknown WAL option 'durabilty'/],
    ['fsync', /options must be an object/],
  ];
  for (const [options, message] of bad) {
    await assert.rejects(WriteAheadLog.open(target, options as WalOptions), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, message);
      return true;
    });
  }
  await assert.rejects(WriteAheadLog.open('' as string), ValidationError);
  assert.deepEqual(readdirSync(dir), []);
});

test('after close every call is a ClosedError, and close is idempotent', async () => {
  await withLog({}, async (wal) => {
    await appendNext(wal, 1);
    const closing = wal.close();
    await assert.rejects(wal.append(batchFor(2, 1)), ClosedError);
    await closing;
    await wal.close();
    await assert.rejects(wal.sync(), ClosedError);
    await assert.rejects(wal.rotate(), ClosedError);
    await assert.rejects(wal.truncateBefore(1), ClosedError);
    await assert.rejects(collect(wal.replay()), ClosedError);
  });
});

test('open creates the directory, parents included', async () => {
  const dir = tempDir('mkdir');
  const wal = await WriteAheadLog.open(join(dir, 'a', 'b'));
  await appendNext(wal, 1);
  await wal.close();
  assert.deepEqual(readdirSync(join(dir, 'a', 'b')).sort(), [logFileName(1), LOG_ACKNOWLEDGED_FILE].sort());
});

test('files that are not log files are left alone', async () => {
  const dir = tempDir('foreign');
  writeFileSync(join(dir, 'README.txt'), 'mine');
  writeFileSync(join(dir, '12.log'), 'not a log name');
  const wal = await WriteAheadLog.open(dir);
  await appendNext(wal, 1);
  await wal.close();
  assert.deepEqual(readdirSync(dir).sort(), [logFileName(1), '12.log', 'README.txt', LOG_ACKNOWLEDGED_FILE].sort());
});

test('replay follows a rotation that happens while it runs', async () => {
  await withLog({ maxFileBytes: 1024 }, async (wal) => {
    for (let i = 0; i < 20; i++) await appendNext(wal, 1);
    const seen: number[] = [];
    for await (const record of wal.replay()) {
      seen.push(record.firstSeq);
      if (record.firstSeq === 5) for (let i = 0; i < 20; i++) await appendNext(wal, 1);
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    for (const record of await collect(wal.replay())) {
      record.entries.forEach((entry, i) => assert.equal(entryMismatch(entry, record.firstSeq + i), undefined));
    }
  });
});

test('string keys and values go to the log as UTF-8, and a string value comes back as text', async () => {
  await withLog({ durability: 'write' }, async (wal) => {
    await wal.append([
      { kind: 'put', key: 'clé', value: 'valeur ✓' },
      { kind: 'put', key: text('bytes'), value: 'text value' },
      { kind: 'put', key: '', value: '' },
      { kind: 'delete', key: 'gone' },
    ]);
    const records = [];
    for await (const record of wal.replay()) records.push(record);
    const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
    const entries = records.flatMap((record) => record.entries);
    assert.deepEqual(
      entries.map((entry) => [
        entry.kind,
        decode(entry.key),
        entry.kind === 'put' ? decode(entry.value) : undefined,
        entry.kind === 'put' ? entry.valueIsText : undefined,
      ]),
      [
        ['put', 'clé', 'valeur ✓', true],
        ['put', 'bytes', 'text value', true],
        ['put', '', '', true],
        ['delete', 'gone', undefined, undefined],
      ],
    );
  });
});

/** Counts whole-file reads: what a replay costs in I/O. */
class CountingFileSystem extends NodeFileSystem {
  private fileReads = 0;

  get reads(): number {
    return this.fileReads;
  }

  override readFile(path: string): Uint8Array {
    this.fileReads++;
    return super.readFile(path);
  }
}

test('the first replay after open hands back what open already read and checked, without reading a file again; after an append it reads again', async () => {
  const dir = tempDir('wal-replay-reuse');
  const written = await WriteAheadLog.open(dir, { maxFileBytes: 1024 });
  for (let i = 0; i < 40; i++) await appendNext(written, 3);
  const files = written.stats().files;
  await written.close();
  assert.ok(files >= 3, `${files} files`);

  const fs = new CountingFileSystem();
  const wal = await WriteAheadLog.open(dir, { fs, maxFileBytes: 1024, nextSequence: 10 });
  try {
    const readByOpen = fs.reads;
    const first = await collect(wal.replay(10));
    assert.equal(fs.reads, readByOpen, 'the replay reused what open parsed');
    assert.equal(first[0]?.firstSeq, 10);
    assert.equal(first.at(-1)?.lastSeq, 120);
    await wal.append([{ kind: 'put', key: Buffer.from('k'), value: Buffer.from('v') }]);
    const again = await collect(wal.replay(10));
    assert.ok(fs.reads > readByOpen, 'a replay after an append reads the files as they are now');
    assert.equal(again.at(-1)?.lastSeq, 121);
    assert.deepEqual(
      again.slice(0, first.length).map((record) => record.entries),
      first.map((record) => record.entries),
    );
  } finally {
    await wal.close();
  }
});
