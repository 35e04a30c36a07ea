import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CrashSimFileSystem } from '@silt/fs';
import { SeededRandom } from '@silt/fs/internal';
import { ReadOnlyIndex } from '@silt/reader';
import { tempDir } from '@silt/test-support';
import { failEveryCall, openPowerLossWriter } from './test-support/power-loss-writer.js';
import { Index } from './index-handle.js';
import { driveWorkload, effectsOf, operationOf, readState, recoveredPrefix } from './test-support/crash-workload.js';
import { writerStats } from './test-support/writer-stats.js';

/**
 * Power loss under tailing readers, in 'fsync' mode: an index in this
 * process runs the crash workload (test-support/crash-workload.ts) on
 * CrashSimFileSystem with flushes every few milliseconds, small log files
 * and eager merges, while readers (ReadOnlyIndex, memory and file mode,
 * woken by their own file-system events only) tail its log from the real
 * files. At a seeded moment the simulated machine loses power: unsynced
 * bytes and directory entries are dropped, torn or garbled. What each reader
 * showed up to that moment (every value it held at each 'tail' and
 * 'refresh', and at the crash) is then held against what the reopened index
 * recovered: ops 1..n of the workload.
 *
 * The acknowledged marker is never fsynced, by design: a reader tails no
 * further than the writer acknowledged, and in 'fsync' mode the writer
 * acknowledges only what it fdatasynced, so whatever a reader showed must
 * survive the crash. A reader showing op m > n, or a visible sequence past
 * the recovered log, saw a write the crash lost.
 *
 * A real power loss stops the readers too: they are closed at the crash
 * and new ones open on the recovered index in the next life.
 */

const SOAK = process.env.SOAK === '1';
const SEEDS = SOAK ? 150 : 10;
const CRASHES_PER_SEED = 4;
const FIRST_SEED = Number(process.env.SILT_READER_POWER_SEED ?? 1);
/** Events alone wake the readers within a test. */
const NO_POLL = 2 ** 31 - 1;
const STUCK_AFTER_TURNS = 200_000;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What one reader showed before the power went. */
class Observations {
  private highestOp = 0;
  private highestVisibleSequence = 0;
  private tailed = 0;
  private readonly newestOp = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly seed: number,
  ) {}

  /** Every key and value `reader` shows now: each a value the workload wrote there, per key never older than before. */
  sample(reader: ReadOnlyIndex): void {
    for (const [key, value] of reader.range()) {
      if (typeof key !== 'string' || typeof value !== 'string') throw new TypeError(`${this.name}: the workload writes strings only`);
      const op = Number(value.slice(0, value.indexOf(':')));
      const written =
        Number.isSafeInteger(op) && op > 0 && effectsOf(operationOf(this.seed, op)).some(([k, v]) => k === key && v === value);
      assert.ok(written, `${this.name} showed ${key} = ${JSON.stringify(value.slice(0, 40))}, which no op wrote there`);
      assert.ok(op >= (this.newestOp.get(key) ?? 0), `${this.name}: ${key} went back from op ${this.newestOp.get(key)} to ${op}`);
      this.newestOp.set(key, op);
      this.highestOp = Math.max(this.highestOp, op);
    }
    const { visibleSequence, coveredSequence } = reader.stats();
    this.highestVisibleSequence = Math.max(this.highestVisibleSequence, visibleSequence);
    if (visibleSequence > coveredSequence) this.tailed++;
  }

  /** The highest op id any value it showed was written by. */
  get maxOp(): number {
    return this.highestOp;
  }

  get maxVisibleSequence(): number {
    return this.highestVisibleSequence;
  }

  /** Samples in which it showed writes past the generation it served: tailed, not flushed. */
  get tailedSamples(): number {
    return this.tailed;
  }
}

interface Life {
  readonly lastIssued: number;
  readonly maxAcked: number;
  readonly acked: number;
  readonly flushes: number;
  readonly observations: readonly Observations[];
}

/** Opens the readers and watches them: a sample at open, at each 'tail' and 'refresh' until the crash, and at it. */
async function openReaders(
  dir: string,
  seed: number,
  failures: unknown[],
): Promise<{ readers: ReadOnlyIndex[]; observations: Observations[]; stop(): void }> {
  const readers = await Promise.all(
    (['memory', 'file'] as const).map((accessMode) => ReadOnlyIndex.open(dir, { accessMode, pollIntervalMs: NO_POLL })),
  );
  const observations = readers.map((_, i) => new Observations(`reader ${i}`, seed));
  let stopped = false;
  readers.forEach((reader, i) => {
    const sample = (): void => {
      if (stopped) return;
      try {
        observations[i]!.sample(reader);
      } catch (error) {
        failures.push(error);
      }
    };
    sample();
    reader.on('tail', sample);
    reader.on('refresh', sample);
    reader.on('error', (error) => {
      if (!stopped) failures.push(error);
    });
  });
  return {
    readers,
    observations,
    stop: () => {
      // The last look is at the moment the power goes, before any byte is rolled back.
      try {
        readers.forEach((reader, i) => observations[i]!.sample(reader));
      } catch (error) {
        failures.push(error);
      }
      stopped = true;
    },
  };
}

