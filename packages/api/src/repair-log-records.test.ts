import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE, sequenceOfLogFile } from '@silt/fs';
import { parseLogFile, WriteAheadLog } from '@silt/wal';
import { Index } from './index-handle.js';
import { repairIndex } from './repair.js';
import { scanLogFile } from '@silt/wal/internal';
import { tempDir } from '@silt/test-support';

const NO_TIMER = { refreshIntervalMs: 2 ** 31 - 1, autoMerge: false } as const;
const LATE_RECORDS = 12;

interface LateRecord {
  readonly file: string;
  readonly offset: number;
  readonly length: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly keys: readonly string[];
}

/**
 * One flushed segment, then 12 records of 3 writes each only in the log,
 * written in 'fsync' mode (so each record carries a synced offset) across
 * small files: what a writer killed before its next flush leaves.
 */
async function indexWithLateRecords(dir: string): Promise<LateRecord[]> {
  const index = await Index.open(dir, NO_TIMER);
  try {
    await index.mset(Array.from({ length: 20 }, (_, i): [string, string] => [`early${i}`, `value${i}`]));
    await index.flush();
  } finally {
    await index.close();
  }
  const wal = await WriteAheadLog.open(join(dir, 'wal'), { nextSequence: 21, maxFileBytes: 1024, durability: 'fsync' });
  try {
    for (let record = 0; record < LATE_RECORDS; record++) {
      await wal.append(
        Array.from({ length: 3 }, (_, i) => ({ kind: 'put' as const, key: `late${record}-${i}`, value: `value ${'x'.repeat(60)}` })),
      );
    }
  } finally {
    await wal.close();
  }
  return lateRecords(dir);
}

function lateRecords(dir: string): LateRecord[] {
  const records: LateRecord[] = [];
  for (const name of readdirSync(join(dir, 'wal'))
    .filter((entry) => sequenceOfLogFile(entry) !== undefined)
    .sort()) {
    const parsed = parseLogFile(readFileSync(join(dir, 'wal', name)), {
      file: name,
      firstSequence: sequenceOfLogFile(name)!,
      isLast: true,
    });
    for (const record of parsed.records) {
      if (record.lastSeq <= 20) continue;
      const keys = record.entries.map((entry) => new TextDecoder().decode(entry.key));
      records.push({
        file: `wal/${name}`,
        offset: record.offset,
        length: record.length,
        firstSeq: record.firstSeq,
        lastSeq: record.lastSeq,
        keys,
      });
    }
  }
  return records;
}

async function readKeys(dir: string, keys: readonly string[]): Promise<Map<string, boolean>> {
  const index = await Index.open(dir, NO_TIMER);
  try {
    return new Map(keys.map((key) => [key, index.get(key) !== undefined]));
  } finally {
    await index.close();
  }
}

test('a damaged record in the middle of the log loses only its own writes: repair recovers the records after it, in its file and the later ones', async () => {
  const dir = join(tempDir('repair-log-middle'), 'idx');
  const records = await indexWithLateRecords(dir);
  const files = [...new Set(records.map((record) => record.file))];
  assert.ok(files.length >= 3, `the late records span ${files.length} log files`);
  // A record with records after it in its own file, in a file that is not the newest.
  const victim =
    records.find((record, i) => record.file === files[1] && records[i + 1]?.file === files[1] && records[i - 1]?.file === files[1]) ??
    records.find((record) => record.file === files[1])!;
  const path = join(dir, victim.file);
  const bytes = readFileSync(path);
  bytes[victim.offset + Math.floor(victim.length / 2)]! ^= 0x5a;
  writeFileSync(path, bytes);

  const report = await repairIndex(dir);
  assert.deepEqual(
    report.lost.map((range) => [range.from, range.to]),
    [[victim.firstSeq, victim.lastSeq]],
  );
  assert.equal(report.lastKnownSequence, records.at(-1)!.lastSeq);
  assert.equal(report.recoveredTo, records.at(-1)!.lastSeq);
  assert.deepEqual(
    report.logSegments.map((segment) => [segment.minSequence, segment.maxSequence]),
    [
      [21, victim.firstSeq - 1],
      [victim.lastSeq + 1, records.at(-1)!.lastSeq],
    ],
  );
  assert.ok(
    files.every((file) => report.setAside.some((entry) => entry.file === file)),
    'every log file is set aside whole',
  );
  assert.deepEqual(readdirSync(join(dir, report.lostFound, 'wal')).sort(), files.map((file) => file.slice('wal/'.length)).sort());
  const present = await readKeys(
    dir,
    records.flatMap((record) => record.keys),
  );
  for (const record of records) {
    for (const key of record.keys)
      assert.equal(present.get(key), record !== victim, `${key} (record ${record.firstSeq}–${record.lastSeq})`);
  }
});

