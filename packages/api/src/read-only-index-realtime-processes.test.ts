import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SeededRandom } from '@silt/fs/internal';
import { tempDir } from '@silt/test-support';
import { Index } from './index-handle.js';
import { ReaderProcess, WriterProcess, type WriterReady } from './test-support/reader-processes.js';
import { KEY_SPACE, keyOf, writeNumberOf, type ReaderConfig, type WriterConfigInput } from './test-support/reader-protocol.js';

/**
 * Realtime readers in real processes: reader children
 * (test-support/reader-child.ts) tail the log of a writer child
 * (test-support/writer-for-readers.ts) that writes numbered values, flushes
 * often, merges, and is SIGKILLed and restarted, in 'write' and 'fsync'
 * mode. The readers live on across the writer's lives; every read they
 * make is checked in the child (a value the writer wrote there, never older
 * per key than one it already returned), and each reports every write
 * number it ever returned.
 *
 * The truth the parent keeps: the writer prints the write numbers it
 * acknowledged (`a <n>`, after the promises resolved), and each restarted
 * writer prints the newest write its recovery kept, so the writes of a
 * killed life that never came back are known (a life's writes survive as a
 * prefix). Then:
 *
 * - every acknowledged write reaches every reader, woken by its own events
 *   alone (no refresh(), no poll), also once the writer that acknowledged it
 *   is dead;
 * - in the tail-only lives the writer never flushes (no timer, a large
 *   memtable, no flush()), and the readers still see every acknowledged
 *   write, past the generation they serve: tailing, not flushing, makes
 *   writes visible;
 * - in every other life a reader is SIGKILLed while it holds tailed writes a
 *   generation does not cover yet, and its replacement sees everything
 *   acknowledged;
 * - no reader ever returned a write that was lost (neither acknowledged nor
 *   recovered), nor one never issued.
 */

const SOAK = process.env.SOAK === '1';
const WRITER_KILLS = SOAK ? 100 : 20;
const READERS = 4;
/** Events alone wake the readers within a test: a poll would hide a missed one. */
const NO_POLL = 2 ** 31 - 1;
/** Every fourth life never flushes: only tailing can show its writes. */
const isTailOnly = (life: number): boolean => life % 4 === 1;
/** Never in the writer's key space (`k0000`...). */
const MARKER_KEY = 'a-marker';

function writerConfig(random: SeededRandom, dir: string, life: number, firstN: number): WriterConfigInput {
  const durability = random.chance(0.5) ? 'fsync' : 'write';
  if (isTailOnly(life)) {
    return { dir, firstN, seed: life, durability, refreshIntervalMs: 2 ** 31 - 1, flushEvery: 0, mergeEvery: 0 };
  }
  return {
    dir,
    firstN,
    seed: life,
    durability,
    refreshIntervalMs: random.intBetween(20, 60),
    // Small memtables and log files: flushes all along, covered log files deleted under the readers.
    memtableBytes: random.pick([8192, 32 * 1024]),
    walFileBytes: random.pick([4096, 16 * 1024]),
    flushEvery: random.pick([5, 15]),
    mergeEvery: 10,
  };
}

/** What the parent knows is in the history: per key, the newest write acknowledged or recovered. */
class KnownWrites {
  readonly floor: number[] = new Array<number>(KEY_SPACE).fill(0);
  /** Write numbers lost in a kill: issued, never acknowledged, not recovered. */
  readonly lost: Array<readonly [number, number]> = [];

  /** Writes `from`..`to` are in the history. */
  add(from: number, to: number): void {
    for (let n = Math.max(from, to - KEY_SPACE + 1); n <= to; n++) this.floor[n % KEY_SPACE] = n;
  }

  get lostCount(): number {
    return this.lost.reduce((sum, [from, to]) => sum + to - from + 1, 0);
  }

  isLost(n: number): boolean {
    return this.lost.some(([from, to]) => n >= from && n <= to);
  }
}

