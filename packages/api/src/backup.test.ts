import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeFileSystem, type FileSystem } from '@silt/fs';
import { tempDir } from '@silt/test-support';
import { backup, BackupDestinationError, type BackupReport } from './backup.js';
import { Index } from './index-handle.js';
import { verifyIndex } from './verify-index.js';
import { WriterProcess } from './test-support/reader-processes.js';
import { KEY_SPACE, keyOf, writeNumberOf } from './test-support/reader-protocol.js';

/**
 * A writer child (writer-for-readers.ts) writes numbered values over 300
 * keys without pause, flushing every few bursts, force-merging, rotating a
 * 4 KiB log (so flushes delete log files all the time), while `backup`
 * copies the index. The copy must open and hold exactly the writes 1..M for
 * some M at least the last write acknowledged before `backup` was called:
 * every such write, and a prefix (no later write without the ones before it).
 */

const WRITER = { firstN: 1, refreshIntervalMs: 20, walFileBytes: 4096, flushEvery: 4, mergeEvery: 25 } as const;
/** Writes the writer has made before a backup starts: enough for flushes, merges and deleted log files. */
const WARM_UP_WRITES = 3000;

/** Opens the copy with Index.open, verifies every checksum, and returns M, checking the copy holds exactly writes 1..M. */
async function checkCopy(destination: string, ackedBefore: number, lastIssued: number): Promise<number> {
  const verified = await verifyIndex(destination);
  assert.equal(verified.ok, true, JSON.stringify(verified.files.filter((file) => file.status === 'damaged')));
  const copy = await Index.open(destination, { autoMerge: false });
  try {
    const numbers = Array.from({ length: KEY_SPACE }, (_, slot) => {
      const value = copy.get(keyOf(slot));
      return value === undefined ? 0 : writeNumberOf(keyOf(slot), value);
    });
    const newest = Math.max(...numbers);
    assert.ok(newest >= ackedBefore, `the copy holds writes up to ${newest}, but ${ackedBefore} was acknowledged before the backup began`);
    assert.ok(newest <= lastIssued, `the copy holds write ${newest}, never issued`);
    for (let slot = 0; slot < KEY_SPACE; slot++) {
      // The newest write to this key at or below `newest`: writes to a slot are `slot`, `slot + 300`, ...
      const expected = newest - ((((newest - slot) % KEY_SPACE) + KEY_SPACE) % KEY_SPACE);
      assert.equal(numbers[slot], expected > 0 ? expected : 0, `${keyOf(slot)}: the copy is not the prefix 1..${newest}`);
    }
    return newest;
  } finally {
    await copy.close();
  }
}

test('a backup taken while a writer flushes, merges and deletes log files holds every write acknowledged before it began', async (t) => {
  const work = tempDir('backup-load');
  const dir = join(work, 'idx');
  const writer = new WriterProcess({ ...WRITER, dir, seed: 17 });
  try {
    await writer.ready;
    const reports: BackupReport[] = [];
    for (let round = 1; round <= 2; round++) {
      await writer.acknowledgedUpTo(round * WARM_UP_WRITES);
      const ackedBefore = writer.lastAcked;
      const destination = join(work, `copy-${round}`);
      const report = await backup(dir, destination);
      reports.push(report);
      assert.equal(writer.failure, undefined);
      await checkCopy(destination, ackedBefore, writer.lastIssued);
      assert.ok(report.sequence >= report.coveredSequence);
    }
    assert.ok(writer.merges > 0 && writer.flushes.count > 0, 'the writer flushed and merged meanwhile');
    // How much log each copy took depends on where the writer's flushes were: a note, not a check.
    t.diagnostic(`log files copied: ${reports.map((report) => report.logFiles).join(', ')}`);
    assert.ok(
      reports.every((report) => report.linkedSegments === report.segments),
      'on one file system, segments are hard links',
    );
  } finally {
    await writer.kill();
  }
});

test('a writer SIGKILLed mid-backup: the copy still opens and holds every write acknowledged before the backup began', async () => {
  const work = tempDir('backup-kill');
  const dir = join(work, 'idx');
  const writer = new WriterProcess({ ...WRITER, dir, seed: 23 });
  await writer.ready;
  await writer.acknowledgedUpTo(WARM_UP_WRITES);
  const ackedBefore = writer.lastAcked;
  const destination = join(work, 'copy');
  let killed: Promise<void> | undefined;
  // The first report comes once the generation is leased and its log files are open, before a byte is copied.
  await backup(dir, destination, { onProgress: () => void (killed ??= writer.kill()) });
  await killed;
  assert.ok(killed !== undefined);
  await checkCopy(destination, ackedBefore, writer.lastIssued);
  // The source, too, recovers (its writer died); the copy is no part of it.
  const source = await Index.open(dir, { autoMerge: false });
  await source.close();
});

