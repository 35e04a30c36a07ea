import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ValidationError } from '@silt/fs';
import { Manifest } from './manifest.js';
import { MANIFEST_FILE } from '@silt/fs';
import { flush, merge } from './test-support/manifest-fixtures.js';
import { tempDir } from '@silt/test-support';

/**
 * The manifest's committed state must live in `manifest.sqlite` alone:
 * SQLite's `-wal` and `-shm` look like temporary files, get left behind by
 * copies, and get damaged. Copies are made with `cp` in a child process,
 * as a backup would be, and never opened with node:fs in this process while
 * the manifest is open (closing a descriptor would drop SQLite's locks).
 */

const SIDE_FILES = ['-wal', '-shm'] as const;

interface ManifestView {
  readonly generation: number;
  readonly walCoveredSequence: number;
  readonly live: ReadonlyArray<{ readonly id: number; readonly minSequence: number; readonly maxSequence: number }>;
  readonly segmentIds: readonly number[];
  readonly nextSegmentId: number;
}

function viewOf(manifest: Manifest): ManifestView {
  const current = manifest.current();
  return {
    generation: current.generation,
    walCoveredSequence: current.walCoveredSequence,
    live: current.segments.map(({ id, minSequence, maxSequence }) => ({ id, minSequence, maxSequence })),
    segmentIds: manifest.segmentIds(),
    nextSegmentId: manifest.nextSegmentId(),
  };
}

/** Copies the manifest's files (`sideFiles` of them besides the main one) into a fresh directory. */
function copyManifest(path: string, sideFiles: readonly string[]): string {
  const copy = join(tempDir('manifest-copy'), MANIFEST_FILE);
  for (const suffix of ['', ...sideFiles]) {
    if (existsSync(path + suffix)) execFileSync('cp', [path + suffix, copy + suffix]);
  }
  return copy;
}

function viewOfCopy(copy: string): ManifestView {
  using reopened = Manifest.open(copy, { role: 'reader' });
  return viewOf(reopened);
}

/** Three flushes, a merge, a collection and an id reservation: every kind of write the writer makes. */
function busyHistory(manifest: Manifest): void {
  const [first, second] = flush(manifest, [1, 10], [11, 20], [21, 30]);
  merge(manifest, [first!, second!]);
  const collectable = manifest.collectable();
  assert.equal(collectable.length, 2);
  manifest.markCollected(collectable.map((segment) => segment.id));
  manifest.allocateSegmentIds(32);
}

/** A lease written by a reader connection: a transaction that only `-wal` holds (readers never checkpoint). */
function leaveALeaseInWal(path: string): void {
  using reader = Manifest.open(path, { role: 'reader' });
  reader.takeLease();
}

test('every committed generation, id allocation and collection survives losing manifest.sqlite-wal and -shm', () => {
  const path = join(tempDir('wal-loss'), MANIFEST_FILE);
  using manifest = Manifest.open(path);
  assert.deepEqual(viewOfCopy(copyManifest(path, [])), viewOf(manifest), 'a new manifest');
  const [first, second] = flush(manifest, [1, 10], [11, 20], [21, 30]);
  assert.deepEqual(viewOfCopy(copyManifest(path, [])), viewOf(manifest), 'after flushes');
  merge(manifest, [first!, second!]);
  assert.deepEqual(viewOfCopy(copyManifest(path, [])), viewOf(manifest), 'after a merge');
  manifest.markCollected(manifest.collectable().map((segment) => segment.id));
  assert.deepEqual(viewOfCopy(copyManifest(path, [])), viewOf(manifest), 'after a collection');
  manifest.allocateSegmentIds(32);
  const expected = viewOf(manifest);
  assert.equal(expected.nextSegmentId, 37);
  assert.deepEqual(viewOfCopy(copyManifest(path, [])), expected, 'after reserving ids');
  assert.equal(manifest.lastCheckpoint?.completed, true);
  assert.equal(statSync(`${path}-wal`).size, 0, 'a completed checkpoint leaves -wal empty');
});

test('a flipped byte in the -wal header (and garbage in -shm) loses at most what only -wal held, never a generation', () => {
  const path = join(tempDir('wal-header'), MANIFEST_FILE);
  using manifest = Manifest.open(path);
  busyHistory(manifest);
  leaveALeaseInWal(path);
  const copy = copyManifest(path, SIDE_FILES);
  assert.ok(statSync(`${copy}-wal`).size > 32, 'the copied -wal has a header and frames to damage');
  const wal = readFileSync(`${copy}-wal`);
  wal[16] = wal[16]! ^ 0xff; // salt-1: the header checksum no longer holds
  writeFileSync(`${copy}-wal`, wal);
  // The first connection to open the copy rebuilds -shm from -wal rather than trusting it.
  writeFileSync(`${copy}-shm`, Buffer.alloc(statSync(`${copy}-shm`).size, 0xa5));
  assert.deepEqual(viewOfCopy(copy), viewOf(manifest));
});

test('a -wal cut in half loses at most what only -wal held, never a generation', () => {
  const path = join(tempDir('wal-cut'), MANIFEST_FILE);
  using manifest = Manifest.open(path);
  busyHistory(manifest);
  leaveALeaseInWal(path);
  const copy = copyManifest(path, SIDE_FILES);
  const walBytes = statSync(`${copy}-wal`).size;
  assert.ok(walBytes > 32, 'the copied -wal has frames to cut');
  truncateSync(`${copy}-wal`, Math.floor(walBytes / 2));
  assert.deepEqual(viewOfCopy(copy), viewOf(manifest));
});

