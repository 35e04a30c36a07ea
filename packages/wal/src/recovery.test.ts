import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CorruptionError, CrashSimFileSystem } from '@silt/fs';
import { UnsupportedWalVersionError } from './errors.js';
import { encodeRecord, sealRecord, type DecodedRecord } from './record-format.js';
import { parseLogFile } from './log-reader.js';
import { LOG_ACKNOWLEDGED_FILE, sequenceOfLogFile } from '@silt/fs';
import { WriteAheadLog } from './write-ahead-log.js';
import type { WalOptions } from './wal-options.js';
import { tempDir } from '@silt/test-support';
import { unsyncedLogPaths } from './test-support/unsynced-log-paths.js';
import { PowerCutFileSystem } from './test-support/power-cut-file-system.js';
import { batchFor, checkRecoveredLog, collect, type Acked } from './test-support/workload.js';

/** A closed log of several files written in 'fsync' mode; returns its files and what was acknowledged. */
async function writeLog(dir: string, batches = 60): Promise<{ files: string[]; acked: Acked[] }> {
  const wal = await WriteAheadLog.open(dir, { durability: 'fsync', maxFileBytes: 2048 });
  const acked: Acked[] = [];
  for (let i = 0; i < batches; i++) {
    const count = 1 + (i % 4);
    acked.push({ firstSeq: await wal.append(batchFor(wal.lastSequence + 1, count)), count });
  }
  await wal.close();
  const files = readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort()
    .map((n) => join(dir, n));
  assert.ok(files.length >= 3);
  return { files, acked };
}

function flipByte(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset]! ^= 0xff;
  writeFileSync(path, bytes);
}

/** The records a log file holds (parsed as the newest file). */
function recordsOf(path: string, bytes: Uint8Array = readFileSync(path)): DecodedRecord[] {
  return parseLogFile(bytes, { file: path, firstSequence: sequenceOfLogFile(basename(path))!, isLast: true }).records;
}

/** Offsets of the records in a log file, read from their length fields. */
function recordOffsets(path: string): number[] {
  return recordOffsetsIn(readFileSync(path));
}

function recordOffsetsIn(bytes: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = 0; at < bytes.length; at += bytes.readUInt32LE(at + 8)) offsets.push(at);
  return offsets;
}

test('a torn record at the end of the newest file is cut off on open, durably, and the log continues', async () => {
  const dir = tempDir('torn');
  const { files, acked } = await writeLog(dir);
  const newest = files.at(-1)!;
  const sizeBefore = statSync(newest).size;
  const torn = encodeRecord(acked.at(-1)!.firstSeq + acked.at(-1)!.count, batchFor(1, 3));
  appendFileSync(newest, torn.subarray(0, 25));
  const sim = new CrashSimFileSystem({ seed: 1 });
  const wal = await WriteAheadLog.open(dir, { fs: sim });
  assert.equal(wal.recoveryReport.tornTail?.file, newest);
  assert.equal(wal.recoveryReport.tornTail?.offset, sizeBefore);
  assert.equal(wal.recoveryReport.tornTail?.bytesRemoved, 25);
  assert.equal(statSync(newest).size, sizeBefore);
  assert.deepEqual(unsyncedLogPaths(sim), [], 'the cut is fsynced');
  checkRecoveredLog(await collect(wal.replay()), { startsAt: 1, acked });
  await wal.append(batchFor(wal.lastSequence + 1, 1));
  await wal.close();
});

test('a damaged record followed by good ones is a CorruptionError naming file and offset, and strict open changes nothing', async () => {
  const dir = tempDir('corrupt');
  const { files } = await writeLog(dir);
  const newest = files.at(-1)!;
  const victim = recordOffsets(newest)[1]!;
  flipByte(newest, victim + 35);
  const before = readFileSync(newest);
  await assert.rejects(WriteAheadLog.open(dir), (error: unknown) => {
    assert.ok(error instanceof CorruptionError);
    assert.equal(error.file, newest);
    assert.equal(error.offset, victim);
    assert.match(error.message, new RegExp(`${newest.replaceAll('/', '\\/')} at offset ${victim}`));
    return true;
  });
  assert.deepEqual(readFileSync(newest), before);
});

