import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { nodeFileSystem } from '@silt/fs';
import { checkLog, listLog } from './log-check.js';
import { inTempDir } from './test-support/temp-dir.js';
import { WriteAheadLog } from './write-ahead-log.js';

/** A log of several files in `dir` (small files: it rotates often). */
async function writeLogOfSeveralFiles(dir: string): Promise<void> {
  const wal = await WriteAheadLog.open(dir, { maxFileBytes: 1024 });
  try {
    for (let i = 0; i < 60; i++) await wal.append([{ kind: 'put', key: Buffer.from(`key${i}`), value: Buffer.alloc(40, i) }]);
  } finally {
    await wal.close();
  }
}

test("checkLog passes a sound log of several files, counting each file's records", async () => {
  await inTempDir('check-sound', async (dir) => {
    await writeLogOfSeveralFiles(dir);
    const files = listLog(nodeFileSystem, dir);
    assert.ok(files.length >= 3, `${files.length} log files`);
    const checks = checkLog(nodeFileSystem, files, 0);
    assert.deepEqual(
      checks.map((check) => check.status),
      files.map(() => 'ok'),
    );
    assert.equal(
      checks.reduce((sum, check) => sum + check.records, 0),
      60,
    );
  });
});

test('an emptied log file whose records are covered elsewhere is no gap; one they are not covered by is, named on the next file', async () => {
  await inTempDir('check-emptied', async (dir) => {
    await writeLogOfSeveralFiles(dir);
    const [oldest, second] = listLog(nodeFileSystem, dir);
    truncateSync(oldest!.path, 0);

    const coveredPastIt = checkLog(nodeFileSystem, listLog(nodeFileSystem, dir), second!.firstSequence - 1);
    assert.deepEqual(
      coveredPastIt.filter((check) => check.status !== 'ok'),
      [],
    );

    const notCovered = checkLog(nodeFileSystem, listLog(nodeFileSystem, dir), 0);
    const damaged = notCovered.filter((check) => check.status === 'damaged');
    assert.deepEqual(
      damaged.map((check) => [check.name, check.offset]),
      [[second!.name, 0]],
    );
    assert.match(damaged[0]!.error!.message, new RegExp(`sequence numbers 1–${second!.firstSequence - 1} are missing`));
  });
});

test('a damaged record in an older file is damage; a file deleted after the listing is gone; neither stops the check of the rest', async () => {
  await inTempDir('check-damage', async (dir) => {
    await writeLogOfSeveralFiles(dir);
    const files = listLog(nodeFileSystem, dir);
    const bytes = readFileSync(files[0]!.path);
    bytes[20] = bytes[20]! ^ 0x5a;
    writeFileSync(files[0]!.path, bytes);
    unlinkSync(files[1]!.path);
    const checks = checkLog(nodeFileSystem, files, 0);
    assert.deepEqual(
      checks.slice(0, 2).map((check) => check.status),
      ['damaged', 'gone'],
    );
    assert.ok(checks[0]!.error !== undefined);
    assert.deepEqual(
      checks.slice(2).map((check) => check.status),
      files.slice(2).map(() => 'ok'),
      'no gap is claimed after a file whose end is unknown',
    );
  });
});

test('listLog of a directory that does not exist is empty', () => {
  assert.deepEqual(listLog(nodeFileSystem, '/nonexistent/silt/wal'), []);
});
