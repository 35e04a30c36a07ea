import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CrashSimFileSystem, FaultInjectingFileSystem, ManualClock } from '@silt/fs';
import { SeededRandom } from '@silt/fs/internal';
import { Index } from './index-handle.js';
import { checkIndexFiles } from './test-support/crash-disk-checks.js';
import { driveWorkload, readState, recoveredPrefix } from './test-support/crash-workload.js';
import { tempDir } from '@silt/test-support';
import { failEveryCall, openPowerLossWriter } from './test-support/power-loss-writer.js';
import { writerStats } from './test-support/writer-stats.js';

/**
 * Power loss in 'fsync' mode: an index in this process runs the crash
 * workload on CrashSimFileSystem with flushes every few milliseconds, and
 * at a seeded moment (after some acknowledgements, right after a flush
 * committed, or after some event-loop turns, which lands inside group
 * commits and flushes) the simulated machine loses power: unsynced bytes
 * and directory entries are dropped, torn or garbled. The index is then
 * reopened through the same file system and must hold exactly operations
 * 1..n of the workload for an n at least the last acknowledged one (msets
 * whole or absent), every segment the manifest names must verify, and no
 * orphan or temp file may be left. Each seed crashes the same directory
 * several times, so later crashes hit recovered state.
 *
 * The manifest is SQLite, outside the simulation: a commit that returned is
 * durable, which is the contract. So a segment it names must have been
 * fsynced with its directory before the commit, or it comes back damaged or
 * missing here.
 *
 * The crashed Index object is a zombie: its handles are dead, but its timer
 * and promises live on and its SQLite connections still hold the writer
 * lock. A real power loss stops all of that, so its file system is fenced
 * (every call fails from the crash on) and it is closed, which must settle
 * and release the lock without doing anything durable.
 */

const SOAK = process.env.SOAK === '1';
const SEEDS = SOAK ? 600 : 75;
const CRASHES_PER_SEED = 4;
const FIRST_SEED = Number(process.env.SILT_POWER_SEED ?? 1);
/** The zombie's writes and close() must settle; if they hang, say so instead of hanging the test. */
const ZOMBIE_CLOSE_LIMIT_MS = 60_000;
/** An index that gets nowhere near its crash moment in this many event-loop turns is stuck: a failure. */
const STUCK_AFTER_TURNS = 200_000;

type CrashMoment =
  | { readonly kind: 'afterAcks'; readonly acks: number }
  | { readonly kind: 'afterFlush'; readonly flushes: number }
  | { readonly kind: 'afterTurns'; readonly turns: number };

function pickMoment(random: SeededRandom): CrashMoment {
  const roll = random.next();
  if (roll < 0.35) return { kind: 'afterAcks', acks: random.intBetween(0, 250) };
  if (roll < 0.6) return { kind: 'afterFlush', flushes: random.intBetween(1, 3) };
  return { kind: 'afterTurns', turns: random.intBetween(1, 400) };
}