test("recovery: 'keepValidPrefix' keeps the records before the damage and sets the rest aside in lost+found, durably, later files included", async () => {
  const dir = tempDir('keep-prefix');
  const { files, acked } = await writeLog(dir);
  const damaged = files[1]!;
  const victim = recordOffsets(damaged)[2]!;
  flipByte(damaged, victim + 33);
  const damagedBytes = readFileSync(damaged);
  const laterBytes = files.slice(2).map((f) => readFileSync(f));
  await assert.rejects(WriteAheadLog.open(dir), CorruptionError);
  const sim = new CrashSimFileSystem({ seed: 2 });
  const wal = await WriteAheadLog.open(dir, { fs: sim, recovery: 'keepValidPrefix' });
  const dropped = wal.recoveryReport.dropped;
  assert.ok(dropped !== undefined);
  assert.equal(dropped.file, damaged);
  assert.equal(dropped.offset, victim);
  assert.match(dropped.reason, new RegExp(`${damaged.replaceAll('/', '\\/')} at offset ${victim}`));
  const victimRecord = recordsOf(damaged, damagedBytes).find((r) => r.offset === victim);
  assert.equal(victimRecord, undefined, 'the damaged record does not parse');
  const kept = recordsOf(damaged, damagedBytes).filter((r) => r.offset < victim);
  assert.equal(dropped.firstDroppedSequence, kept.at(-1)!.lastSeq + 1);
  const last = acked.at(-1)!;
  assert.equal(dropped.lastDroppedSequence, last.firstSeq + last.count - 1);
  const intactAfter =
    recordOffsetsIn(damagedBytes).filter((o) => o > victim).length +
    laterBytes.reduce((n, b, i) => n + recordsOf(files[i + 2]!, b).length, 0);
  assert.equal(dropped.records, intactAfter);
  assert.equal(dropped.bytes, damagedBytes.length - victim + laterBytes.reduce((n, b) => n + b.length, 0));
  const lostAndFound = join(dir, 'lost+found');
  assert.deepEqual(
    dropped.files.map((f) => [f.file, f.offset, f.savedAs]),
    [
      [damaged, victim, join(lostAndFound, `${basename(damaged)}.tail-from-${victim}`)],
      ...files.slice(2).map((f) => [f, 0, join(lostAndFound, basename(f))]),
    ],
  );
  assert.deepEqual(readFileSync(dropped.files[0]!.savedAs), damagedBytes.subarray(victim), 'the cut-off tail is saved byte for byte');
  files.slice(2).forEach((f, i) => assert.deepEqual(readFileSync(join(lostAndFound, basename(f))), laterBytes[i], `${f} is moved whole`));
  assert.deepEqual(unsyncedLogPaths(sim), [], 'the saved tail, the truncation and the moves are durable');
  assert.deepEqual(readdirSync(dir).sort(), [...files.slice(0, 2).map((f) => basename(f)), 'lost+found', LOG_ACKNOWLEDGED_FILE].sort());
  assert.equal(statSync(damaged).size, victim);
  const records = await collect(wal.replay());
  const summary = checkRecoveredLog(records, { startsAt: 1, acked: acked.filter((a) => a.firstSeq <= records.at(-1)!.firstSeq) });
  assert.equal(wal.lastSequence, summary.last);
  assert.equal(await wal.append(batchFor(summary.last + 1, 1)), summary.last + 1, 'appending continues after the kept prefix');
  await wal.close();
  const reopened = await WriteAheadLog.open(dir);
  assert.deepEqual(reopened.recoveryReport, {}, 'what lost+found holds is no longer part of the log');
  checkRecoveredLog(await collect(reopened.replay()), { startsAt: 1, acked: [] });
  await reopened.close();
});