interface Life {
  readonly life: number;
  readonly config: WriterConfigInput;
  readonly writer: WriterProcess;
  readonly ready: WriterReady;
}

/** A writer child loaded ahead for a life, so a restart costs an open (with its recovery), not a process start. */
interface SpareWriter {
  readonly life: number;
  readonly config: WriterConfigInput;
  readonly writer: WriterProcess;
}

function loadWriter(random: SeededRandom, dir: string, life: number): SpareWriter {
  const config = writerConfig(random, dir, life, 0);
  return { life, config, writer: new WriterProcess(config) };
}

async function startLife(spare: SpareWriter, firstN: number): Promise<Life> {
  const ready = await spare.writer.go(firstN);
  return { life: spare.life, config: { ...spare.config, firstN }, writer: spare.writer, ready };
}

/**
 * Settles a killed life against what its successor (or any later open)
 * recovered: every acknowledged write survived; the writes past the newest
 * recovered one were lost. Returns how many were.
 */
function settle(known: KnownWrites, killed: Life, recoveredMax: number): number {
  const { firstN } = killed.config;
  const { lastAcked, lastIssued } = killed.writer;
  if (lastAcked >= firstN)
    assert.ok(recoveredMax >= lastAcked, `life ${killed.life}: write ${lastAcked} was acknowledged, recovery kept up to ${recoveredMax}`);
  assert.ok(recoveredMax <= lastIssued, `life ${killed.life}: recovery holds write ${recoveredMax}, past the last issued ${lastIssued}`);
  const survivedTo = Math.max(recoveredMax, firstN - 1);
  known.add(firstN, survivedTo);
  if (survivedTo < lastIssued) {
    known.lost.push([survivedTo + 1, lastIssued]);
  }
  return lastIssued - survivedTo;
}

