import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ClosedError, CorruptionError, IoError, SiltError, ValidationError } from '@silt/fs';
import { Manifest } from './manifest.js';
import type { ManifestChange, NewSegment } from './manifest-schema.js';
import { segmentFileName } from '@silt/fs';
import { MANIFEST_APPLICATION_ID, MANIFEST_FORMAT_VERSION } from './manifest-schema.js';
import { GenerationNotFoundError, ManifestNotFoundError, ManifestVersionError, StaleCommitError } from './manifest-errors.js';
import { flush, merge, sampleSegment } from './test-support/manifest-fixtures.js';
import { tempDir } from '@silt/test-support';

function newManifestPath(label: string): string {
  return join(tempDir(label), 'manifest.sqlite');
}

/** A raw connection, to look at or damage the file behind the manifest's back. */
function withRawDatabase<T>(path: string, work: (database: Database.Database) => T): T {
  const database = new Database(path);
  try {
    return work(database);
  } finally {
    database.close();
  }
}

function liveIds(manifest: Manifest, generation?: number): number[] {
  const snapshot = generation === undefined ? manifest.current() : manifest.generationAt(generation);
  return snapshot.segments.map((segment) => segment.id);
}

test('a new manifest is generation 0: no segments, nothing covered, in a versioned WAL-mode SQLite file', () => {
  const path = newManifestPath('new');
  using manifest = Manifest.open(path);
  const current = manifest.current();
  assert.equal(current.generation, 0);
  assert.equal(current.walCoveredSequence, 0);
  assert.deepEqual(current.segments, []);
  assert.equal(manifest.currentGeneration(), 0);
  withRawDatabase(path, (raw) => {
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(raw.pragma('user_version', { simple: true }), MANIFEST_FORMAT_VERSION);
    assert.equal(raw.pragma('application_id', { simple: true }), MANIFEST_APPLICATION_ID);
  });
});

test('a commit adds segments, moves the WAL position and bumps the generation, durably across reopen', () => {
  const path = newManifestPath('commit');
  const manifest = Manifest.open(path);
  const id = manifest.allocateSegmentId();
  const segment = sampleSegment(id, 1, 40, { minKey: new Uint8Array([0, 1]), maxKey: new Uint8Array([255]), tombstones: 3 });
  const committed = manifest.commit({ add: [segment], walCoveredSequence: 42 });
  assert.equal(committed.generation, 1);
  assert.equal(committed.walCoveredSequence, 42);
  manifest.close();
  using reopened = Manifest.open(path, { role: 'reader' });
  const current = reopened.current();
  assert.deepEqual(current, committed);
  const [record] = current.segments;
  assert.ok(record !== undefined);
  assert.equal(record.file, segmentFileName(id));
  assert.equal(record.file, `segments/${id}.seg`);
  assert.deepEqual(new Uint8Array(record.minKey), new Uint8Array([0, 1]));
  assert.deepEqual(new Uint8Array(record.maxKey), new Uint8Array([255]));
  assert.deepEqual(
    {
      entries: record.entries,
      tombstones: record.tombstones,
      bytes: record.bytes,
      added: record.addedGeneration,
      removed: record.removedGeneration,
    },
    { entries: 40, tombstones: 3, bytes: segment.bytes, added: 1, removed: null },
  );
});

test('segment ids increase and never repeat, across reopens', () => {
  const path = newManifestPath('ids');
  const first = Manifest.open(path);
  const ids = [first.allocateSegmentId(), first.allocateSegmentId(), first.allocateSegmentId()];
  first.close();
  using second = Manifest.open(path);
  ids.push(second.allocateSegmentId());
  assert.deepEqual(ids, [1, 2, 3, 4]);
});

test('a block of segment ids is reserved in one go and never handed out again', () => {
  const path = newManifestPath('id-blocks');
  const first = Manifest.open(path);
  assert.equal(first.allocateSegmentIds(10), 1);
  assert.equal(first.allocateSegmentId(), 11);
  for (const bad of [0, -1, 1.5, 2_000_000, Number.NaN]) assert.throws(() => first.allocateSegmentIds(bad), ValidationError);
  assert.equal(first.allocateSegmentIds(5), 12, 'a refused call reserved nothing');
  first.close();
  using second = Manifest.open(path);
  assert.equal(second.allocateSegmentId(), 17);
});