test('a record cut short in a file that is not the newest is corruption, not a torn tail', async () => {
  const dir = tempDir('older-torn');
  const { files } = await writeLog(dir);
  const older = files[0]!;
  truncateSync(older, statSync(older).size - 3);
  await assert.rejects(WriteAheadLog.open(dir), (error: unknown) => error instanceof CorruptionError && error.file === older);
});

test('a log file whose records do not carry the sequence numbers its name promises is corruption', async () => {
  const dir = tempDir('renamed');
  const { files } = await writeLog(dir);
  // A copy of the second file under a name that claims other sequence numbers.
  const second = files[1]!;
  const bytes = readFileSync(second);
  writeFileSync(join(dir, '0000000000000002.log'), bytes);
  await assert.rejects(WriteAheadLog.open(dir), CorruptionError);
});

test('a record of a newer format version stops open with UnsupportedWalVersionError, even with keepValidPrefix, and nothing is touched', async () => {
  const dir = tempDir('version');
  const { files, acked } = await writeLog(dir, 30);
  const newest = files.at(-1)!;
  const next = acked.at(-1)!.firstSeq + acked.at(-1)!.count;
  const future = encodeRecord(next, batchFor(next, 1));
  future[12] = 2;
  sealRecord(future, 0, 0);
  appendFileSync(newest, future);
  const before = readFileSync(newest);
  for (const recovery of ['strict', 'keepValidPrefix'] as const) {
    await assert.rejects(WriteAheadLog.open(dir, { recovery }), (error: unknown) => {
      assert.ok(error instanceof UnsupportedWalVersionError);
      assert.equal(error.version, 2);
      assert.equal(error.file, newest);
      return true;
    });
  }
  assert.deepEqual(readFileSync(newest), before);
});

/** The error strict open throws for `dir`, checked to be a CorruptionError; nothing may change. */
async function strictOpenFails(dir: string, options: WalOptions = {}): Promise<CorruptionError> {
  const before = snapshot(dir);
  let caught: unknown;
  await WriteAheadLog.open(dir, options).then(
    (wal) => wal.close(),
    (error: unknown) => (caught = error),
  );
  assert.ok(caught instanceof CorruptionError, `expected a CorruptionError, got ${String(caught)}`);
  assert.deepEqual(snapshot(dir), before, 'strict open changes nothing');
  return caught;
}

