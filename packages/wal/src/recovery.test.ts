import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError, CrashSimFileSystem } from '@silt/fs';
import { UnsupportedWalVersionError } from './errors.js';
import { encodeRecord, sealRecord } from './record-format.js';
import { WriteAheadLog } from './write-ahead-log.js';
import { inTempDir } from './test-support/temp-dir.js';
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
  const files = readdirSync(dir).filter((n) => n.endsWith('.log')).sort().map((n) => join(dir, n));
  assert.ok(files.length >= 3);
  return { files, acked };
}

function flipByte(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset]! ^= 0xff;
  writeFileSync(path, bytes);
}

/** Offsets of the records in a log file, read from their length fields. */
function recordOffsets(path: string): number[] {
  const bytes = readFileSync(path);
  const offsets: number[] = [];
  for (let at = 0; at < bytes.length; at += bytes.readUInt32LE(at + 8)) offsets.push(at);
  return offsets;
}

test('a torn record at the end of the newest file is cut off on open, durably, and the log continues', async () => {
  await inTempDir('torn', async (dir) => {
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
    assert.deepEqual(sim.unsyncedPaths(), [], 'the cut is fsynced');
    checkRecoveredLog(await collect(wal.replay()), { startsAt: 1, acked });
    await wal.append(batchFor(wal.lastSequence + 1, 1));
    await wal.close();
  });
});

test('a damaged record followed by good ones is a CorruptionError naming file and offset, and strict open changes nothing', async () => {
  await inTempDir('corrupt', async (dir) => {
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
});

test("recovery: 'keepValidPrefix' keeps the records before the damage and drops the rest, durably, later files included", async () => {
  await inTempDir('keep-prefix', async (dir) => {
    const { files, acked } = await writeLog(dir);
    const damaged = files[1]!;
    const victim = recordOffsets(damaged)[2]!;
    flipByte(damaged, victim + 33);
    await assert.rejects(WriteAheadLog.open(dir), CorruptionError);
    const sim = new CrashSimFileSystem({ seed: 2 });
    const wal = await WriteAheadLog.open(dir, { fs: sim, recovery: 'keepValidPrefix' });
    const dropped = wal.recoveryReport.droppedAfterCorruption;
    assert.equal(dropped?.file, damaged);
    assert.equal(dropped?.offset, victim);
    assert.deepEqual(dropped?.filesRemoved, files.slice(2));
    assert.deepEqual(sim.unsyncedPaths(), [], 'truncation and deletions are durable');
    assert.deepEqual(readdirSync(dir).sort(), files.slice(0, 2).map((f) => f.slice(dir.length + 1)));
    assert.equal(statSync(damaged).size, victim);
    const records = await collect(wal.replay());
    const summary = checkRecoveredLog(records, { startsAt: 1, acked: acked.filter((a) => a.firstSeq <= records.at(-1)!.firstSeq) });
    assert.equal(wal.lastSequence, summary.last);
    assert.equal(await wal.append(batchFor(summary.last + 1, 1)), summary.last + 1, 'appending continues after the kept prefix');
    await wal.close();
    const reopened = await WriteAheadLog.open(dir);
    checkRecoveredLog(await collect(reopened.replay()), { startsAt: 1, acked: [] });
    await reopened.close();
  });
});

test('a record cut short in a file that is not the newest is corruption, not a torn tail', async () => {
  await inTempDir('older-torn', async (dir) => {
    const { files } = await writeLog(dir);
    const older = files[0]!;
    truncateSync(older, statSync(older).size - 3);
    await assert.rejects(WriteAheadLog.open(dir), (error: unknown) => error instanceof CorruptionError && error.file === older);
  });
});

test('a log file whose records do not carry the sequence numbers its name promises is corruption', async () => {
  await inTempDir('renamed', async (dir) => {
    const { files } = await writeLog(dir);
    // A copy of the second file under a name that claims other sequence numbers.
    const second = files[1]!;
    const bytes = readFileSync(second);
    writeFileSync(join(dir, '0000000000000002.log'), bytes);
    await assert.rejects(WriteAheadLog.open(dir), CorruptionError);
  });
});

test('a record of a newer format version stops open with UnsupportedWalVersionError, even with keepValidPrefix, and nothing is touched', async () => {
  await inTempDir('version', async (dir) => {
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
});
