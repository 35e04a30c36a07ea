import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CrashSimFileSystem, SeededRandom } from '@silt/fs';
import type { Durability } from './wal-options.js';
import { WriteAheadLog } from './write-ahead-log.js';
import { PowerCutFileSystem } from './test-support/power-cut-file-system.js';
import { makeTempDir } from './test-support/temp-dir.js';
import { batchFor, checkRecoveredLog, collect, type Acked } from './test-support/workload.js';

/**
 * Power loss, simulated: CrashSimFileSystem drops, tears or garbles what was
 * not fsynced and forgets directory entries whose directory was not synced.
 * Each seed runs a log through several boots: open (checking what survived
 * the last crash), append under load with rotations, truncations and syncs,
 * and cut the power at a random turn (sometimes in the middle of open).
 *
 * 'fsync' mode: every acknowledged batch survives. 'write' mode: every batch
 * acknowledged before a completed sync() survives, and open never mistakes
 * the torn unsynced tail for corruption. In both, the log is a prefix of what
 * was issued.
 */

const SOAK = process.env.SOAK === '1';
const BOOTS_PER_SEED = 5;
const FSYNC_SEEDS = SOAK ? 1000 : 110;
const WRITE_SEEDS = SOAK ? 400 : 40;

interface History {
  /** Batches that must survive: acknowledged ('fsync') or acknowledged and then synced ('write'). */
  readonly mustSurvive: Acked[];
  issuedThrough: number;
  truncatedBelow: number;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function boot(dir: string, sim: CrashSimFileSystem, durability: Durability, random: SeededRandom, history: History): Promise<void> {
  const power = new PowerCutFileSystem(sim);
  const options = { fs: power, durability, maxFileBytes: random.intBetween(1024, 8192), syncIntervalMs: 1 };
  if (random.chance(0.1)) {
    // Cut the power while open is recovering.
    const opening = WriteAheadLog.open(dir, options);
    for (let i = random.intBetween(0, 3); i > 0; i--) await nextTurn();
    power.cut();
    const wal = await opening.catch(() => undefined);
    await wal?.close().catch(() => undefined);
    return;
  }
  const wal = await WriteAheadLog.open(dir, options);
  const records = await collect(wal.replay());
  const summary = checkRecoveredLog(records, {
    acked: history.mustSurvive,
    truncatedBelow: history.truncatedBelow,
    issuedThrough: history.issuedThrough,
  });
  if (records.length > 0) assert.equal(wal.lastSequence, summary.last);
  const mustHave = Math.max(0, ...history.mustSurvive.map((a) => a.firstSeq + a.count - 1));
  assert.ok(wal.lastSequence >= mustHave, `lastSequence ${wal.lastSequence} < acknowledged ${mustHave}`);

  let powered = true;
  const acked: Acked[] = [];
  const writer = async (): Promise<void> => {
    while (powered) {
      const count = random.chance(0.1) ? random.intBetween(10, 30) : random.intBetween(1, 4);
      const first = wal.lastSequence + 1;
      history.issuedThrough = Math.max(history.issuedThrough, first + count - 1);
      try {
        await wal.append(batchFor(first, count));
      } catch {
        return;
      }
      acked.push({ firstSeq: first, count });
      if (durability === 'fsync') history.mustSurvive.push({ firstSeq: first, count });
    }
  };
  const maintenance = async (): Promise<void> => {
    while (powered) {
      await nextTurn();
      const roll = random.next();
      try {
        if (roll < 0.05) await wal.rotate();
        else if (roll < 0.1 && acked.length > 0) {
          const below = random.pick(acked).firstSeq;
          history.truncatedBelow = Math.max(history.truncatedBelow, below);
          await wal.truncateBefore(below);
        } else if (roll < 0.2) {
          const before = acked.slice();
          await wal.sync();
          if (durability !== 'fsync') history.mustSurvive.push(...before);
        }
      } catch {
        return;
      }
    }
  };
  const workers = [maintenance(), ...Array.from({ length: random.intBetween(1, 8) }, writer)];
  for (let turns = random.intBetween(1, 60); turns > 0; turns--) await nextTurn();
  powered = false;
  power.cut();
  await Promise.all(workers);
  await wal.close().catch(() => undefined);
}

async function runSeed(seed: number, durability: Durability): Promise<void> {
  const dir = makeTempDir(`power-${durability}`);
  const sim = new CrashSimFileSystem({ seed });
  const random = new SeededRandom(seed ^ 0x5bd1e995);
  const history: History = { mustSurvive: [], issuedThrough: 0, truncatedBelow: 0 };
  try {
    for (let i = 0; i < BOOTS_PER_SEED; i++) await boot(dir.path, sim, durability, random, history);
    // A last boot on the real file system checks the final crash.
    const wal = await WriteAheadLog.open(dir.path);
    checkRecoveredLog(await collect(wal.replay()), { acked: history.mustSurvive, truncatedBelow: history.truncatedBelow, issuedThrough: history.issuedThrough });
    await wal.close();
  } catch (error) {
    throw new Error(`${durability} seed ${seed}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    dir.remove();
  }
}

test(`'fsync' mode loses no acknowledged batch across ${FSYNC_SEEDS * BOOTS_PER_SEED} simulated power losses`, async () => {
  for (let seed = 1; seed <= FSYNC_SEEDS; seed++) await runSeed(seed, 'fsync');
});

test(`'write' mode keeps every batch synced before ${WRITE_SEEDS * BOOTS_PER_SEED} simulated power losses and always reopens`, async () => {
  for (let seed = 1; seed <= WRITE_SEEDS; seed++) await runSeed(seed, 'write');
});