interface Life {
  readonly lastIssued: number;
  readonly maxAcked: number;
  readonly acked: number;
  readonly flushes: number;
  readonly merges: number;
  /** A sealed memtable was waiting for or in its flush when the power went. */
  readonly flushInFlight: boolean;
  readonly zombieCloseFailed: boolean;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * One life of the index: open through a fenced view of `sim`, run the
 * workload from `firstId`, lose power at `moment`, fence and close the zombie.
 */
async function liveAndCrash(dir: string, sim: CrashSimFileSystem, seed: number, firstId: number, random: SeededRandom): Promise<Life> {
  const { index, fence } = await openPowerLossWriter(dir, sim, random);
  const moment = pickMoment(random);
  let crashed = false;
  let zombieClosed: Promise<'closed' | 'rejected'> | undefined;
  let failure: unknown;
  let lastIssued = firstId - 1;
  let maxAcked = 0;
  let acked = 0;
  let flushes = 0;
  let merges = 0;
  index.on('merge', () => merges++);
  let flushInFlight = false;
  const crash = (): void => {
    if (crashed) return;
    crashed = true;
    flushInFlight = writerStats(index).memtable.sealed > 0;
    sim.crash();
    failEveryCall(fence);
    // Closed at once: a machine without power does nothing more, so neither may the zombie (no flush onto the fresh disk state).
    zombieClosed = index.close().then(
      () => 'closed' as const,
      () => 'rejected' as const,
    );
  };
  index.on('error', (error) => {
    if (!crashed) failure ??= error;
  });
  index.on('flush', () => {
    flushes++;
    if (moment.kind === 'afterFlush' && flushes >= moment.flushes) crash();
  });
  const driving = driveWorkload(
    index,
    seed,
    firstId,
    {
      issuing: (lastId) => (lastIssued = lastId),
      // An acknowledgement that arrives after the crash is for a write made durable before it: it counts too.
      acknowledged: (id) => {
        maxAcked = Math.max(maxAcked, id);
        acked++;
        if (moment.kind === 'afterAcks' && acked >= moment.acks) crash();
      },
      failed: (id, error) => {
        if (!crashed) failure ??= new Error(`operation ${id} failed before any crash`, { cause: error });
      },
    },
    () => !crashed && failure === undefined,
  );
  if (moment.kind === 'afterAcks' && moment.acks === 0) crash();
  for (let turn = 0; !crashed && failure === undefined; turn++) {
    if (moment.kind === 'afterTurns' && turn >= moment.turns) crash();
    else if (turn >= STUCK_AFTER_TURNS)
      failure = new Error(`stuck for ${turn} turns short of ${JSON.stringify(moment)}: ${acked} acknowledged, ${flushes} flushes`);
    else await nextTurn();
  }
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
  const [, closed] = await settleWithin(Promise.all([driving, zombieClosed!]), ZOMBIE_CLOSE_LIMIT_MS);
  const zombieCloseFailed = closed === 'rejected';
  return { lastIssued, maxAcked, acked, flushes, merges, flushInFlight, zombieCloseFailed };
}

/** `settling`'s outcome; throws if it takes longer than `limitMs` (a crashed index's writes and close() must settle). */
async function settleWithin<T>(settling: Promise<T>, limitMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the writes and close() of an index whose machine lost power did not settle in ${limitMs} ms`)),
      limitMs,
    );
  });
  try {
    return await Promise.race([settling, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reopens after a crash and checks the state, the files and what must have survived; returns n. */
async function reopenAndCheck(dir: string, sim: CrashSimFileSystem, seed: number, life: Life, recoveredBefore: number): Promise<number> {
  // No automatic merge: its output, still being written, would look like an orphan to the file check.
  const index = await Index.open(dir, { fs: sim, durability: 'fsync', autoMerge: false });
  try {
    const n = recoveredPrefix(readState(index), {
      seed,
      lastIssued: Math.max(life.lastIssued, recoveredBefore),
      mustInclude: Math.max(life.maxAcked, recoveredBefore),
    });
    // The replayed log is flushed in the background: its build is no orphan, so let it finish first.
    await index.flush();
    checkIndexFiles(dir);
    return n;
  } finally {
    await index.close();
  }
}

test(`after ${SEEDS * CRASHES_PER_SEED} simulated power losses in fsync mode, the index holds a prefix of the workload with every acknowledged write, every named segment intact and no orphan`, async (t) => {
  const totals = { crashes: 0, acked: 0, flushes: 0, merges: 0, withFlushInFlight: 0, lostUnacknowledged: 0, zombieClosesRejected: 0 };
  for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
    const sim = new CrashSimFileSystem({ seed });
    const random = new SeededRandom(seed);
    const dir = join(tempDir('power'), 'idx');
    let recovered = 0;
    for (let crash = 0; crash < CRASHES_PER_SEED; crash++) {
      let step = 'open or run';
      try {
        const life = await liveAndCrash(dir, sim, seed, recovered + 1, random);
        step = 'reopen after the crash';
        const n = await reopenAndCheck(dir, sim, seed, life, recovered);
        totals.lostUnacknowledged += Number(n < life.lastIssued);
        totals.acked += life.acked;
        totals.flushes += life.flushes;
        totals.merges += life.merges;
        totals.withFlushInFlight += Number(life.flushInFlight);
        totals.zombieClosesRejected += Number(life.zombieCloseFailed);
        totals.crashes++;
        recovered = n;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`seed ${seed} (SILT_POWER_SEED=${seed}), crash ${crash}, ${step}, recovered before ${recovered}: ${message}`, {
          cause: error,
        });
      }
    }
  }
  t.diagnostic(JSON.stringify(totals));
  assert.equal(totals.crashes, SEEDS * CRASHES_PER_SEED);
  // The crashes must have landed under load, or the test proved nothing.
  assert.ok(totals.acked >= totals.crashes * 10, `only ${totals.acked} writes acknowledged in all`);
  assert.ok(totals.flushes >= totals.crashes, `only ${totals.flushes} flushes in all`);
  assert.ok(totals.merges >= totals.crashes, `only ${totals.merges} merges in all: crashes must also land around merges`);
  assert.ok(totals.lostUnacknowledged >= totals.crashes / 10, `only ${totals.lostUnacknowledged} crashes lost any write in flight`);
  assert.ok(totals.withFlushInFlight >= totals.crashes / 10, `only ${totals.withFlushInFlight} crashes came while a flush was under way`);
});

test('an index whose disk died in a power loss stops with one error event, never an unhandled rejection, and close() frees its lock', async () => {
  const dir = join(tempDir('power-zombie'), 'idx');
  const sim = new CrashSimFileSystem({ seed: 7 });
  const fence = new FaultInjectingFileSystem(sim);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const clock = new ManualClock();
    const index = await Index.open(dir, { fs: fence, durability: 'fsync', refreshIntervalMs: 5 }, { clock });
    const errors: Error[] = [];
    const firstError = new Promise<void>((resolve) => index.on('error', (error) => void (errors.push(error), resolve())));
    await index.set('a', '1');
    sim.crash();
    failEveryCall(fence);
    // The refresh timer now flushes 'a' onto the dead disk; nobody awaits that flush.
    clock.advance(5);
    await firstError;
    clock.advance(50); // ten more ticks: a failed writer starts no flush, so nothing more to report
    // close() may reject (nothing unflushed could be made durable) but must settle and let the lock go.
    await index.close().catch(() => undefined);
    assert.equal(errors.length, 1, 'the failed flush is reported once, through the error event');
    assert.deepEqual(unhandled, []);
    const reopened = await Index.open(dir, { fs: sim, durability: 'fsync' });
    assert.equal(reopened.get('a'), '1');
    await reopened.close();
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