test('segments are listed oldest first, and the WAL position only moves forward', () => {
  using manifest = Manifest.open(newManifestPath('order'));
  const [a, b] = [manifest.allocateSegmentId(), manifest.allocateSegmentId()];
  manifest.commit({ add: [sampleSegment(b, 21, 30), sampleSegment(a, 1, 20)], walCoveredSequence: 30 });
  assert.deepEqual(liveIds(manifest), [a, b]);
  const moved = manifest.commit({ walCoveredSequence: 35 });
  assert.equal(moved.walCoveredSequence, 35);
  assert.equal(moved.generation, 2);
  assert.throws(() => manifest.commit({ walCoveredSequence: 34 }), ValidationError);
});

test('a merge replaces a contiguous run in one commit, and earlier generations stay readable', () => {
  using manifest = Manifest.open(newManifestPath('merge'));
  const [a, b, c] = flush(manifest, [1, 10], [11, 20], [21, 30]);
  const beforeMerge = manifest.currentGeneration();
  const merged = merge(manifest, [a!, b!]);
  const current = manifest.current();
  assert.equal(current.generation, beforeMerge + 1);
  assert.deepEqual(liveIds(manifest), [merged, c]);
  assert.deepEqual(
    current.segments.map((s) => [s.minSequence, s.maxSequence]),
    [
      [1, 20],
      [21, 30],
    ],
  );
  assert.deepEqual(liveIds(manifest, beforeMerge), [a, b, c]);
  assert.deepEqual(liveIds(manifest, 1), [a]);
  assert.deepEqual(liveIds(manifest, 0), []);
  const removed = manifest.generationAt(beforeMerge).segments.find((s) => s.id === a);
  assert.equal(removed?.removedGeneration, current.generation);
});

test('a replace whose inputs are no longer live fails with StaleCommitError and changes nothing', () => {
  using manifest = Manifest.open(newManifestPath('stale'));
  const [a, b] = flush(manifest, [1, 10], [11, 20]);
  // Two merges planned from the same generation; the first one wins.
  const loserId = manifest.allocateSegmentId();
  merge(manifest, [a!, b!]);
  const before = manifest.current();
  assert.throws(
    () => manifest.commit({ remove: [a!, b!], add: [sampleSegment(loserId, 1, 20)] }),
    (error: unknown) => {
      assert.ok(error instanceof StaleCommitError);
      assert.ok(error instanceof SiltError);
      assert.equal(error.code, 'SILT_STALE_COMMIT');
      assert.deepEqual(error.staleSegmentIds, [a, b]);
      return true;
    },
  );
  assert.deepEqual(manifest.current(), before);
  assert.deepEqual(manifest.segmentIds().includes(loserId), false);
});

