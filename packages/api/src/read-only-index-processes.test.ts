import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { MANIFEST_FILE } from '@silt/fs';
import { SeededRandom } from '@silt/fs/internal';
import { ReadOnlyIndex } from '@silt/reader';
import { Manifest } from '@silt/segments';
import { Index } from './index-handle.js';
import { ReaderProcess, WriterProcess } from './test-support/reader-processes.js';
import type { ReaderConfig } from './test-support/reader-protocol.js';
import { tempDir } from '@silt/test-support';

/**
 * ReadOnlyIndex in real processes beside a real writer (`Index`): readers
 * forked with IPC (test-support/reader-child.ts) read in a loop and check
 * every value against the numbered writes of the writer
 * (test-support/writer-for-readers.ts), which flushes, merges (its policy,
 * and forceMerge) and collects, and which the parent SIGKILLs and restarts
 * while it also SIGKILLs and replaces readers.
 */

const SOAK = process.env.SOAK === '1';
const WRITER_KILLS = SOAK ? 100 : 20;
const READER_KILLS = SOAK ? 300 : 50;
const READERS = 4;
/** Never in the writer's key space (`k0000`...), and sorted before it, so no reader's range or near meets it. */
const markerKey = (i: number): string => `a-marker-${i}`;
/** The writer-lock child of @silt/segments' tests; with `release` it prints `locked <holder pid>`, or `acquired <its pid>` and lets go. */
const LOCK_HOLDER = fileURLToPath(new URL('./catalog/test-support/lock-holder.js', import.meta.resolve('@silt/segments')));

function readerConfig(dir: string, seed: number, pollIntervalMs: number): ReaderConfig {
  return { dir, accessMode: seed % 2 === 0 ? 'memory' : 'file', pollIntervalMs, seed };
}

/** Every reader sees `key` = `value`: after refresh(), or from its own watch alone. */
async function expectEverywhere(readers: readonly ReaderProcess[], key: string, value: string, refresh: boolean): Promise<void> {
  const answers = await Promise.all(readers.map((reader) => reader.expect(key, value, refresh)));
  for (const [i, answer] of answers.entries())
    assert.equal(answer.got, value, `reader ${readers[i]!.pid} (${refresh ? 'refresh()' : 'watch'})`);
}

function assertNoFailures(readers: readonly ReaderProcess[]): void {
  for (const reader of readers) {
    assert.deepEqual(reader.failures, [], `reader ${reader.pid} failed`);
    assert.deepEqual(reader.last?.backgroundErrors ?? [], [], `reader ${reader.pid}: a background refresh failed`);
  }
}

test('a write is visible to reader processes after flush() plus their refresh, from refresh() or from file-system events alone', async () => {
  const dir = join(tempDir('visible'), 'idx');
  const index = await Index.open(dir, { refreshIntervalMs: 2 ** 31 - 1 });
  // A poll that never fires within the test: only events can bring writes in without refresh().
  const readers = await Promise.all(Array.from({ length: READERS }, (_, i) => ReaderProcess.start(readerConfig(dir, i, 2 ** 31 - 1))));
  // And one in the writer's own process, as users do.
  const local = await ReadOnlyIndex.open(dir, { pollIntervalMs: 2 ** 31 - 1 });
  try {
    for (let i = 1; i <= 6; i++) {
      const refresh = i % 2 === 1;
      await index.set(markerKey(i), `value ${i}`);
      await index.flush();
      await expectEverywhere(readers, markerKey(i), `value ${i}`, refresh);
      if (refresh) await local.refresh();
      while (local.get(markerKey(i)) === undefined) await once(local, 'refresh');
    }
    await index.mset([
      [markerKey(7), 'a'],
      [markerKey(8), 'b'],
    ]);
    await index.flush();
    // A merge may commit a newer generation in the background at any moment: the flush's is a floor.
    const flushed = index.stats().generation;
    for (const reader of readers) {
      const answer = await reader.expect(markerKey(8), 'b', true);
      assert.ok(answer.generation >= flushed, `refresh() serves generation ${answer.generation}, older than the flush's ${flushed}`);
    }
    assert.ok((await local.refresh()) >= flushed, "refresh() in the writer's process serves the flush's generation or a newer one");
    assert.equal(local.get(markerKey(7)), 'a');
    assertNoFailures(readers);
    const leases = Manifest.open(join(dir, MANIFEST_FILE), { role: 'reader' });
    try {
      const pids = leases
        .liveLeases()
        .map((lease) => lease.pid)
        .sort();
      assert.deepEqual(pids, [...readers.map((reader) => reader.pid), process.pid].sort(), 'one lease per reader');
    } finally {
      leases.close();
    }
  } finally {
    await local.close();
    await Promise.all(readers.map((reader) => reader.close()));
  }
  // The reader in the writer's process opened, watched, refreshed and closed: the writer lock is still held.
  assert.equal(execFileSync(process.execPath, [LOCK_HOLDER, dir, 'release'], { encoding: 'utf8' }).trim(), `locked ${process.pid}`);
  await index.set(markerKey(9), 'still writing');
  await index.flush();
  await index.close();
  await using after = await ReadOnlyIndex.open(dir, { watch: false });
  assert.equal(after.get(markerKey(9)), 'still writing');
});

