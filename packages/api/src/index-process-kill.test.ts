import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeededRandom } from '@silt/fs/internal';
import { Index } from './index-handle.js';
import { ChildProgress, type ChildConfig } from './test-support/crash-child-protocol.js';
import { checkIndexFiles } from './test-support/crash-disk-checks.js';
import { readState, recoveredPrefix } from './test-support/crash-workload.js';
import { tempDir } from '@silt/test-support';

/**
 * Process crash, for real: a child writes the crash workload (sets, deletes,
 * multi-key msets, batches of puts and deletes, prefix clears; bursts in
 * flight at once and awaited ones) with flushes
 * every few milliseconds, printing each acknowledged operation; the parent
 * SIGKILLs it, reopens the index and checks that the state is exactly
 * operations 1..n of the workload for an n at least the last acknowledged
 * one (so every acknowledged write is there, nothing unissued is, and every
 * mset, batch and clear is whole or absent), that every live segment verifies and that no
 * orphan or temp file is left.
 *
 * The first test kills every other child right after one of its merges
 * committed (merges run eagerly there, so the next is usually under way),
 * and the others at random moments (while the child opens and recovers,
 * right after a flush committed, after some acknowledgements, after a
 * delay), many times in the same directory, so segments and log files of
 * earlier lives pile up. The second kills a fixed workload just
 * before one of its I/O steps (a write, an fsync, a directory fsync, an
 * unlink, ...): a sample of them in CI, every one with SOAK=1.
 */

const SOAK = process.env.SOAK === '1';
const KILLS = SOAK ? 800 : 100;
const KILLS_PER_DIRECTORY = 8;
/** Operations of the fixed workload the I/O-step test kills. */
const FIXED_OPS = 240;
const STEP_KILLS = SOAK ? Number.POSITIVE_INFINITY : 16;
const LANES = 2;
const CHILD = fileURLToPath(new URL('./test-support/crash-writer-child.js', import.meta.url));
/** A child that gets nowhere near its kill moment in this long is stuck: a failure, not a wait. */
const STUCK_AFTER_MS = 60_000;

type KillMoment =
  | { readonly kind: 'whileOpening'; readonly afterSpawnMs: number }
  | { readonly kind: 'afterDelay'; readonly afterReadyMs: number }
  | { readonly kind: 'afterFlush'; readonly flushes: number }
  | { readonly kind: 'afterAcks'; readonly acks: number }
  /** Right after a merge committed: the policy often starts the next at once. */
  | { readonly kind: 'afterMerge'; readonly merges: number }
  /** A fixed workload: killed once it is done, unless it killed itself at an I/O step first. */
  | { readonly kind: 'whenDone' };

/** Every other life ends right after a merge committed (so at least half the kills hit a merging writer); the rest at random. */
function pickMoment(random: SeededRandom, kill: number): KillMoment {
  if (kill % 2 === 0) return { kind: 'afterMerge', merges: random.intBetween(1, 3) };
  const roll = random.next();
  if (roll < 0.15) return { kind: 'whileOpening', afterSpawnMs: random.intBetween(60, 400) };
  if (roll < 0.5) return { kind: 'afterFlush', flushes: random.intBetween(1, 4) };
  if (roll < 0.7) return { kind: 'afterAcks', acks: random.intBetween(1, 300) };
  return { kind: 'afterDelay', afterReadyMs: random.intBetween(0, 250) };
}

/** Runs the child until `moment`, SIGKILLs it, and returns what it printed before it died. */
function runUntilKilled(config: ChildConfig, moment: KillMoment): Promise<ChildProgress> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const progress = new ChildProgress();
    const timers: NodeJS.Timeout[] = [];
    let stderr = '';
    let killed = false;
    let stuck = false;
    const kill = (): void => {
      if (killed) return;
      killed = true;
      child.kill('SIGKILL');
    };
    const killAfter = (ms: number): void => void timers.push(setTimeout(kill, ms));
    timers.push(
      setTimeout(() => {
        stuck = true;
        kill();
      }, STUCK_AFTER_MS),
    );
    if (moment.kind === 'whileOpening') killAfter(moment.afterSpawnMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const wasReady = progress.ready;
      try {
        // Lines that arrive after the kill still count: the child printed them before it died.
        progress.feed(chunk);
      } catch (error) {
        kill();
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (moment.kind === 'afterDelay' && progress.ready && !wasReady) killAfter(moment.afterReadyMs);
      if (moment.kind === 'afterFlush' && progress.flushes >= moment.flushes) kill();
      if (moment.kind === 'afterAcks' && progress.acked >= moment.acks) kill();
      if (moment.kind === 'afterMerge' && progress.merges >= moment.merges) kill();
      if (moment.kind === 'whenDone' && progress.doneAfterSteps !== undefined) kill();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code, signal) => {
      for (const timer of timers) clearTimeout(timer);
      if (stuck) {
        const state = JSON.stringify({
          moment,
          ready: progress.ready,
          acked: progress.acked,
          flushes: progress.flushes,
          lastIssued: progress.lastIssued,
        });
        reject(new Error(`the child was stuck for ${STUCK_AFTER_MS} ms short of its kill moment: ${state}; stderr: ${stderr}`));
      } else if (signal === 'SIGKILL') resolve(progress);
      else reject(new Error(`the child must die by SIGKILL, but it exited with ${code ?? signal}: ${stderr}`));
    });
  });
}

