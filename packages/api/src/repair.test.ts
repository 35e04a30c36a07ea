import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, openSync, writeSync, closeSync, statSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE } from '@silt/fs';
import { IndexDamagedError, LockError } from '@silt/segments';
import { Index } from './index-handle.js';
import { repairIndex } from './repair.js';
import { snapshotDirectory, tempDir } from '@silt/test-support';
import { appendToLog } from './test-support/log-append.js';
import { writerStats } from './test-support/writer-stats.js';

const NO_TIMER = { refreshIntervalMs: 2 ** 31 - 1 } as const;

/**
 * Three flushed segments over several log files, then 100 writes and a
 * delete only in the log, as a writer killed before its next flush leaves
 * them. Returns what every key must read.
 */
async function damagedFixture(dir: string): Promise<Map<string, string>> {
  const model = new Map<string, string>();
  const index = await Index.open(dir, { ...NO_TIMER, walFileBytes: 4096, autoMerge: false });
  let n = 0;
  const nextPairs = (count: number): Array<[string, string]> =>
    Array.from({ length: count }, (): [string, string] => {
      const pair: [string, string] = [`key${n % 150}`, `value${n}`];
      n++;
      return pair;
    });
  try {
    for (let flush = 0; flush < 3; flush++) {
      for (const [key, value] of nextPairs(100)) {
        await index.set(key, value);
        model.set(key, value);
      }
      await index.flush();
    }
    await index.delete('key3');
    model.delete('key3');
    await index.flush();
  } finally {
    await index.close();
  }
  let last = await readCovered(dir);
  for (let record = 0; record < 10; record++) {
    const pairs = nextPairs(10);
    last = await appendToLog(dir, last, pairs);
    for (const [key, value] of pairs) model.set(key, value);
  }
  return model;
}

async function readCovered(dir: string): Promise<number> {
  const index = await Index.open(dir, NO_TIMER);
  try {
    return writerStats(index).lastSequence;
  } finally {
    await index.close();
  }
}

function assertHolds(index: Index, model: Map<string, string>): void {
  for (let i = 0; i < 150; i++) assert.equal(index.get(`key${i}`), model.get(`key${i}`), `key${i}`);
}

test('repair rebuilds a deleted manifest from the segment files and the log: every acknowledged write, nothing deleted', async () => {
  const dir = join(tempDir('repair-deleted'), 'idx');
  const model = await damagedFixture(dir);
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `${MANIFEST_FILE}${suffix}`), { force: true });
  await assert.rejects(Index.open(dir), IndexDamagedError);
  const segmentsBefore = readdirSync(join(dir, 'segments'));
  const report = await repairIndex(dir);
  assert.deepEqual(report.lost, []);
  assert.ok(report.replayed !== undefined && report.replayed.to === report.lastKnownSequence, 'the log past the segments was replayed');
  assert.equal(report.recoveredTo, report.lastKnownSequence);
  assert.deepEqual(report.segments.map((segment) => segment.file.replace('segments/', '')).sort(), segmentsBefore.sort());
  const index = await Index.open(dir, NO_TIMER);
  try {
    assertHolds(index, model);
  } finally {
    await index.close();
  }
});

test('repair --dry-run reports the same plan and changes nothing on disk', async () => {
  const dir = join(tempDir('repair-dry'), 'idx');
  await damagedFixture(dir);
  rmSync(join(dir, MANIFEST_FILE));
  const before = snapshotDirectory(dir);
  const report = await repairIndex(dir, { dryRun: true });
  assert.equal(report.dryRun, true);
  assert.equal(report.generation, undefined);
  assert.ok(report.segments.length >= 3);
  assert.deepEqual(snapshotDirectory(dir), before);
});

test('repair sets a damaged segment aside in lost+found and reports the sequence numbers it held as lost', async () => {
  const dir = join(tempDir('repair-damaged-segment'), 'idx');
  await damagedFixture(dir);
  const victim = join(dir, 'segments', readdirSync(join(dir, 'segments')).sort()[1]!);
  const fd = openSync(victim, 'r+');
  writeSync(fd, Buffer.from('garbage'), 0, 7, Math.floor(statSync(victim).size / 2));
  closeSync(fd);
  const report = await repairIndex(dir);
  assert.equal(report.lost.length, 1, JSON.stringify(report.lost));
  assert.ok(
    report.setAside.some((entry) => entry.file.endsWith(victim.split('/').at(-1)!)),
    JSON.stringify(report.setAside),
  );
  assert.ok(existsSync(join(dir, report.lostFound, 'segments', victim.split('/').at(-1)!)), 'the damaged file was moved, not deleted');
  assert.ok(existsSync(join(dir, report.lostFound, `old-${MANIFEST_FILE}`)), 'the old manifest was kept');
  const index = await Index.open(dir, NO_TIMER);
  await index.close();
});

test('repair refuses while a writer holds the index, and changes nothing', async () => {
  const dir = join(tempDir('repair-locked'), 'idx');
  const index = await Index.open(dir, NO_TIMER);
  try {
    await index.set('a', '1');
    await index.flush();
    const before = snapshotDirectory(dir);
    await assert.rejects(repairIndex(dir), LockError);
    assert.deepEqual(
      Object.keys(snapshotDirectory(dir)).filter((file) => !file.startsWith('writer')),
      Object.keys(before).filter((file) => !file.startsWith('writer')),
    );
  } finally {
    await index.close();
  }
});

test('repair of a segment file newer than the manifest keeps its writes', async () => {
  const dir = join(tempDir('repair-newer'), 'idx');
  const model = await damagedFixture(dir);
  // Roll the manifest back to a copy taken before the last flushes, as a restored backup would.
  const older = join(tempDir('repair-newer-older'), 'idx');
  const index = await Index.open(older, NO_TIMER);
  await index.close();
  copyFileSync(join(older, MANIFEST_FILE), join(dir, MANIFEST_FILE));
  rmSync(join(dir, `${MANIFEST_FILE}-wal`), { force: true });
  await assert.rejects(Index.open(dir), IndexDamagedError);
  const report = await repairIndex(dir);
  assert.deepEqual(report.lost, []);
  const reopened = await Index.open(dir, NO_TIMER);
  try {
    assertHolds(reopened, model);
  } finally {
    await reopened.close();
  }
});