/** One life: the index and its readers, the workload from `firstId`, then a power loss at a seeded moment. */
async function liveAndCrash(dir: string, sim: CrashSimFileSystem, seed: number, firstId: number, random: SeededRandom): Promise<Life> {
  const { index, fence } = await openPowerLossWriter(dir, sim, random);
  const failures: unknown[] = [];
  const watched = await openReaders(dir, seed, failures);
  const crashAfterAcks = random.chance(0.6) ? random.intBetween(20, 300) : undefined;
  const crashAfterFlushes = random.intBetween(1, 3);
  const crashAfterTurns = random.intBetween(50, 800);
  let crashed = false;
  let zombie: Promise<unknown> | undefined;
  let lastIssued = firstId - 1;
  let maxAcked = 0;
  let acked = 0;
  let flushes = 0;
  const crash = (): void => {
    if (crashed) return;
    crashed = true;
    watched.stop();
    sim.crash();
    failEveryCall(fence);
    zombie = index.close().catch(() => undefined);
  };
  index.on('error', (error) => {
    if (!crashed) failures.push(error);
  });
  index.on('flush', () => {
    flushes++;
    if (crashAfterAcks === undefined && flushes >= crashAfterFlushes) crash();
  });
  const driving = driveWorkload(
    index,
    seed,
    firstId,
    {
      issuing: (lastId) => (lastIssued = lastId),
      acknowledged: (id) => {
        maxAcked = Math.max(maxAcked, id);
        if (++acked === crashAfterAcks) crash();
      },
      failed: (id, error) => {
        if (!crashed) failures.push(new Error(`operation ${id} failed before any crash`, { cause: error }));
      },
    },
    () => !crashed && failures.length === 0,
  );
  for (let turn = 0; !crashed && failures.length === 0; turn++) {
    if (crashAfterAcks === undefined && flushes === 0 && turn >= crashAfterTurns) crash();
    else if (turn >= STUCK_AFTER_TURNS) failures.push(new Error(`stuck for ${turn} turns: ${acked} acknowledged, ${flushes} flushes`));
    else await nextTurn();
  }
  if (!crashed) crash();
  await Promise.all([driving, zombie]);
  await Promise.all(watched.readers.map((reader) => reader.close()));
  if (failures.length > 0) throw failures[0] instanceof Error ? failures[0] : new Error(String(failures[0]));
  return { lastIssued, maxAcked, acked, flushes, observations: watched.observations };
}

test(`in fsync mode, across ${SEEDS * CRASHES_PER_SEED} simulated power losses of a flushing, merging writer, no tailing reader ever showed a write the power loss then took back`, async (t) => {
  const totals = { crashes: 0, acked: 0, flushes: 0, lostUnacknowledged: 0, tailedSamples: 0, shownOps: 0 };
  for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
    const sim = new CrashSimFileSystem({ seed });
    const random = new SeededRandom(seed);
    const dir = join(tempDir('reader-power'), 'idx');
    let recovered = 0;
    for (let crash = 0; crash < CRASHES_PER_SEED; crash++) {
      try {
        const life = await liveAndCrash(dir, sim, seed, recovered + 1, random);
        const index = await Index.open(dir, { fs: sim, durability: 'fsync', autoMerge: false });
        try {
          // What the readers showed is checked first: it is this test's point (index-power-loss.test.ts owns the writer's side).
          const n = recoveredPrefix(readState(index), { seed, lastIssued: Math.max(life.lastIssued, recovered), mustInclude: recovered });
          const recoveredSequence = writerStats(index).lastSequence;
          for (const seen of life.observations) {
            assert.ok(seen.maxOp <= n, `${seen.name} showed op ${seen.maxOp}, but the power loss kept ops 1..${n} only`);
            assert.ok(
              seen.maxVisibleSequence <= recoveredSequence,
              `${seen.name} showed the log up to sequence ${seen.maxVisibleSequence}, but the power loss kept it up to ${recoveredSequence} only`,
            );
            totals.tailedSamples += seen.tailedSamples;
            totals.shownOps = Math.max(totals.shownOps, seen.maxOp);
          }
          assert.ok(n >= life.maxAcked, `the power loss kept ops 1..${n}, but ${life.maxAcked} was acknowledged`);
          totals.lostUnacknowledged += Number(n < life.lastIssued);
          recovered = n;
        } finally {
          await index.close();
        }
        totals.crashes++;
        totals.acked += life.acked;
        totals.flushes += life.flushes;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`seed ${seed} (SILT_READER_POWER_SEED=${seed}), crash ${crash}, recovered before ${recovered}: ${message}`, {
          cause: error,
        });
      }
    }
  }
  t.diagnostic(JSON.stringify(totals));
  // The crashes must have come while readers tailed writes no flush covered, and taken some writes back, or the test proved nothing.
  assert.ok(totals.tailedSamples >= totals.crashes, `only ${totals.tailedSamples} samples showed tailed writes`);
  assert.ok(totals.lostUnacknowledged >= totals.crashes / 10, `only ${totals.lostUnacknowledged} crashes lost any write in flight`);
  assert.ok(totals.flushes >= totals.crashes, `only ${totals.flushes} flushes in all`);
});