interface Recovered {
  /** The state is operations 1..n. */
  readonly n: number;
  readonly liveSegments: number;
}

/**
 * Opens the killed child's index in this process and checks it (see the
 * file comment). On failure the index is copied where the test's cleanup
 * will not remove it, and the error says where and what `lives` says.
 */
async function openAndCheck(
  dir: string,
  seed: number,
  progress: ChildProgress,
  recoveredBefore: number,
  lives: () => string,
): Promise<Recovered> {
  try {
    // No automatic merge: its output, still being written, would look like an orphan to the file check.
    const index = await Index.open(dir, { autoMerge: false });
    try {
      const n = recoveredPrefix(readState(index), {
        seed,
        lastIssued: Math.max(progress.lastIssued, recoveredBefore),
        // What an earlier open recovered was flushed by that open: it is acknowledged too.
        mustInclude: Math.max(progress.maxAcked, recoveredBefore),
      });
      // The replayed log is flushed in the background: its build is no orphan, so let it finish first.
      await index.flush();
      return { n, liveSegments: checkIndexFiles(dir).liveSegments };
    } finally {
      await index.close();
    }
  } catch (error) {
    const kept = mkdtempSync(join(tmpdir(), 'silt-kill-failure-'));
    cpSync(dir, kept, { recursive: true });
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`workload seed ${seed}, index copied to ${kept}: ${message}\n${lives()}`, { cause: error });
  }
}