test('across file systems segments are copied, not linked, and the copy is the same index', async () => {
  const work = tempDir('backup-copy');
  const dir = join(work, 'idx');
  // No flush timer: what the test writes after its flush stays in the log.
  const index = await Index.open(dir, { autoMerge: false, refreshIntervalMs: 2 ** 31 - 1 });
  for (let i = 0; i < 500; i++) await index.set(`key-${i}`, `value-${i}`);
  await index.flush();
  await index.mset([...Array(100).keys()].map((i) => [`late-${i}`, `${i}`] as const));
  await index.delete('key-7');
  const { link: _link, ...withoutLink } = nodeFileSystemMethods();
  const report = await backup(dir, join(work, 'copy'), { fs: withoutLink });
  await index.close();
  assert.equal(report.linkedSegments, 0);
  assert.ok(report.segments > 0 && report.logFiles > 0, JSON.stringify(report));
  for (const name of readdirSync(join(work, 'copy', 'segments'))) assert.equal(statSync(join(work, 'copy', 'segments', name)).nlink, 1);
  const copy = await Index.open(join(work, 'copy'));
  try {
    assert.equal(copy.get('key-499'), 'value-499');
    assert.equal(copy.get('late-99'), '99');
    assert.equal(copy.get('key-7'), undefined, 'a delete past the generation is in the copied log');
  } finally {
    await copy.close();
  }
});

/** The real file system's calls as a plain object, so a test can leave one out. */
function nodeFileSystemMethods(): FileSystem & { link?: FileSystem['link'] } {
  const real = new NodeFileSystem();
  return {
    open: (path, mode) => real.open(path, mode),
    readFile: (path) => real.readFile(path),
    stat: (path) => real.stat(path),
    exists: (path) => real.exists(path),
    list: (directory) => real.list(directory),
    mkdir: (path) => real.mkdir(path),
    rename: (from, to) => real.rename(from, to),
    unlink: (path) => real.unlink(path),
    syncDirectory: (path) => real.syncDirectory(path),
    link: (existing, newPath) => real.link(existing, newPath),
    removeDirectory: (path) => real.removeDirectory(path),
  };
}

test('a destination that is not new or empty is refused and nothing is written; an empty one is used', async () => {
  const work = tempDir('backup-refusals');
  const dir = join(work, 'idx');
  const index = await Index.open(dir);
  await index.set('a', '1');
  await index.close();
  mkdirSync(join(work, 'full'));
  writeFileSync(join(work, 'full', 'notes.txt'), 'mine');
  writeFileSync(join(work, 'file'), 'x');
  const before = readdirSync(work).sort();
  for (const [destination, why] of [
    [join(work, 'full'), /it is not empty/],
    [join(work, 'file'), /it is a file/],
    [join(dir, 'inside'), /inside the index directory/],
    [join(work, 'no', 'parent'), /its parent directory does not exist/],
  ] as const) {
    await assert.rejects(backup(dir, destination), (error: unknown) => error instanceof BackupDestinationError && why.test(error.message));
  }
  assert.deepEqual(readdirSync(work).sort(), before, 'nothing written beside the destinations');
  assert.deepEqual(readdirSync(join(work, 'full')), ['notes.txt']);
  await assert.rejects(backup(join(work, 'full'), join(work, 'copy')), /no index at/);

  mkdirSync(join(work, 'empty'));
  await backup(dir, join(work, 'empty'));
  const copy = await Index.open(join(work, 'empty'));
  assert.equal(copy.get('a'), '1');
  await copy.close();
});

test('a backup stopped part-way leaves neither the destination nor its temporary directory', async () => {
  const work = tempDir('backup-stopped');
  const dir = join(work, 'idx');
  const index = await Index.open(dir, { autoMerge: false });
  for (let round = 0; round < 3; round++) {
    await index.mset([...Array(200).keys()].map((i) => [`k${round}-${i}`, 'v'.repeat(100)] as const));
    await index.flush();
  }
  await index.close();
  const before = readdirSync(work).sort();
  let reports = 0;
  await assert.rejects(
    backup(dir, join(work, 'copy'), {
      onProgress: (done) => {
        if (done > 0 && ++reports === 2) throw new Error('stop');
      },
    }),
    /^Error: stop$/,
  );
  assert.deepEqual(readdirSync(work).sort(), before);
});
