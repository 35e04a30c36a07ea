import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { nodeFileSystem, MANIFEST_FILE } from '@silt/fs';
import { IndexDamagedError, Manifest, SegmentBuilder } from '@silt/segments';
import { Index } from './index-handle.js';
import { ReadOnlyIndex } from '@silt/reader';
import type { IndexRecovery } from './recovery.js';
import { snapshotDirectory, tempDir } from '@silt/test-support';
import { appendToLog, damageLogRecord } from './test-support/log-append.js';
import { writerStats } from './test-support/writer-stats.js';

/** Never on its own during a test: every flush here is one the test asks for. */
const NO_TIMER = { refreshIntervalMs: 2 ** 31 - 1 } as const;

/** An index with one flushed segment holding k0..k9, closed. Returns the last sequence number. */
async function flushedIndex(dir: string): Promise<number> {
  const index = await Index.open(dir, NO_TIMER);
  await index.mset(Array.from({ length: 10 }, (_, i): [string, string] => [`k${i}`, `v${i}`]));
  await index.flush();
  const { lastSequence } = writerStats(index);
  await index.close();
  return lastSequence;
}

/** A whole segment under an id the manifest handed out but never committed, as a crashed flush or merge leaves it. */
async function uncommittedSegment(dir: string, minSequence: number, maxSequence: number, pairs: Array<[string, string]>): Promise<string> {
  const manifest = Manifest.open(join(dir, MANIFEST_FILE));
  const id = manifest.allocateSegmentId();
  manifest.close();
  const builder = SegmentBuilder.create(join(dir, 'segments', `${id}.seg`), { fs: nodeFileSystem, minSequence, maxSequence });
  for (const [key, value] of [...pairs].sort(([a], [b]) => (a < b ? -1 : 1))) builder.put(key, value);
  await builder.finish();
  return `${id}.seg`;
}

test("open removes only what it proves obsolete: temp files, an uncommitted merge's output, an uncommitted flush's output the log still holds", async () => {
  const dir = join(tempDir('obsolete'), 'idx');
  const last = await flushedIndex(dir);
  const mergeOutput = await uncommittedSegment(dir, 1, last, [['k0', 'v0']]);
  await appendToLog(dir, last, [['late', 'in the log']]);
  const flushOutput = await uncommittedSegment(dir, last + 1, last + 1, [['late', 'in the log']]);
  writeFileSync(join(dir, 'segments', '1.seg.abc123.tmp'), 'a build that never finished');
  writeFileSync(join(dir, 'segments', 'NOTES.txt'), 'not ours');
  const index = await Index.open(dir, NO_TIMER);
  const recovered = once(index, 'recovery') as Promise<[IndexRecovery]>;
  try {
    const [event] = await recovered;
    assert.deepEqual([...event.obsoleteSegmentFiles].sort(), [mergeOutput, flushOutput, '1.seg.abc123.tmp'].sort());
    assert.deepEqual(writerStats(index).recovery, event);
    assert.equal(event.replayedOperations, 1);
    assert.equal(index.get('late'), 'in the log');
    assert.equal(index.get('k9'), 'v9');
    await index.flush();
    const names = readdirSync(join(dir, 'segments')).sort();
    assert.ok(names.includes('1.seg') && names.includes('NOTES.txt'), `kept: ${names.join(', ')}`);
    assert.ok(
      !names.includes(mergeOutput) && !names.includes(flushOutput) && !names.some((name) => name.endsWith('.tmp')),
      `left: ${names.join(', ')}`,
    );
  } finally {
    await index.close();
  }
});

test('a segment file newer than the manifest refuses to open: IndexDamagedError naming it, and nothing on disk changes', async () => {
  const dir = join(tempDir('newer'), 'idx');
  await flushedIndex(dir);
  copyFileSync(join(dir, 'segments', '1.seg'), join(dir, 'segments', '999.seg'));
  const before = snapshotDirectory(dir);
  const error = await Index.open(dir).then(
    () => assert.fail('opened'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof IndexDamagedError, String(error));
  assert.equal(error.code, 'SILT_CORRUPTION');
  assert.match(error.problems.join('\n'), /segments\/999\.seg .*never handed out/);
  assert.match(error.message, /silt repair/);
  assert.deepEqual(snapshotDirectory(dir), before);
});

test('a deleted manifest beside segment and log files refuses to open and creates no new, empty manifest', async () => {
  const dir = join(tempDir('no-manifest'), 'idx');
  await flushedIndex(dir);
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `${MANIFEST_FILE}${suffix}`), { force: true });
  const before = snapshotDirectory(dir);
  await assert.rejects(
    Index.open(dir),
    (error: unknown) => error instanceof IndexDamagedError && /manifest\.sqlite is missing/.test(error.message),
  );
  assert.deepEqual(snapshotDirectory(dir), before);
  assert.equal(existsSync(join(dir, MANIFEST_FILE)), false);
});

test('an unnamed segment holding writes the manifest does not cover and the log no longer holds refuses to open', async () => {
  const dir = join(tempDir('uncovered'), 'idx');
  const last = await flushedIndex(dir);
  const orphan = await uncommittedSegment(dir, last + 1, last + 5, [['lost', 'unless kept']]);
  const before = snapshotDirectory(dir);
  await assert.rejects(
    Index.open(dir),
    (error: unknown) =>
      error instanceof IndexDamagedError &&
      error.problems.some((problem) => problem.includes(orphan) && /exist nowhere else/.test(problem)),
  );
  assert.deepEqual(snapshotDirectory(dir), before);
});

