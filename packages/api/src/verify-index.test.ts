import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeFileSystem, MANIFEST_FILE, type FileHandle, type OpenMode } from '@silt/fs';
import { IndexDamagedError } from '@silt/segments';
import { RECORD_HEADER_BYTES, WriteAheadLog } from '@silt/wal';
import { Index } from './index-handle.js';
import { inspectIndex } from './inspect-index.js';
import { appendToLog, damageLogRecord } from './test-support/log-append.js';
import { tempDir } from '@silt/test-support';
import { verifyIndex, type VerifyReport } from './verify-index.js';

/** No flush timer and no merges: the segments are exactly the ones the fixture's flushes make. */
const STILL = { autoMerge: false, refreshIntervalMs: 2 ** 31 - 1 } as const;

/**
 * Two segments (two explicit flushes) and a newest log file holding five
 * records, written in 'fsync' mode: each record then carries proof that the
 * ones before it were synced, so damage to an early one is corruption, not
 * a torn write. The close flushes the five records (the second segment) and
 * leaves them in the log, which the segments then cover.
 */
async function fixture(label: string): Promise<string> {
  const dir = join(tempDir(label), 'idx');
  const index = await Index.open(dir, { ...STILL, durability: 'fsync' });
  try {
    await index.mset(Array.from({ length: 2000 }, (_, i) => [`key:${i}`, `value ${i}`] as [string, string]));
    await index.flush();
    for (let i = 0; i < 5; i++) await index.set(`late:${i}`, `value ${i}`);
  } finally {
    await index.close();
  }
  return dir;
}

function flipByte(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset] = bytes[offset]! ^ 0x5a;
  writeFileSync(path, bytes);
}

/** The real file system, noting every file opened or read whole. */
class ReadRecordingFileSystem extends NodeFileSystem {
  readonly read: string[] = [];

  override open(path: string, mode: OpenMode): FileHandle {
    this.read.push(path);
    return super.open(path, mode);
  }

  override readFile(path: string): Uint8Array {
    this.read.push(path);
    return super.readFile(path);
  }
}

const damagedOf = (report: VerifyReport): VerifyReport['files'] => report.files.filter((file) => file.status === 'damaged');

test('verifyIndex passes a sound index, beside its writer: every segment and log file checked, through the FileSystem seam', async () => {
  const dir = await fixture('sound');
  await using index = await Index.open(dir, STILL);
  const fs = new ReadRecordingFileSystem();
  const report = await verifyIndex(dir, { fs });
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.damaged, 0);
  assert.equal(report.generation, index.stats().generation);
  const segments = report.files.filter((file) => file.kind === 'segment');
  assert.deepEqual(
    segments.map((file) => file.file),
    index.stats().segments.map((segment) => `segments/${segment.id}.seg`),
  );
  assert.deepEqual(
    segments.map((file) => file.entries),
    [2000, 5],
  );
  const logFiles = report.files.filter((file) => file.kind === 'wal');
  assert.ok(
    logFiles.some((file) => file.status === 'ok' && (file.records ?? 0) > 1),
    JSON.stringify(logFiles),
  );
  for (const file of report.files)
    assert.ok(
      fs.read.some((path) => path.endsWith(file.file)),
      `${file.file} was read through the seam`,
    );
  assert.deepEqual((await inspectIndex(dir)).readers, [], 'the lease it took is dropped');
});

test('verifyIndex reports a flipped byte in a segment with its offset, and still checks the others', async () => {
  const dir = await fixture('segment-damage');
  const [victim, other] = (await inspectIndex(dir)).segments;
  flipByte(join(dir, victim!.file), Math.floor(victim!.bytes / 3));
  const report = await verifyIndex(dir);
  assert.equal(report.ok, false);
  const damaged = damagedOf(report);
  assert.deepEqual(
    damaged.map((file) => file.file),
    [victim!.file],
  );
  assert.ok(damaged[0]!.offset !== undefined && damaged[0]!.offset <= victim!.bytes);
  assert.ok(!damaged[0]!.detail!.includes(dir), 'the detail leaves out the path the report already names');
  assert.equal(report.files.find((file) => file.file === other!.file)?.status, 'ok');
});