/** Every file in `dir` (lost+found included) and its bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.set(join(entry.parentPath, entry.name), readFileSync(join(entry.parentPath, entry.name)));
  }
  return files;
}

test('an older log file truncated exactly at a record boundary leaves a gap: strict open names both files and the missing sequence numbers', async () => {
  const dir = tempDir('gap-truncated');
  const { files } = await writeLog(dir);
  const records = recordsOf(files[1]!);
  // Cut the last two records, so that several sequence numbers go missing.
  const cut = records.at(-2)!;
  truncateSync(files[1]!, cut.offset);
  const error = await strictOpenFails(dir);
  const nextFirst = sequenceOfLogFile(basename(files[2]!))!;
  assert.equal(nextFirst, records.at(-1)!.lastSeq + 1);
  assert.equal(error.file, files[2]);
  assert.equal(error.offset, 0);
  assert.ok(
    error.message.includes(
      `sequence numbers ${cut.firstSeq}–${nextFirst - 1} are missing between ${basename(files[1]!)} and ${basename(files[2]!)}`,
    ),
    error.message,
  );
});

test('a single missing sequence number is named as one', async () => {
  const dir = tempDir('gap-one');
  const { files } = await writeLog(dir);
  const older = files.slice(0, -1).find((f) => recordsOf(f).at(-1)!.lastSeq === recordsOf(f).at(-1)!.firstSeq);
  if (older === undefined) return assert.fail('some older file should end in a one-entry record (batch sizes cycle 1–4)');
  const last = recordsOf(older).at(-1)!;
  truncateSync(older, last.offset);
  const error = await strictOpenFails(dir);
  assert.ok(error.message.includes(`sequence number ${last.firstSeq} is missing between ${basename(older)} and`), error.message);
});

test('a deleted middle log file leaves a gap: strict open names the files around it and the missing sequence numbers', async () => {
  const dir = tempDir('gap-deleted');
  const { files } = await writeLog(dir);
  unlinkSync(files[1]!);
  const error = await strictOpenFails(dir);
  const [missingFirst, nextFirst] = [files[1]!, files[2]!].map((f) => sequenceOfLogFile(basename(f))!);
  assert.equal(error.file, files[2]);
  assert.ok(
    error.message.includes(
      `sequence numbers ${missingFirst}–${nextFirst! - 1} are missing between ${basename(files[0]!)} and ${basename(files[2]!)}`,
    ),
    error.message,
  );
});

test('a deleted oldest log file that held records past nextSequence is a CorruptionError; one wholly below it is covered', async () => {
  const dir = tempDir('gap-oldest');
  const { files, acked } = await writeLog(dir);
  const secondFirst = sequenceOfLogFile(basename(files[1]!))!;
  const oldest = readFileSync(files[0]!);
  unlinkSync(files[0]!);
  const error = await strictOpenFails(dir, { nextSequence: 3 });
  assert.equal(error.file, files[1]);
  assert.ok(
    error.message.includes(`sequence numbers 3–${secondFirst - 1} are missing before ${basename(files[1]!)}, the oldest log file`),
    error.message,
  );
  // Without being told where its caller needs it to start, the log cannot miss a file before its oldest.
  const unbounded = await WriteAheadLog.open(dir);
  await unbounded.close();
  writeFileSync(files[0]!, oldest);
  unlinkSync(files[1]!);
  // files[0] is now wholly below nextSequence (the caller has it): the gap after it is not missing data.
  const wal = await WriteAheadLog.open(dir, { nextSequence: sequenceOfLogFile(basename(files[2]!))! });
  checkRecoveredLog(await collect(wal.replay(sequenceOfLogFile(basename(files[2]!))!)), {
    acked: acked.filter((a) => a.firstSeq >= sequenceOfLogFile(basename(files[2]!))!),
  });
  await wal.close();
});

test('a damaged log file wholly below nextSequence is covered: open does not read it, and truncateBefore deletes it', async () => {
  const dir = tempDir('covered');
  const { files } = await writeLog(dir);
  flipByte(files[0]!, recordOffsets(files[0]!)[1]! + 40);
  await strictOpenFails(dir);
  const from = sequenceOfLogFile(basename(files[1]!))!;
  const wal = await WriteAheadLog.open(dir, { nextSequence: from });
  assert.deepEqual(wal.recoveryReport, {});
  assert.equal((await collect(wal.replay(from)))[0]!.firstSeq, from);
  await wal.truncateBefore(from);
  await wal.close();
  assert.ok(!readdirSync(dir).includes(basename(files[0]!)));
});

test("missing sequence numbers with 'keepValidPrefix': the log ends before the gap, the later files are moved to lost+found and reported", async () => {
  const dir = tempDir('gap-keep');
  const { files, acked } = await writeLog(dir);
  const cut = recordsOf(files[1]!).at(-1)!;
  truncateSync(files[1]!, cut.offset);
  const later = files.slice(2).map((f) => readFileSync(f));
  const sim = new CrashSimFileSystem({ seed: 3 });
  const wal = await WriteAheadLog.open(dir, { fs: sim, recovery: 'keepValidPrefix' });
  const dropped = wal.recoveryReport.dropped;
  assert.ok(dropped !== undefined);
  assert.equal(dropped.file, files[2]);
  assert.equal(dropped.offset, 0);
  assert.match(dropped.reason, /missing between/);
  assert.equal(dropped.firstDroppedSequence, sequenceOfLogFile(basename(files[2]!)));
  const last = acked.at(-1)!;
  assert.equal(dropped.lastDroppedSequence, last.firstSeq + last.count - 1);
  assert.equal(
    dropped.records,
    later.reduce((n, b, i) => n + recordsOf(files[i + 2]!, b).length, 0),
  );
  assert.equal(
    dropped.bytes,
    later.reduce((n, b) => n + b.length, 0),
  );
  assert.deepEqual(
    dropped.files.map((f) => [f.file, f.offset, f.bytes, f.savedAs]),
    files.slice(2).map((f, i) => [f, 0, later[i]!.length, join(dir, 'lost+found', basename(f))]),
  );
  assert.deepEqual(unsyncedLogPaths(sim), []);
  assert.equal(wal.lastSequence, cut.firstSeq - 1);
  assert.equal(await wal.append(batchFor(cut.firstSeq, 1)), cut.firstSeq);
  await wal.close();
  const reopened = await WriteAheadLog.open(dir);
  checkRecoveredLog(await collect(reopened.replay()), { startsAt: 1, acked: acked.filter((a) => a.firstSeq < cut.firstSeq) });
  await reopened.close();
});

/** A log written in 'write' mode with no background fdatasync: no record vouches for any offset of the newest file. */
async function writeUnsyncedLog(dir: string): Promise<{ newest: string; acked: Acked[] }> {
  const wal = await WriteAheadLog.open(dir, { durability: 'write', syncIntervalMs: 600_000, maxFileBytes: 4096 });
  const acked: Acked[] = [];
  for (let i = 0; i < 40; i++) acked.push({ firstSeq: await wal.append(batchFor(wal.lastSequence + 1, 1 + (i % 3))), count: 1 + (i % 3) });
  await wal.close();
  const newest = readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort()
    .map((n) => join(dir, n))
    .at(-1)!;
  assert.ok(recordsOf(newest).length >= 4, 'the newest file holds several records');
  return { newest, acked };
}