/** Runs `lane(0)` .. `lane(LANES - 1)` at once (one child writes while another's index is checked) and waits for all. */
async function inLanes(lane: (lane: number) => Promise<void>): Promise<void> {
  const outcomes = await Promise.allSettled(Array.from({ length: LANES }, (_, i) => lane(i)));
  // Every lane has finished before the verdict, so no child outlives the test.
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

interface Totals {
  acked: number;
  flushes: number;
  killedWithAcks: number;
  killedRightAfterFlush: number;
  /** Kills of a child that had committed a merge in that life: a merging writer. */
  killedWhileMerging: number;
  merges: number;
  mostLiveSegments: number;
}

/** One lane: `kills` children in a row, a fresh directory every KILLS_PER_DIRECTORY. */
async function runLane(lane: number, random: SeededRandom, kills: number, totals: Totals): Promise<void> {
  let dir = '';
  let seed = 0;
  let recovered = 0;
  let history: object[] = [];
  for (let kill = 0; kill < kills; kill++) {
    if (kill % KILLS_PER_DIRECTORY === 0) {
      dir = join(tempDir(`kill-${lane}`), 'idx');
      seed = random.intBetween(1, 2 ** 31 - 1);
      recovered = 0;
      history = [];
    }
    const config: ChildConfig = {
      dir,
      seed,
      firstId: recovered + 1,
      durability: random.chance(0.6) ? 'write' : 'fsync',
      refreshIntervalMs: random.intBetween(20, 50),
      // Tables up to 64 KiB build on the writer's thread, larger ones in the flush worker: both are killed.
      memtableBytes: random.pick([1024, 4096, 16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024]),
      // Small log files, so kills also land in log rotation and in deleting covered files.
      walFileBytes: random.pick([2048, 8192, 32 * 1024]),
      // Mostly eager merging, so most lives are killed while merges run.
      minRunLength: random.pick([2, 2, 3, 4]),
    };
    const moment = pickMoment(random, kill);
    const progress = await runUntilKilled(config, moment);
    const life = {
      kill,
      durability: config.durability,
      memtableBytes: config.memtableBytes,
      moment,
      firstId: config.firstId,
      lastIssued: progress.lastIssued,
      maxAcked: progress.maxAcked,
      flushes: progress.flushes,
      merges: progress.merges,
    };
    const lives = (): string =>
      `lane ${lane}, lives of this directory:\n  ${[...history, life].map((entry) => JSON.stringify(entry)).join('\n  ')}`;
    const result = await openAndCheck(dir, seed, progress, recovered, lives);
    recovered = result.n;
    history.push({ ...life, recovered: result.n });
    totals.acked += progress.acked;
    totals.flushes += progress.flushes;
    totals.killedWithAcks += Number(progress.acked > 0);
    totals.killedRightAfterFlush += Number(moment.kind === 'afterFlush' && progress.flushes >= moment.flushes);
    totals.killedWhileMerging += Number(progress.merges > 0);
    totals.merges += progress.merges;
    totals.mostLiveSegments = Math.max(totals.mostLiveSegments, result.liveSegments);
  }
}

test(`after each of ${KILLS} SIGKILLs of a flushing and merging writer, the index holds a prefix of the workload with every acknowledged write, and no damaged or orphan file`, async (t) => {
  const random = new SeededRandom(Number(process.env.SILT_KILL_SEED ?? 20250611));
  const totals: Totals = {
    acked: 0,
    flushes: 0,
    killedWithAcks: 0,
    killedRightAfterFlush: 0,
    killedWhileMerging: 0,
    merges: 0,
    mostLiveSegments: 0,
  };
  const laneSeeds = Array.from({ length: LANES }, () => random.intBetween(1, 2 ** 31 - 1));
  await inLanes((lane) => runLane(lane, new SeededRandom(laneSeeds[lane]!), KILLS / LANES, totals));
  t.diagnostic(JSON.stringify(totals));
  // The kills must have landed under load, or the test proved nothing.
  assert.ok(totals.killedWithAcks >= KILLS / 2, `only ${totals.killedWithAcks} of ${KILLS} children had acknowledged writes when killed`);
  assert.ok(totals.killedRightAfterFlush >= KILLS / 10, `only ${totals.killedRightAfterFlush} kills came right after a flush`);
  assert.ok(
    totals.killedWhileMerging >= KILLS / 2,
    `only ${totals.killedWhileMerging} of ${KILLS} children were merging (had committed a merge) when killed`,
  );
  assert.ok(totals.flushes >= KILLS, `the children flushed only ${totals.flushes} times`);
});

/** Steps to kill at: all of 1..total, or `count` spread evenly over it with seeded jitter. */
function stepsToKill(total: number, count: number, random: SeededRandom): number[] {
  if (count >= total) return Array.from({ length: total }, (_, i) => i + 1);
  const width = total / count;
  return Array.from({ length: count }, (_, i) => Math.min(total, Math.floor(i * width + random.next() * width) + 1));
}

test(`a writer SIGKILLed just before ${SOAK ? 'every' : `${STEP_KILLS} sampled`} I/O steps of a fixed workload leaves a prefix with every acknowledged write, and no damaged or orphan file`, async (t) => {
  const random = new SeededRandom(Number(process.env.SILT_KILL_SEED ?? 20250611) + 1);
  const seed = random.intBetween(1, 2 ** 31 - 1);
  const fixedWorkload = (dir: string, killAtStep: number): ChildConfig => ({
    dir,
    seed,
    firstId: 1,
    durability: 'fsync',
    // Flushes come from the memtable filling up, not a timer, so the steps are much the same from run to run.
    refreshIntervalMs: 60_000,
    memtableBytes: 2048,
    walFileBytes: 4096,
    killAtStep,
    lastId: FIXED_OPS,
  });
  const probeDir = join(tempDir('steps-probe'), 'idx');
  const probe = await runUntilKilled(fixedWorkload(probeDir, 0), { kind: 'whenDone' });
  await openAndCheck(probeDir, seed, probe, 0, () => 'the uninterrupted run');
  const total = probe.doneAfterSteps!;
  const steps = stepsToKill(total, STEP_KILLS, random);
  const killedBefore = new Map<string, number>();
  await inLanes(async (lane) => {
    for (let i = lane; i < steps.length; i += LANES) {
      const step = steps[i]!;
      const dir = join(tempDir(`step-${step}`), 'idx');
      const progress = await runUntilKilled(fixedWorkload(dir, step), { kind: 'whenDone' });
      const what = progress.killedBefore;
      await openAndCheck(
        dir,
        seed,
        progress,
        0,
        () => `killed before I/O step ${step} of ${total}: ${what ?? 'never (the run took fewer steps)'}`,
      );
      // "fdatasync wal/0000000000000042.log" counts as "fdatasync wal".
      const [operation = '', file = ''] = (what ?? 'finished-first').split(' ');
      const kind = `${operation} ${file.split('/')[0] ?? ''}`.trim();
      killedBefore.set(kind, (killedBefore.get(kind) ?? 0) + 1);
    }
  });
  t.diagnostic(`${total} I/O steps; killed before: ${JSON.stringify(Object.fromEntries(killedBefore))}`);
  const selfKills = steps.length - (killedBefore.get('finished-first') ?? 0);
  assert.ok(selfKills >= steps.length / 2, `only ${selfKills} of ${steps.length} runs reached their step`);
});