test('invalid commits are refused with a ValidationError and change nothing', () => {
  using manifest = Manifest.open(newManifestPath('invalid'));
  const [a, b] = flush(manifest, [1, 10], [11, 20]);
  const fresh = manifest.allocateSegmentId();
  const spare = manifest.allocateSegmentId();
  const cases: Array<[string, ManifestChange]> = [
    ['overlaps a live segment', { add: [sampleSegment(fresh, 15, 25)], walCoveredSequence: 25 }],
    ['overlaps another added segment', { add: [sampleSegment(fresh, 21, 30), sampleSegment(spare, 30, 31)], walCoveredSequence: 31 }],
    ['adds the same id twice', { add: [sampleSegment(fresh, 21, 30), sampleSegment(fresh, 31, 40)], walCoveredSequence: 40 }],
    ['removes the same id twice', { remove: [a!, a!] }],
    ['adds and removes one id', { remove: [a!], add: [sampleSegment(a!, 1, 10)] }],
    ['adds an id that was never allocated', { add: [sampleSegment(spare + 10, 21, 30)], walCoveredSequence: 30 }],
    ['adds an id already in the manifest', { remove: [a!], add: [sampleSegment(b!, 1, 10)] }],
    ['removes an id that was never allocated', { remove: [spare + 10] }],
    ['moves the WAL position backwards', { walCoveredSequence: 19 }],
    ['adds a segment beyond the WAL position', { add: [sampleSegment(fresh, 21, 30)] }],
    ['has minSequence > maxSequence', { add: [sampleSegment(fresh, 30, 21)], walCoveredSequence: 30 }],
    ['has a sequence number 0', { add: [sampleSegment(fresh, 0, 0)] }],
    [
      'has minKey after maxKey',
      { add: [sampleSegment(fresh, 21, 30, { minKey: new Uint8Array([2]), maxKey: new Uint8Array([1]) })], walCoveredSequence: 30 },
    ],
    ['has more tombstones than entries', { add: [sampleSegment(fresh, 21, 30, { entries: 2, tombstones: 3 })], walCoveredSequence: 30 }],
    ['has a fractional size', { add: [sampleSegment(fresh, 21, 30, { bytes: 1.5 })], walCoveredSequence: 30 }],
    [
      'has a key that is not bytes',
      { add: [sampleSegment(fresh, 21, 30, { minKey: 'a' as unknown as Uint8Array })], walCoveredSequence: 30 },
    ],
    ['changes nothing', {}],
    ['has a misspelt key', { removes: [a!] } as ManifestChange],
    ['keeps the WAL position where it is', { walCoveredSequence: 20 }],
  ];
  const before = manifest.current();
  for (const [what, change] of cases) {
    assert.throws(() => manifest.commit(change), ValidationError, `a commit that ${what}`);
    assert.deepEqual(manifest.current(), before, `a commit that ${what} changed the manifest`);
  }
  // The refused ids are still usable.
  manifest.commit({ add: [sampleSegment(fresh, 21, 30)], walCoveredSequence: 30 });
});

test('a commit that fails inside its transaction leaves no trace of its earlier statements', () => {
  const path = newManifestPath('atomic');
  using manifest = Manifest.open(path);
  const [a, b] = flush(manifest, [1, 10], [11, 20]);
  const before = manifest.current();
  // The generations row is written last: make exactly that statement fail.
  withRawDatabase(path, (raw) =>
    raw.exec(`CREATE TRIGGER refuse BEFORE INSERT ON generations BEGIN SELECT RAISE(ABORT, 'injected failure'); END`),
  );
  const id = manifest.allocateSegmentId();
  assert.throws(() => manifest.commit({ remove: [a!, b!], add: [sampleSegment(id, 1, 20)] }), IoError);
  assert.deepEqual(manifest.current(), before);
  assert.equal(manifest.segmentIds().includes(id), false);
  withRawDatabase(path, (raw) => raw.exec('DROP TRIGGER refuse'));
  assert.equal(manifest.commit({ remove: [a!, b!], add: [sampleSegment(id, 1, 20)] }).generation, before.generation + 1);
});

test('a generation not committed yet, or whose files were collected, is a GenerationNotFoundError', () => {
  using manifest = Manifest.open(newManifestPath('gone'));
  const [a, b] = flush(manifest, [1, 10], [11, 20]);
  assert.throws(() => manifest.generationAt(3), GenerationNotFoundError);
  assert.throws(() => manifest.generationAt(-1), ValidationError);
  merge(manifest, [a!, b!]);
  manifest.markCollected(manifest.collectable().map((segment) => segment.id));
  for (const generation of [1, 2]) {
    assert.throws(
      () => manifest.generationAt(generation),
      (error: unknown) => {
        assert.ok(error instanceof GenerationNotFoundError);
        assert.equal(error.currentGeneration, 3);
        return true;
      },
    );
  }
  assert.deepEqual(manifest.generationAt(0).segments, []);
  assert.equal(manifest.generationAt(3).generation, 3);
});