test("a live segment's missing file refuses to open, naming it", async () => {
  const dir = join(tempDir('missing-live'), 'idx');
  await flushedIndex(dir);
  rmSync(join(dir, 'segments', '1.seg'));
  const before = snapshotDirectory(dir);
  await assert.rejects(
    Index.open(dir),
    (error: unknown) => error instanceof IndexDamagedError && /segments\/1\.seg is live .* missing/.test(error.message),
  );
  assert.deepEqual(snapshotDirectory(dir), before);
});

test('close leaves more than 4 MiB of unflushed writes in the log, and the next open serves them at once and flushes them in the background', async () => {
  const dir = join(tempDir('close-fast'), 'idx');
  const index = await Index.open(dir, NO_TIMER);
  const value = 'x'.repeat(1000);
  for (let batch = 0; batch < 6; batch++) {
    await index.mset(Array.from({ length: 1000 }, (_, i): [string, string] => [`k${batch}-${i}`, value]));
  }
  const { lastSequence } = writerStats(index);
  await index.close();
  const manifest = Manifest.open(join(dir, MANIFEST_FILE), { role: 'reader' });
  assert.equal(manifest.current().walCoveredSequence, 0, 'close flushed what it should have left in the log');
  manifest.close();
  const reopened = await Index.open(dir, NO_TIMER);
  try {
    assert.equal(reopened.get('k5-999'), value);
    assert.equal(writerStats(reopened).recovery.replayedOperations, lastSequence);
    await reopened.flush();
    assert.equal(reopened.stats().coveredSequence, lastSequence);
  } finally {
    await reopened.close();
  }
});

test('close flushes up to 4 MiB of unflushed writes into a segment', async () => {
  const dir = join(tempDir('close-flush'), 'idx');
  const index = await Index.open(dir, NO_TIMER);
  await index.mset(Array.from({ length: 100 }, (_, i): [string, string] => [`k${i}`, `v${i}`]));
  await index.close();
  const manifest = Manifest.open(join(dir, MANIFEST_FILE), { role: 'reader' });
  assert.equal(manifest.current().walCoveredSequence, 100);
  manifest.close();
});

test('a reader refuses an index with a segment file newer than its manifest, instead of serving old values as current', async () => {
  const dir = join(tempDir('reader-newer'), 'idx');
  await flushedIndex(dir);
  copyFileSync(join(dir, 'segments', '1.seg'), join(dir, 'segments', '999.seg'));
  await assert.rejects(
    ReadOnlyIndex.open(dir, { watch: false }),
    (error: unknown) => error instanceof IndexDamagedError && /999\.seg/.test(error.message),
  );
});

test("damage inside the newest log file with valid records after it refuses a strict open, naming file and offset; keepValidPrefix opens, reports the drop in stats().recovery and a 'recovery' event, and keeps the bytes", async () => {
  const dir = join(tempDir('log-damage'), 'idx');
  let last = await flushedIndex(dir);
  for (let record = 0; record < 4; record++) last = await appendToLog(dir, last, [[`late${record}`, `value${record}`]]);
  // Record 0 is the flushed batch; 1..4 are late0..late3: damage late1's.
  const damage = damageLogRecord(dir, 2);
  const before = snapshotDirectory(dir);
  await assert.rejects(
    Index.open(dir),
    (error: unknown) => error instanceof IndexDamagedError && error.file === damage.file && error.offset === damage.offset,
  );
  assert.deepEqual(snapshotDirectory(dir), before);

  const index = await Index.open(dir, { ...NO_TIMER, walRecovery: 'keepValidPrefix' });
  const [event] = (await once(index, 'recovery')) as [IndexRecovery];
  try {
    const dropped = event.log.dropped;
    assert.ok(dropped !== undefined, JSON.stringify(event));
    assert.equal(dropped.firstDroppedSequence, last - 2);
    assert.equal(dropped.lastDroppedSequence, last);
    assert.deepEqual(writerStats(index).recovery.log, event.log);
    assert.equal(index.get('late0'), 'value0', 'the valid prefix is kept');
    for (const key of ['late1', 'late2', 'late3']) assert.equal(index.get(key), undefined, `${key} followed the damage`);
    assert.ok(readdirSync(join(dir, 'wal', 'lost+found')).length > 0, 'the dropped bytes are kept');
  } finally {
    await index.close();
  }
});

test('a rolled-back manifest is refused before the log is opened: even keepValidPrefix moves no log file aside', async () => {
  const dir = join(tempDir('rolled-back'), 'idx');
  const index = await Index.open(dir, { ...NO_TIMER, walFileBytes: 4096 });
  for (let flush = 0; flush < 3; flush++) {
    await index.mset(Array.from({ length: 60 }, (_, i): [string, string] => [`k${flush}-${i}`, 'v'.repeat(40)]));
    await index.flush();
  }
  await index.close();
  // An empty index's manifest over this one: covered 0, ids never handed out, the log starting past 1.
  const older = join(tempDir('rolled-back-older'), 'idx');
  await (await Index.open(older)).close();
  copyFileSync(join(older, MANIFEST_FILE), join(dir, MANIFEST_FILE));
  rmSync(join(dir, `${MANIFEST_FILE}-wal`), { force: true });
  const before = snapshotDirectory(dir);
  await assert.rejects(
    Index.open(dir, { walRecovery: 'keepValidPrefix' }),
    (error: unknown) => error instanceof IndexDamagedError && /never handed out/.test(error.message),
  );
  assert.deepEqual(snapshotDirectory(dir), before);
  assert.equal(existsSync(join(dir, 'wal', 'lost+found')), false);
});