test(`readers keep serving while the writer flushes, merges and is SIGKILLed and restarted ${WRITER_KILLS} times, and readers are SIGKILLed ${READER_KILLS} times`, async (t) => {
  const dir = join(tempDir('reader-kills'), 'idx');
  const random = new SeededRandom(6);
  let writer = new WriterProcess({ dir, firstN: 1, refreshIntervalMs: 50, seed: 0 });
  await writer.ready;
  let seeds = 0;
  const startReader = (): Promise<ReaderProcess> => ReaderProcess.start(readerConfig(dir, seeds++, 1000));
  const everyReader: ReaderProcess[] = [];
  const readers = await Promise.all(Array.from({ length: READERS }, startReader));
  everyReader.push(...readers);
  let writerKills = 0;
  let readerKills = 0;
  let lastIssued = 0;
  let merges = 0;

  const killWriters = async (): Promise<void> => {
    while (writerKills < WRITER_KILLS) {
      // Every other life dies only after its first forced merge: kills land after merges, and the writers surely merge.
      if (writerKills % 2 === 0) await writer.firstMerge;
      await sleep(random.intBetween(50, 600));
      assert.equal(writer.failure, undefined);
      await writer.kill();
      writerKills++;
      lastIssued = writer.lastIssued;
      merges += writer.merges;
      writer = new WriterProcess({ dir, firstN: lastIssued + 1, refreshIntervalMs: 50, seed: writerKills });
      await writer.ready;
    }
  };
  const killReaders = async (slot: number): Promise<void> => {
    while (readerKills < READER_KILLS) {
      await sleep(random.intBetween(0, 400));
      readerKills++;
      await readers[slot]!.kill();
      assertNoFailures([readers[slot]!]);
      readers[slot] = await startReader();
      everyReader.push(readers[slot]!);
    }
  };
  await Promise.all([killWriters(), ...readers.map((_, slot) => killReaders(slot))]);
  await writer.kill();
  lastIssued = writer.lastIssued;
  merges += writer.merges;

  // Every value any reader returned was written, and no error reached a reader's caller.
  assertNoFailures(everyReader);
  for (const reader of everyReader) {
    assert.ok(
      (reader.last?.maxN ?? 0) <= lastIssued,
      `reader ${reader.pid} read write ${reader.last?.maxN}, past the last issued ${lastIssued}`,
    );
  }
  const reads = everyReader.reduce((sum, reader) => sum + (reader.last?.reads ?? 0), 0);
  const refreshes = everyReader.reduce((sum, reader) => sum + (reader.last?.refreshes ?? 0), 0);
  assert.ok(reads > 0 && refreshes > 0);
  t.diagnostic(`${everyReader.length} readers: ${reads} reads, ${refreshes} refreshes; writes issued: ${lastIssued}; merges: ${merges}`);

  // The survivors still follow the index: a restarted writer's flushed write reaches them.
  const index = await Index.open(dir);
  try {
    await index.set(markerKey(1), 'after the kills');
    await index.flush();
    await expectEverywhere(readers, markerKey(1), 'after the kills', true);
    await index.set(markerKey(2), 'from the watch');
    await index.flush();
    await expectEverywhere(readers, markerKey(2), 'from the watch', false);
    assertNoFailures(readers);

    // The killed readers' leases are void and reclaimed; the live ones hold one each.
    const manifest = Manifest.open(join(dir, MANIFEST_FILE), { role: 'reader' });
    try {
      manifest.reclaimDeadLeases();
      const live = new Set(readers.map((reader) => reader.pid));
      assert.deepEqual(
        manifest
          .liveLeases()
          .map((lease) => lease.pid)
          .sort(),
        [...live].sort(),
      );
      await Promise.all(readers.map((reader) => reader.close()));
      assert.deepEqual(manifest.liveLeases(), [], 'a closed reader drops its lease');
    } finally {
      manifest.close();
    }
  } finally {
    await Promise.all(readers.map((reader) => reader.kill()));
    await index.close();
  }
  assert.ok(merges > 0, 'the writers merged while readers read');
});