test('a lease holds the current generation, moves to the current one, and is dropped', () => {
  using manifest = Manifest.open(newManifestPath('lease'));
  flush(manifest, [1, 10]);
  const lease = manifest.takeLease();
  assert.deepEqual({ pid: lease.pid, generation: lease.generation }, { pid: process.pid, generation: 1 });
  flush(manifest, [11, 20]);
  assert.equal(manifest.liveLeases()[0]?.generation, 1);
  const moved = manifest.moveLease(lease.id);
  assert.deepEqual({ id: moved.id, generation: moved.generation }, { id: lease.id, generation: 2 });
  assert.ok(moved.since >= lease.since);
  const other = manifest.takeLease();
  assert.notEqual(other.id, lease.id);
  assert.deepEqual(
    manifest.liveLeases().map((l) => l.id),
    [lease.id, other.id],
  );
  manifest.dropLease(lease.id);
  manifest.dropLease(lease.id);
  assert.deepEqual(
    manifest.liveLeases().map((l) => l.id),
    [other.id],
  );
  assert.throws(() => manifest.moveLease(lease.id), ValidationError);
  assert.throws(() => manifest.takeLease(0), ValidationError);
});

test('moveLeaseWhenFree waits for a write lock held by another connection without blocking the event loop, then moves the lease', async () => {
  const path = newManifestPath('lease-when-free');
  using writer = Manifest.open(path);
  flush(writer, [1, 10]);
  using reader = Manifest.open(path, { role: 'reader' });
  const lease = reader.takeLease();
  flush(writer, [11, 20]);
  const holder = new Database(path);
  try {
    holder.exec('BEGIN IMMEDIATE');
    let settled = false;
    const moving = reader.moveLeaseWhenFree(lease.id).finally(() => (settled = true));
    // Turns of the event loop go by while the lock is held: nothing sleeps in SQLite's busy handler.
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'the move waits while the lock is held');
    assert.equal(writer.liveLeases()[0]?.generation, 1);
    holder.exec('COMMIT');
    const moved = await moving;
    assert.deepEqual({ id: moved.id, generation: moved.generation }, { id: lease.id, generation: 2 });
  } finally {
    holder.close();
  }
});

test('moveLeaseWhenFree fails as moveLease does once the busy timeout passes, and for a lease that is gone', async () => {
  const path = newManifestPath('lease-busy');
  using writer = Manifest.open(path);
  flush(writer, [1, 10]);
  using reader = Manifest.open(path, { role: 'reader', busyTimeoutMs: 20 });
  const lease = reader.takeLease();
  const holder = new Database(path);
  try {
    holder.exec('BEGIN IMMEDIATE');
    await assert.rejects(reader.moveLeaseWhenFree(lease.id), (error: unknown) => {
      assert.ok(error instanceof IoError, String(error));
      assert.match(String(error.errno), /^SQLITE_BUSY/);
      return true;
    });
    holder.exec('COMMIT');
  } finally {
    holder.close();
  }
  reader.dropLease(lease.id);
  await assert.rejects(reader.moveLeaseWhenFree(lease.id), ValidationError);
});

test('collectable lists removed segments no generation in use needs; markCollected forgets them', () => {
  using manifest = Manifest.open(newManifestPath('collect'));
  const [a, b, c] = flush(manifest, [1, 10], [11, 20], [21, 30]);
  const lease = manifest.takeLease(); // holds generation 3: a, b, c
  const ab = merge(manifest, [a!, b!]);
  assert.deepEqual(manifest.collectable(), [], 'a live lease keeps the merged inputs');
  assert.throws(() => manifest.markCollected([a!]), ValidationError);
  manifest.moveLease(lease.id);
  const abc = merge(manifest, [ab, c!]);
  // The lease now holds generation 4 (ab, c): a and b are free, ab and c are not.
  assert.deepEqual(
    manifest.collectable().map((s) => s.id),
    [a, b],
  );
  manifest.dropLease(lease.id);
  const collectable = manifest.collectable();
  const expected = [a!, b!, ab, c!].sort((x, y) => x - y);
  assert.deepEqual(
    collectable.map((s) => s.id),
    expected,
  );
  assert.deepEqual(
    collectable.map((s) => s.file),
    expected.map(segmentFileName),
  );
  assert.throws(() => manifest.markCollected([abc]), ValidationError, 'a live segment is never collected');
  assert.deepEqual(manifest.collectable().length, 4, 'a refused markCollected changes nothing');
  manifest.markCollected([a!, b!]);
  assert.deepEqual(manifest.segmentIds(), [c!, ab, abc]);
  manifest.markCollected([a!, ab, c!]);
  assert.deepEqual(manifest.collectable(), []);
  assert.deepEqual(manifest.segmentIds(), [abc]);
  assert.throws(() => manifest.markCollected([abc + 100]), ValidationError);
  assert.deepEqual(liveIds(manifest), [abc]);
});