test(`reader processes tailing a writer that flushes, merges and is SIGKILLed and restarted ${WRITER_KILLS} times see every acknowledged write, never a lost one, never an older value; a reader killed mid-tail loses nothing`, async (t) => {
  const random = new SeededRandom(Number(process.env.SILT_REALTIME_SEED ?? 20251122));
  const dir = join(tempDir('realtime-readers'), 'idx');
  const known = new KnownWrites();
  let seeds = 0;
  const readerConfig = (): ReaderConfig => ({
    dir,
    accessMode: seeds % 2 === 0 ? 'memory' : 'file',
    pollIntervalMs: NO_POLL,
    // Fewer reads between checks than the default leave the 2 cores to the writer; catch-ups read every key anyway.
    readPauseMs: 20,
    seed: seeds++,
  });
  const started: Array<{ kill(): Promise<void> }> = [];
  const loadReader = (): ReaderProcess => {
    const reader = ReaderProcess.load(readerConfig());
    started.push(reader);
    return reader;
  };
  const nextWriter = (life: number): SpareWriter => {
    const spare = loadWriter(random, dir, life);
    started.push(spare.writer);
    return spare;
  };
  let current = await startLife(nextWriter(0), 1);
  const readers = await Promise.all(Array.from({ length: READERS }, () => loadReader().open()));
  const everyReader = [...readers];
  // The next reader and writer are always loaded ahead.
  let spareReader = loadReader();
  let spareWriter = nextWriter(1);
  const catchUp = (): Promise<Array<Awaited<ReturnType<ReaderProcess['catchUp']>>>> =>
    Promise.all(readers.map((reader) => reader.catchUp([...known.floor])));
  /** SIGKILLs the reader in `slot` once it holds tailed writes no generation covers, and opens a new one in its place. */
  const killMidTail = async (slot: number): Promise<void> => {
    await readers[slot]!.nextReport((report) => report.position.tailEntries > 0, 'tailed writes');
    await readers[slot]!.kill();
    readers[slot] = await spareReader.open();
    everyReader.push(readers[slot]!);
    spareReader = loadReader();
  };
  const totals = { lives: 0, tailOnlyLives: 0, acknowledged: 0, flushes: 0, merges: 0, livesWithLostWrites: 0, readerKillsMidTail: 0 };
  try {
    for (let kill = 0; kill < WRITER_KILLS; kill++) {
      const { writer, config, ready, life } = current;
      const firstN = config.firstN;
      // In odd lives (the tail-only ones among them); the replacement must see what was acknowledged before it opened, and after.
      const killReader = life % 2 === 1;
      await Promise.all([killReader && killMidTail(life % READERS), writer.acknowledgedUpTo(firstN + random.intBetween(30, 150))]);
      totals.readerKillsMidTail += Number(killReader);

      known.add(firstN, writer.lastAcked);
      const answers = await catchUp();
      if (isTailOnly(life)) {
        totals.tailOnlyLives++;
        assert.ok(
          writer.flushes.coveredSequence <= ready.lastSequence,
          `life ${life} flushed past its recovered log (${writer.flushes.coveredSequence} > ${ready.lastSequence})`,
        );
        for (const [i, { position }] of answers.entries()) {
          assert.ok(
            position.visibleSequence > position.coveredSequence && position.tailEntries > 0,
            `reader ${readers[i]!.pid} saw the unflushed writes without tailing them: ${JSON.stringify(position)}`,
          );
        }
      } else if (life % 2 === 0) {
        // Some lives die only after a forced merge: kills land after merges, and merges surely happen.
        await writer.firstMerge;
      }
      await writer.acknowledgedUpTo(writer.lastAcked + random.intBetween(0, 60));
      // Half the kills land as a burst is issued, before it can be acknowledged: those writes may be lost.
      if (random.chance(0.5)) await writer.issuedPast(writer.lastAcked);
      await writer.kill();
      totals.acknowledged += writer.lastAcked - firstN + 1;
      totals.flushes += writer.flushes.count;
      totals.merges += writer.merges;

      // All the dead writer acknowledged reaches the readers: it published each before resolving it.
      known.add(firstN, writer.lastAcked);
      await catchUp();

      current = await startLife(spareWriter, writer.lastIssued + 1);
      spareWriter = nextWriter(life + 2);
      totals.livesWithLostWrites += Number(settle(known, { writer, config, ready, life }, current.ready.recoveredMax) > 0);
      totals.lives++;
    }

    // The last life is settled by an open here; the readers still follow a writer after all the kills.
    await current.writer.kill();
    const index = await Index.open(dir);
    try {
      let recoveredMax = 0;
      for (let slot = 0; slot < KEY_SPACE; slot++) {
        const value = index.get(keyOf(slot));
        if (value !== undefined) recoveredMax = Math.max(recoveredMax, writeNumberOf(keyOf(slot), value));
      }
      settle(known, current, recoveredMax);
      await catchUp();
      await index.set(MARKER_KEY, 'after the kills');
      await Promise.all(readers.map((reader) => reader.expect(MARKER_KEY, 'after the kills', false)));
    } finally {
      await index.close();
    }
    await Promise.all(readers.map((reader) => reader.close()));
  } finally {
    await Promise.all(started.map((child) => child.kill()));
  }

  const lastIssued = current.writer.lastIssued;
  let seen = 0;
  for (const reader of everyReader) {
    assert.deepEqual(reader.failures, [], `reader ${reader.pid} failed`);
    assert.deepEqual(reader.last?.backgroundErrors ?? [], [], `reader ${reader.pid}: a background read failed`);
    for (const n of reader.seen) {
      assert.ok(n <= lastIssued, `reader ${reader.pid} returned write ${n}, never issued (last ${lastIssued})`);
      assert.ok(!known.isLost(n), `reader ${reader.pid} returned write ${n}, which was never acknowledged and lost in a kill`);
    }
    seen += reader.seen.size;
  }
  t.diagnostic(
    `${JSON.stringify(totals)}; ${known.lostCount} writes lost in kills; ${everyReader.length} readers returned ${seen} write numbers`,
  );
  assert.ok(totals.flushes > 0 && totals.merges > 0, 'the writers flushed and merged');
});