test('a reader reading during commits makes the checkpoint partial, never the commit fail; the next one catches up', () => {
  const path = join(tempDir('wal-reader'), MANIFEST_FILE);
  using manifest = Manifest.open(path);
  flush(manifest, [1, 10]);
  const before = viewOf(manifest);
  const reader = new Database(path);
  try {
    // An open read transaction pins the snapshot it started on, and with it -wal.
    reader.prepare('BEGIN').run();
    assert.equal(reader.prepare('SELECT generation FROM manifest_state').pluck().get(), 1);
    flush(manifest, [11, 20], [21, 30]);
    assert.equal(manifest.currentGeneration(), 3, 'the commits went through');
    assert.equal(manifest.lastCheckpoint?.completed, false);
    assert.equal(manifest.lastCheckpoint?.error, undefined, 'partial is not an error');
    assert.ok(statSync(`${path}-wal`).size > 0, 'the newest commits are still in -wal');
    assert.deepEqual(viewOfCopy(copyManifest(path, [])), before, 'so the main file alone is behind');
    assert.equal(reader.prepare('SELECT generation FROM manifest_state').pluck().get(), 1, 'the reader kept its snapshot');
    reader.prepare('COMMIT').run();
  } finally {
    reader.close();
  }
  flush(manifest, [31, 40]);
  assert.equal(manifest.lastCheckpoint?.completed, true, 'the next commit catches up');
  assert.equal(statSync(`${path}-wal`).size, 0);
  assert.deepEqual(viewOfCopy(copyManifest(path, [])), viewOf(manifest));
});

test('a checkpoint that catches up empties -wal, so cutting it afterwards cannot replay older commits over newer pages', () => {
  const path = join(tempDir('wal-catch-up-cut'), MANIFEST_FILE);
  using manifest = Manifest.open(path);
  const reader = new Database(path);
  reader.prepare('BEGIN').run();
  reader.prepare('SELECT generation FROM manifest_state').pluck().get();
  flush(manifest, [1, 10], [11, 20], [21, 30]);
  reader.prepare('COMMIT').run();
  reader.close();
  // One transaction, then the checkpoint that catches up (a flush's id allocation would catch up first).
  manifest.commit({ walCoveredSequence: 40 });
  assert.equal(manifest.lastCheckpoint?.completed, true);
  const copy = copyManifest(path, SIDE_FILES);
  // A checkpoint that only copied (FULL, RESTART) would leave every frame valid in -wal; half of them is an older state.
  truncateSync(`${copy}-wal`, Math.floor(statSync(`${copy}-wal`).size / 2));
  assert.deepEqual(viewOfCopy(copy), viewOf(manifest));
});

test('checkpoint() retries without a commit, once the reader that stopped the last one is gone', () => {
  const path = join(tempDir('wal-retry'), MANIFEST_FILE);
  using manifest = Manifest.open(path);
  const reader = new Database(path);
  reader.prepare('BEGIN').run();
  reader.prepare('SELECT generation FROM manifest_state').pluck().get();
  flush(manifest, [1, 10]);
  assert.equal(manifest.lastCheckpoint?.completed, false);
  reader.prepare('COMMIT').run();
  reader.close();
  const retried = manifest.checkpoint();
  assert.deepEqual(retried, { completed: true, walFrames: 0, checkpointedFrames: 0, error: undefined });
  assert.equal(manifest.lastCheckpoint, retried);
  assert.deepEqual(viewOfCopy(copyManifest(path, [])), viewOf(manifest));
});

test('a writer opening a manifest moves what an earlier writer left in -wal into the main file', () => {
  const path = join(tempDir('wal-open'), MANIFEST_FILE);
  const first = Manifest.open(path);
  const reader = new Database(path);
  try {
    reader.prepare('BEGIN').run();
    reader.prepare('SELECT generation FROM manifest_state').pluck().get();
    flush(first, [1, 10], [11, 20]);
    assert.equal(first.lastCheckpoint?.completed, false);
    // Not the last connection, so closing does not checkpoint either: -wal keeps generations 1 and 2.
    first.close();
    reader.prepare('COMMIT').run();
    assert.equal(viewOfCopy(copyManifest(path, [])).generation, 0);
    using second = Manifest.open(path);
    assert.equal(second.lastCheckpoint?.completed, true);
    assert.equal(viewOfCopy(copyManifest(path, [])).generation, 2);
  } finally {
    reader.close();
  }
});

test('a reader never checkpoints: lastCheckpoint is undefined and checkpoint() is refused', () => {
  const path = join(tempDir('wal-role'), MANIFEST_FILE);
  using writer = Manifest.open(path);
  using reader = Manifest.open(path, { role: 'reader' });
  reader.takeLease();
  assert.equal(reader.lastCheckpoint, undefined);
  assert.throws(() => reader.checkpoint(), ValidationError);
  assert.equal(writer.lastCheckpoint?.completed, true);
});

test('nextSegmentId() is the id the next allocation returns, for writers and readers', () => {
  const path = join(tempDir('next-id'), MANIFEST_FILE);
  using writer = Manifest.open(path);
  using reader = Manifest.open(path, { role: 'reader' });
  assert.equal(writer.nextSegmentId(), 1);
  const first = writer.allocateSegmentIds(5);
  assert.equal(first, 1);
  assert.equal(writer.nextSegmentId(), 6);
  assert.equal(reader.nextSegmentId(), 6);
  assert.equal(writer.allocateSegmentId(), 6);
});