test('a reader never creates a manifest, reads and leases, but never commits', () => {
  const directory = tempDir('reader');
  const path = join(directory, 'manifest.sqlite');
  assert.throws(
    () => Manifest.open(path, { role: 'reader' }),
    (error: unknown) => {
      assert.ok(error instanceof ManifestNotFoundError);
      assert.equal(error.code, 'SILT_MANIFEST_NOT_FOUND');
      return true;
    },
  );
  assert.equal(existsSync(path), false);
  writeFileSync(path, '');
  assert.throws(() => Manifest.open(path, { role: 'reader' }), ManifestNotFoundError);
  using writer = Manifest.open(path);
  flush(writer, [1, 10]);
  using reader = Manifest.open(path, { role: 'reader' });
  assert.equal(reader.currentGeneration(), 1);
  assert.deepEqual(reader.current(), writer.current());
  const lease = reader.takeLease();
  assert.equal(writer.liveLeases()[0]?.id, lease.id);
  assert.throws(() => reader.commit({ walCoveredSequence: 20 }), ValidationError);
  assert.throws(() => reader.allocateSegmentId(), ValidationError);
  assert.throws(() => reader.markCollected([]), ValidationError);
  assert.equal(writer.currentGeneration(), 1);
  // The writer's commits show up in the reader's next read.
  flush(writer, [11, 20]);
  assert.equal(reader.currentGeneration(), 2);
});

test('a manifest from a newer format version is refused with both versions named', () => {
  const path = newManifestPath('newer');
  Manifest.open(path).close();
  withRawDatabase(path, (raw) => raw.pragma(`user_version = ${MANIFEST_FORMAT_VERSION + 1}`));
  for (const role of ['writer', 'reader'] as const) {
    assert.throws(
      () => Manifest.open(path, { role }),
      (error: unknown) => {
        assert.ok(error instanceof ManifestVersionError);
        assert.equal(error.code, 'SILT_MANIFEST_VERSION');
        assert.equal(error.foundVersion, MANIFEST_FORMAT_VERSION + 1);
        assert.equal(error.supportedVersion, MANIFEST_FORMAT_VERSION);
        assert.match(error.message, new RegExp(`version ${MANIFEST_FORMAT_VERSION + 1}.*version ${MANIFEST_FORMAT_VERSION}`));
        return true;
      },
    );
  }
  withRawDatabase(path, (raw) => assert.equal(raw.pragma('user_version', { simple: true }), MANIFEST_FORMAT_VERSION + 1));
});

test('a manifest from an older format version without a migration is refused clearly', () => {
  const path = newManifestPath('older');
  Manifest.open(path).close();
  withRawDatabase(path, (raw) => raw.pragma(`user_version = ${MANIFEST_FORMAT_VERSION - 1}`));
  assert.throws(
    () => Manifest.open(path),
    (error: unknown) => {
      assert.ok(error instanceof ManifestVersionError);
      assert.match(error.message, /older than/);
      assert.match(error.message, /no migration/);
      return true;
    },
  );
  assert.throws(() => Manifest.open(path, { role: 'reader' }), /writer of this version/);
});