test("a flipped byte in a middle record of the newest file, with intact records after it, is corruption even in 'write' mode: strict names file and offset", async () => {
  const dir = tempDir('newest-middle');
  const { newest } = await writeUnsyncedLog(dir);
  const records = recordsOf(newest);
  assert.ok(
    records.every((r) => r.syncedOffset === 0),
    'no record vouches for an offset',
  );
  const victim = records[1]!;
  flipByte(newest, victim.offset + 36);
  const error = await strictOpenFails(dir);
  assert.equal(error.file, newest);
  assert.equal(error.offset, victim.offset);
  assert.match(error.message, new RegExp(`intact record follows at offset ${records[2]!.offset}, so this is not a torn write`));
});

test("a flipped byte in a middle record of the newest file with 'keepValidPrefix': cut there, counts reported, the dropped bytes saved in lost+found", async () => {
  const dir = tempDir('newest-middle-keep');
  const { newest, acked } = await writeUnsyncedLog(dir);
  const records = recordsOf(newest);
  const victim = records[1]!;
  flipByte(newest, victim.offset + 36);
  const damagedBytes = readFileSync(newest);
  const sim = new CrashSimFileSystem({ seed: 4 });
  const wal = await WriteAheadLog.open(dir, { fs: sim, recovery: 'keepValidPrefix' });
  const { dropped, tornTail } = wal.recoveryReport;
  assert.equal(tornTail, undefined);
  assert.ok(dropped !== undefined);
  const savedAs = join(dir, 'lost+found', `${basename(newest)}.tail-from-${victim.offset}`);
  assert.deepEqual(
    { ...dropped, reason: undefined },
    {
      reason: undefined,
      file: newest,
      offset: victim.offset,
      firstDroppedSequence: victim.firstSeq,
      lastDroppedSequence: records.at(-1)!.lastSeq,
      records: records.length - 2,
      bytes: damagedBytes.length - victim.offset,
      files: [{ file: newest, offset: victim.offset, bytes: damagedBytes.length - victim.offset, savedAs }],
    },
  );
  assert.deepEqual(readFileSync(savedAs), damagedBytes.subarray(victim.offset));
  assert.equal(statSync(newest).size, victim.offset);
  assert.deepEqual(unsyncedLogPaths(sim), []);
  checkRecoveredLog(await collect(wal.replay()), { startsAt: 1, acked: acked.filter((a) => a.firstSeq < victim.firstSeq) });
  assert.equal(wal.lastSequence, victim.firstSeq - 1);
  await wal.close();
});