test('verifyIndex reports a segment cut short, and a live segment that is gone', async () => {
  const dir = await fixture('segment-size');
  const [first, second] = (await inspectIndex(dir)).segments;
  writeFileSync(join(dir, second!.file), 'short');
  rmSync(join(dir, first!.file));
  const report = await verifyIndex(dir);
  assert.deepEqual(
    damagedOf(report).map((file) => [file.file, file.detail]),
    [
      [first!.file, 'the file is missing; the manifest names it as live'],
      [second!.file, `the file is 5 bytes; the manifest recorded ${second!.bytes}`],
    ],
  );
});

test("verifyIndex reports a flipped byte in an early record of the newest log file, 'fsync' mode: damage at the record, not a torn write", async () => {
  const dir = await fixture('wal-damage');
  const newest = readdirSync(join(dir, 'wal'))
    .filter((name) => name.endsWith('.log'))
    .sort()
    .at(-1)!;
  flipByte(join(dir, 'wal', newest), RECORD_HEADER_BYTES + 2);
  const report = await verifyIndex(dir);
  const damaged = damagedOf(report);
  assert.deepEqual(
    damaged.map((file) => [file.file, file.offset]),
    [[`wal/${newest}`, 0]],
  );
  assert.match(damaged[0]!.detail ?? '', /damage, not a torn write/);
});

test("verifyIndex reports a flipped byte in a middle record of the newest log file with valid records after it, 'write' mode: damage, never a torn tail", async () => {
  const dir = join(tempDir('wal-middle-damage'), 'idx');
  const index = await Index.open(dir, STILL);
  await index.set('early', 'value');
  await index.close();
  let last = 1;
  for (let record = 0; record < 5; record++) last = await appendToLog(dir, last, [[`late${record}`, `value ${record}`]]);
  const damage = damageLogRecord(dir, 2);
  const report = await verifyIndex(dir);
  assert.equal(report.ok, false);
  assert.deepEqual(
    damagedOf(report).map((file) => [file.file, file.offset]),
    [[`wal/${damage.file.split('/').at(-1)!}`, damage.offset]],
  );
  assert.equal(report.files.filter((file) => file.status === 'torn').length, 0);
});

/** An index whose log has several files and no segment: returns its directory. */
async function logOfSeveralFiles(label: string): Promise<string> {
  const dir = join(tempDir(label), 'idx');
  const index = await Index.open(dir, STILL);
  await index.close();
  const wal = await WriteAheadLog.open(join(dir, 'wal'), { maxFileBytes: 1024 });
  try {
    for (let i = 0; i < 60; i++) await wal.append([{ kind: 'put', key: Buffer.from(`key${i}`), value: Buffer.alloc(40, i) }]);
  } finally {
    await wal.close();
  }
  return dir;
}

test('verifyIndex names sequence numbers missing from the log: an emptied oldest log file the segments do not cover is a gap', async () => {
  const dir = await logOfSeveralFiles('wal-gap');
  const names = readdirSync(join(dir, 'wal'))
    .filter((name) => name.endsWith('.log'))
    .sort();
  assert.ok(names.length >= 3, `${names.length} log files`);
  truncateSync(join(dir, 'wal', names[0]!), 0);
  const report = await verifyIndex(dir);
  const damaged = damagedOf(report);
  assert.deepEqual(
    damaged.map((file) => [file.file, file.offset]),
    [[`wal/${names[1]}`, 0]],
  );
  assert.match(damaged[0]!.detail ?? '', new RegExp(`sequence numbers 1–${Number(names[1]!.slice(0, 16)) - 1} are missing`));
});

test('an onProgress that throws stops verifyIndex with its error, and the lease is dropped', async () => {
  const dir = await fixture('progress-stop');
  const seen: Array<[number, number, number]> = [];
  const stop = new Error('stop here');
  await assert.rejects(
    verifyIndex(dir, {
      onProgress: (checked, total, files) => {
        seen.push([checked, total, files]);
        if (files === 1) throw stop;
      },
    }),
    (error) => error === stop,
  );
  assert.equal(seen.length, 2);
  assert.equal(seen[0]![0], 0, 'first called before any file');
  assert.ok(seen[1]![0] > 0 && seen[1]![0] < seen[1]![1]);
  assert.deepEqual((await inspectIndex(dir)).readers, []);
});

test('verifyIndex refuses an index whose manifest was deleted with IndexDamagedError, and changes nothing', async () => {
  const dir = await fixture('lost-manifest');
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `${MANIFEST_FILE}${suffix}`), { force: true });
  const before = readdirSync(dir).sort();
  await assert.rejects(verifyIndex(dir), IndexDamagedError);
  assert.deepEqual(readdirSync(dir).sort(), before);
});
