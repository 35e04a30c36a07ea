import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReadOnlyIndex } from '@silt/reader';
import { MANIFEST_FILE } from '@silt/fs';
import { IndexDamagedError, ManifestNotFoundError } from '@silt/segments';
import { Index } from './index-handle.js';
import { inspectDirectory } from './inspect-directory.js';
import { inspectIndex } from './inspect-index.js';
import { appendToLog, damageLogRecord } from './test-support/log-append.js';
import { tempDir } from '@silt/test-support';

const STILL = { autoMerge: false, refreshIntervalMs: 2 ** 31 - 1 } as const;

test('inspectIndex describes the generation, its segments, the log, the writer and the readers, beside a running writer', async () => {
  const dir = join(tempDir('inspect'), 'idx');
  await using index = await Index.open(dir, STILL);
  await index.mset([
    ['a', '1'],
    ['b', '2'],
  ]);
  await index.flush();
  await index.set('c', '3');
  await using reader = await ReadOnlyIndex.open(dir, { watch: false });
  const inspection = await inspectIndex(dir);
  const stats = index.stats();
  assert.equal(inspection.generation, stats.generation);
  assert.deepEqual(
    inspection.segments.map((segment) => [segment.id, segment.entries, segment.bytes]),
    stats.segments.map((segment) => [segment.id, segment.entries, segment.bytes]),
  );
  assert.equal(inspection.walCoveredSequence, stats.coveredSequence);
  assert.ok(inspection.committedAt > 0 && inspection.committedAt <= Date.now());
  assert.ok(
    inspection.wal.length >= 1 && inspection.wal.every((file) => /^wal\/\d{16}\.log$/.test(file.name) && file.bytes > 0),
    JSON.stringify(inspection.wal),
  );
  assert.deepEqual(inspection.writer, { pid: process.pid, running: true });
  assert.deepEqual(
    inspection.readers.map((lease) => [lease.pid, lease.generation]),
    [[process.pid, reader.generation]],
  );
  assert.deepEqual(inspection.setAside, { droppedFromLog: [], repairs: [] });
});

test('inspectIndex lists what a keepValidPrefix recovery dropped from the log and kept in wal/lost+found', async () => {
  const dir = join(tempDir('inspect-dropped'), 'idx');
  const index = await Index.open(dir, STILL);
  await index.set('a', '1');
  await index.close();
  let last = 1;
  for (let record = 0; record < 3; record++) last = await appendToLog(dir, last, [[`late${record}`, 'value']]);
  damageLogRecord(dir, 1);
  await (await Index.open(dir, { ...STILL, walRecovery: 'keepValidPrefix' })).close();
  const { setAside, writer } = await inspectIndex(dir);
  assert.ok(setAside.droppedFromLog.length > 0);
  assert.ok(
    setAside.droppedFromLog.every((file) => file.name.startsWith('wal/lost+found/') && file.bytes > 0),
    JSON.stringify(setAside),
  );
  assert.deepEqual(writer, undefined, 'a writer that closed removes its record');
});

test('inspectIndex refuses a directory without an index (ManifestNotFoundError) and one whose manifest was lost (IndexDamagedError)', async () => {
  const empty = join(tempDir('inspect-none'), 'idx');
  mkdirSync(empty, { recursive: true });
  await assert.rejects(inspectIndex(empty), ManifestNotFoundError);
  const dir = join(tempDir('inspect-lost'), 'idx');
  const index = await Index.open(dir, STILL);
  await index.set('a', '1');
  await index.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `${MANIFEST_FILE}${suffix}`), { force: true });
  await assert.rejects(inspectIndex(dir), IndexDamagedError);
});

test('inspectDirectory tells a missing path, a file, an empty directory, an index and other files apart, and names what silt did not write', async () => {
  const dir = join(tempDir('inspect-kinds'), 'idx');
  assert.equal(inspectDirectory(dir).kind, 'missing');
  mkdirSync(dir, { recursive: true });
  assert.equal(inspectDirectory(dir).kind, 'empty');
  writeFileSync(join(dir, 'cat.jpg'), 'meow');
  assert.deepEqual(inspectDirectory(dir), { directory: dir, kind: 'other', foreignEntries: ['cat.jpg'], damage: undefined });
  assert.equal(inspectDirectory(join(dir, 'cat.jpg')).kind, 'file');
  rmSync(join(dir, 'cat.jpg'));

  const index = await Index.open(dir, STILL);
  await index.set('a', '1');
  await index.flush();
  // While the writer runs, the manifest has its SQLite companions (-wal, -shm) and the lock files are there.
  const sound = inspectDirectory(dir);
  await index.close();
  assert.equal(sound.kind, 'index');
  assert.deepEqual(sound.foreignEntries, [], "the manifest, its SQLite companions, the lock files, wal/ and segments/ are all silt's");
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  assert.deepEqual(inspectDirectory(dir).foreignEntries, ['notes.txt']);

  for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `${MANIFEST_FILE}${suffix}`), { force: true });
  const lost = inspectDirectory(dir);
  assert.equal(lost.kind, 'other');
  assert.ok(lost.damage instanceof IndexDamagedError, 'segment files without a manifest: a lost manifest, not a foreign directory');
});