test('a file that is not a silt manifest is a CorruptionError, and is left alone', () => {
  const directory = tempDir('foreign');
  const foreign = join(directory, 'other.sqlite');
  withRawDatabase(foreign, (raw) => raw.exec('CREATE TABLE t (x)'));
  assert.throws(() => Manifest.open(foreign), /not a silt manifest/);
  assert.throws(() => Manifest.open(foreign), CorruptionError);
  const garbage = join(directory, 'garbage.sqlite');
  writeFileSync(garbage, 'x'.repeat(4096));
  for (const role of ['writer', 'reader'] as const) {
    assert.throws(
      () => Manifest.open(garbage, { role }),
      (error: unknown) => {
        assert.ok(error instanceof CorruptionError);
        assert.equal(error.file, garbage);
        return true;
      },
    );
  }
});

test('a malformed row read back is a CorruptionError naming the manifest', () => {
  const current = (manifest: Manifest): unknown => manifest.current();
  const damages: Array<[string, string, (manifest: Manifest) => unknown]> = [
    ['negative size', 'UPDATE segments SET bytes = -5', current],
    ['inverted sequence range', 'UPDATE segments SET min_sequence = 50', current],
    ['file outside segments/', "UPDATE segments SET file = '../../etc/passwd'", current],
    ['removed before added', 'UPDATE segments SET removed_gen = 0', (manifest) => manifest.collectable()],
    ['overlapping live ranges', 'UPDATE segments SET min_sequence = 5, max_sequence = 15', current],
    ['bad generation number', 'UPDATE manifest_state SET generation = -1', (manifest) => manifest.currentGeneration()],
    ['bad lease pid', 'INSERT INTO leases (pid, generation, since) VALUES (0, 1, 0)', (manifest) => manifest.liveLeases()],
  ];
  for (const [what, damage, read] of damages) {
    const path = newManifestPath('corrupt');
    const manifest = Manifest.open(path);
    flush(manifest, [1, 10], [11, 20]);
    withRawDatabase(path, (raw) => raw.exec(damage));
    assert.throws(
      () => read(manifest),
      (error: unknown) => {
        assert.ok(error instanceof CorruptionError, `${what}: ${String(error)}`);
        assert.equal(error.file, path);
        assert.match(error.message, /malformed|overlapping/);
        return true;
      },
      what,
    );
    manifest.close();
  }
});

test('a closed manifest refuses every call with ClosedError; close is idempotent', () => {
  const manifest = Manifest.open(newManifestPath('closed'));
  manifest.close();
  manifest.close();
  assert.equal(manifest.closed, true);
  assert.throws(() => manifest.current(), ClosedError);
  assert.throws(() => manifest.currentGeneration(), ClosedError);
  assert.throws(() => manifest.commit({ walCoveredSequence: 1 }), ClosedError);
  assert.throws(() => manifest.takeLease(), ClosedError);
});

test('options are validated', () => {
  const path = newManifestPath('options');
  assert.throws(() => Manifest.open(path, { busyTimeoutMs: -1 }), ValidationError);
  assert.throws(() => Manifest.open(path, { role: 'admin' as 'reader' }), ValidationError);
  assert.throws(() => Manifest.open(path, { colour: 'blue' } as never), ValidationError);
  assert.equal(existsSync(path), false);
  assert.throws(() => Manifest.open(join(path, 'no-such-dir', 'manifest.sqlite')), IoError);
});

test('commit input is checked before anything runs: a stale and invalid commit reports the staleness', () => {
  using manifest = Manifest.open(newManifestPath('order-of-checks'));
  const [a, b] = flush(manifest, [1, 10], [11, 20]);
  const first = merge(manifest, [a!, b!]);
  const late: NewSegment = sampleSegment(manifest.allocateSegmentId(), 1, 20);
  // Applied, this would overlap `first`; the real reason is that its inputs are gone.
  assert.throws(() => manifest.commit({ remove: [a!, b!], add: [late] }), StaleCommitError);
  assert.deepEqual(liveIds(manifest), [first]);
});