test("a record cut mid-way at the end of the newest file in 'write' mode is still a torn tail, cut silently, with nothing set aside", async () => {
  const dir = tempDir('torn-write');
  const { newest, acked } = await writeUnsyncedLog(dir);
  const last = recordsOf(newest).at(-1)!;
  truncateSync(newest, last.offset + 20);
  const wal = await WriteAheadLog.open(dir);
  assert.deepEqual(wal.recoveryReport.tornTail?.offset, last.offset);
  assert.equal(wal.recoveryReport.dropped, undefined);
  assert.ok(!readdirSync(dir).includes('lost+found'));
  checkRecoveredLog(await collect(wal.replay()), { startsAt: 1, acked: acked.filter((a) => a.firstSeq < last.firstSeq) });
  await wal.close();
});

test('a second recovery that sets aside bytes under a name already in lost+found keeps both', async () => {
  const dir = tempDir('lost-found-names');
  const { newest } = await writeUnsyncedLog(dir);
  const victim = recordsOf(newest)[1]!;
  const original = readFileSync(newest);
  flipByte(newest, victim.offset + 36);
  await (await WriteAheadLog.open(dir, { recovery: 'keepValidPrefix' })).close();
  writeFileSync(newest, original);
  flipByte(newest, victim.offset + 40);
  const wal = await WriteAheadLog.open(dir, { recovery: 'keepValidPrefix' });
  const savedAs = wal.recoveryReport.dropped?.files[0]?.savedAs;
  await wal.close();
  const name = `${basename(newest)}.tail-from-${victim.offset}`;
  assert.equal(savedAs, join(dir, 'lost+found', `${name}.2`));
  assert.deepEqual(readdirSync(join(dir, 'lost+found')).sort(), [name, `${name}.2`]);
});

test("a power cut at any step of 'keepValidPrefix' setting bytes aside loses none: the next open ends the same, every dropped byte in lost+found", async () => {
  const base = tempDir('keep-power-cut');
  const original = join(base, 'original');
  const { files, acked } = await writeLog(original);
  const damaged = files[1]!;
  const victim = recordsOf(damaged)[2]!;
  flipByte(damaged, victim.offset + 36);
  const pieces = [readFileSync(damaged).subarray(victim.offset), ...files.slice(2).map((f) => readFileSync(f))];
  let completed = false;
  for (let cutAt = 1; !completed; cutAt++) {
    assert.ok(cutAt < 500, 'open with keepValidPrefix should complete within 500 file-system calls');
    const dir = join(base, `cut-${cutAt}`);
    cpSync(original, dir, { recursive: true });
    const power = new PowerCutFileSystem(new CrashSimFileSystem({ seed: cutAt }), cutAt);
    const wal = await WriteAheadLog.open(dir, { fs: power, recovery: 'keepValidPrefix' }).catch(() => undefined);
    if (wal !== undefined) {
      completed = true;
      await wal.close();
    }
    const reopened = await WriteAheadLog.open(dir, { recovery: 'keepValidPrefix' });
    const what = `power cut at call ${cutAt}`;
    checkRecoveredLog(await collect(reopened.replay()), {
      startsAt: 1,
      acked: acked.filter((a) => a.firstSeq < victim.firstSeq),
      issuedThrough: victim.firstSeq - 1,
    });
    assert.equal(reopened.lastSequence, victim.firstSeq - 1, what);
    await reopened.close();
    const lostAndFound = join(dir, 'lost+found');
    const saved = readdirSync(lostAndFound).map((name) => readFileSync(join(lostAndFound, name)));
    pieces.forEach((piece, i) =>
      assert.ok(
        saved.some((bytes) => bytes.equals(piece)),
        `${what}: dropped piece ${i} is not in lost+found`,
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
});