test('a missing log file in the middle loses exactly its sequence numbers; the files after it are recovered', async () => {
  const dir = join(tempDir('repair-log-gap'), 'idx');
  const records = await indexWithLateRecords(dir);
  const files = [...new Set(records.map((record) => record.file))];
  const gone = files[1]!;
  rmSync(join(dir, gone));
  const inGone = records.filter((record) => record.file === gone);
  const report = await repairIndex(dir);
  assert.deepEqual(
    report.lost.map((range) => [range.from, range.to]),
    [[inGone[0]!.firstSeq, inGone.at(-1)!.lastSeq]],
  );
  const present = await readKeys(
    dir,
    records.flatMap((record) => record.keys),
  );
  for (const record of records) for (const key of record.keys) assert.equal(present.get(key), record.file !== gone, key);
});

test("repair fills a segment's missing range from log records that still hold it: nothing lost", async () => {
  const dir = join(tempDir('repair-log-hole'), 'idx');
  // The default log file size keeps every record in the one newest file, which flushes never delete.
  const index = await Index.open(dir, NO_TIMER);
  try {
    for (let flush = 0; flush < 3; flush++) {
      await index.mset(Array.from({ length: 10 }, (_, i): [string, string] => [`key${flush}-${i}`, `value${flush}`]));
      await index.set('shared', `from flush ${flush}`);
      await index.flush();
    }
  } finally {
    await index.close();
  }
  const segments = readdirSync(join(dir, 'segments')).sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
  assert.equal(segments.length, 3);
  rmSync(join(dir, 'segments', segments[1]!));
  rmSync(join(dir, MANIFEST_FILE));
  const report = await repairIndex(dir);
  assert.deepEqual(report.lost, []);
  assert.deepEqual(
    report.logSegments.map((segment) => [segment.minSequence, segment.maxSequence]),
    [[12, 22]],
  );
  const reopened = await Index.open(dir, NO_TIMER);
  try {
    for (let flush = 0; flush < 3; flush++) for (let i = 0; i < 10; i++) assert.equal(reopened.get(`key${flush}-${i}`), `value${flush}`);
    assert.equal(reopened.get('shared'), 'from flush 2', 'the segment built for the hole sits below the newer one');
  } finally {
    await reopened.close();
  }
});

test('scanning a log file past a damaged record finds every intact record after it, not the record magic inside a value', async () => {
  const dir = join(tempDir('log-scan'), 'idx');
  const wal = await WriteAheadLog.open(join(dir, 'wal'), { durability: 'fsync' });
  try {
    for (let record = 0; record < 5; record++)
      await wal.append([{ kind: 'put', key: `k${record}`, value: `a value holding SWAL, the record magic, ${record}` }]);
  } finally {
    await wal.close();
  }
  const [name] = readdirSync(join(dir, 'wal'));
  const bytes = readFileSync(join(dir, 'wal', name!));
  const sound = scanLogFile(bytes, 1);
  assert.deepEqual(sound.damage, []);
  assert.deepEqual(
    sound.records.map((record) => record.firstSequence),
    [1, 2, 3, 4, 5],
  );
  bytes[sound.records[1]!.offset + 40]! ^= 0x5a;
  const damaged = scanLogFile(bytes, 1);
  assert.deepEqual(
    damaged.records.map((record) => record.firstSequence),
    [1, 3, 4, 5],
  );
  assert.deepEqual(
    damaged.damage.map((place) => place.offset),
    [sound.records[1]!.offset],
  );
  // Zeros after the records (the log writes them ahead in 'fsync' mode) end the file; they are not damage.
  const padded = new Uint8Array(bytes.length + 4096);
  padded.set(readFileSync(join(dir, 'wal', name!)));
  assert.deepEqual(scanLogFile(padded, 1).damage, []);
});
