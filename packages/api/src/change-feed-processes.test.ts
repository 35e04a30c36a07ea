import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { nodeFileSystem, sequenceOfLogFile } from '@silt/fs';
import { SeededRandom } from '@silt/fs/internal';
import { readAcknowledgedMarker } from '@silt/wal';
import { tempDir } from '@silt/test-support';
import { Index } from './index-handle.js';
import type { ChildConfig, ChildProgress } from './test-support/crash-child-protocol.js';
import { readState } from './test-support/crash-workload.js';
import { SubscriberProcess, WriterProcess } from './test-support/feed-processes.js';
import type { ObservedSubscription } from './test-support/feed-subscriber-protocol.js';
import { WorkloadHistory } from './test-support/feed-history.js';
import { writerStats } from './test-support/writer-stats.js';

/**
 * The change feed against the writer's own history, in real processes. A
 * writer child runs the crash workload (sets, deletes, msets; bursts in
 * flight at once) with frequent flushes and small log files, so covered
 * log files are deleted all along, and is SIGKILLed and restarted LIVES
 * times. Subscriber children follow its log directory with a ChangeFeed
 * (one unfiltered, one by prefix) and print every change. After each writer
 * kill the parent opens the index itself, finds how many operations
 * recovery kept, and checks the state.
 *
 * Subscribers are killed too, in every life: in odd lives under load
 * (resumed at once from the last change printed; a subscriber process is
 * always started ahead, so the resume takes milliseconds), in even lives
 * while the writer is down, deterministically (the follower restarts from a
 * random point the log still holds, is killed part-way through re-reading,
 * and resumes from what it printed).
 *
 * The verdict: each subscription yields sequence numbers consecutively from
 * its start (no gap, no duplicate, in order), each change is what that
 * sequence number of the history did (so none a kill took back), and every
 * sequence number of the final history arrived, apart from where a
 * subscriber that fell behind was told ChangesTooOldError (the contract:
 * it then rescans), which is checked to be true of the log.
 */

const SOAK = process.env.SOAK === '1';
const LIVES = SOAK ? 40 : 8;
const PREFIX = 'k01';

/** Writer settings of one life: frequent flushes over small log files, both durability modes that acknowledge. */
function writerConfig(random: SeededRandom, dir: string, seed: number, firstId: number): ChildConfig {
  return {
    dir,
    seed,
    firstId,
    durability: random.chance(0.6) ? 'write' : 'fsync',
    refreshIntervalMs: random.intBetween(30, 100),
    memtableBytes: random.pick([4096, 16 * 1024, 64 * 1024]),
    walFileBytes: random.pick([8192, 32 * 1024, 128 * 1024]),
    minRunLength: random.pick([2, 3, 4]),
  };
}

/** The first sequence number of the oldest log file (the log always keeps its newest one). */
function oldestLogSequence(walDirectory: string): number {
  const sequences = nodeFileSystem.list(walDirectory).flatMap((name) => sequenceOfLogFile(name) ?? []);
  return Math.min(...sequences);
}

/**
 * Opens the killed writer's index here and returns how many operations its
 * recovery kept: the n whose operations take exactly the log's sequence
 * numbers. Every operation the writer acknowledged must be among them, none
 * it did not issue, and the state must be theirs.
 */
async function recoveredOperations(dir: string, history: WorkloadHistory, progress: ChildProgress, before: number): Promise<number> {
  const index = await Index.open(dir, { autoMerge: false });
  try {
    const n = history.operationsEndingAt(writerStats(index).lastSequence);
    assert.ok(n >= Math.max(progress.maxAcked, before), `recovery kept operations 1..${n}, but ${progress.maxAcked} was acknowledged`);
    assert.ok(n <= Math.max(progress.lastIssued, before), `recovery kept operations 1..${n}, but only ${progress.lastIssued} were issued`);
    assert.deepEqual(readState(index), history.stateAfter(n));
    return n;
  } finally {
    await index.close();
  }
}

interface Verdict {
  changes: number;
  tooOld: number;
  sequencesInGaps: number;
}

/**
 * Checks one subscription against the history: its changes are the
 * history's, in order from its start; unfiltered, consecutive; filtered,
 * every matching sequence number up to where it was followed. Returns the
 * sequence numbers it vouches for (every one it covered) and the gap its
 * ChangesTooOldError leaves, if it got one.
 */
function checkSubscription(
  subscription: ObservedSubscription,
  followedTo: number,
  prefix: string | undefined,
  history: WorkloadHistory,
  historyEnd: number,
  walDirectory: string,
): { covered: [number, number]; tooOld: boolean } {
  const { start, changes, tooOld } = subscription;
  let expected = start + 1;
  for (const change of changes) {
    const entry = history.at(change.sequence);
    const what = `sequence ${change.sequence} (subscription from ${start}${prefix === undefined ? '' : `, prefix ${prefix}`})`;
    assert.ok(entry !== undefined, `${what}: past the writer's final history (${historyEnd})`);
    if (prefix === undefined) assert.equal(change.sequence, expected, `${what}: expected ${expected} next`);
    else {
      assert.ok(change.sequence >= expected, `${what}: out of order or twice`);
      for (let skipped = expected; skipped < change.sequence; skipped++) {
        assert.ok(!history.at(skipped)!.key.startsWith(prefix), `sequence ${skipped} matches ${prefix} but was skipped`);
      }
    }
    assert.deepEqual({ key: change.key, value: change.value }, entry, `${what}: not what the history did`);
    expected = change.sequence + 1;
  }
  const end = tooOld === undefined ? followedTo : tooOld.since;
  if (prefix !== undefined) {
    for (let skipped = expected; skipped <= end; skipped++) {
      assert.ok(!history.at(skipped)!.key.startsWith(prefix), `sequence ${skipped} matches ${prefix} but never came`);
    }
  } else {
    assert.equal(expected - 1, end, `a subscription from ${start} stopped at ${expected - 1} instead of ${end}`);
  }
  if (tooOld !== undefined) {
    assert.ok(
      tooOld.oldest > tooOld.since + 1,
      `ChangesTooOldError after ${tooOld.since}, but it named ${tooOld.oldest} as the oldest kept`,
    );
    assert.ok(
      oldestLogSequence(walDirectory) > tooOld.since + 1,
      `ChangesTooOldError after ${tooOld.since}, yet the log holds the next one`,
    );
  }
  return { covered: [start + 1, end], tooOld: tooOld !== undefined };
}

test(`the change feed, followed from other processes across ${LIVES} SIGKILLs of a flushing writer and kills of its subscribers, is the writer's own history: every acknowledged write once, in order`, async (t) => {
  const random = new SeededRandom(Number(process.env.SILT_FEED_SEED ?? 20250702));
  const seed = random.intBetween(1, 2 ** 31 - 1);
  const history = new WorkloadHistory(seed);
  const dir = join(tempDir('feed-processes'), 'idx');
  const walDirectory = join(dir, 'wal');
  // The index exists before anyone follows it: the subscribers watch its log directory.
  await (await Index.open(dir)).close();
  const started: SubscriberProcess[] = [];
  const load = (prefix?: string): Promise<SubscriberProcess> => {
    const loading = SubscriberProcess.load({ dir, ...(prefix === undefined ? {} : { prefix }) });
    void loading.then((subscriber) => started.push(subscriber)).catch(() => undefined);
    return loading;
  };
  // The next subscriber is always loaded ahead, so a resume takes milliseconds, not a process start.
  let spare = load();
  const start = async (since: number): Promise<SubscriberProcess> => {
    const subscriber = await spare;
    spare = load();
    return subscriber.subscribe(since);
  };
  const lives: string[] = [];
  let recovered = 0;
  let follower = await start(0);
  const filtered = await (await load(PREFIX)).subscribe(0);
  let followedTo = 0;
  const failures: string[] = [];
  try {
    for (let life = 0; life < LIVES; life++) {
      const config = writerConfig(random, dir, seed, recovered + 1);
      const writer = await WriterProcess.start(config);
      const underLoad = life % 2 === 1;
      if (underLoad) {
        // Under load: kill the follower a little way on, and resume at once after the last change it printed.
        await follower.reach(follower.output.position + random.intBetween(20, 300));
        await follower.kill();
        follower = await start(follower.output.position);
      }
      const acks = random.intBetween(200, 1000);
      await writer.until(`${acks} acknowledgements`, (progress) => progress.acked >= acks);
      await writer.kill();
      // All the killed writer acknowledged, and published, reaches the subscribers.
      const marker = readAcknowledgedMarker(nodeFileSystem, walDirectory)!.sequence;
      await follower.reach(marker);
      await filtered.reach(marker);

      let resumed = `under load at ${follower.since}`;
      if (!underLoad) {
        // The writer is down, so no log file goes: a resume from anywhere the log holds must succeed.
        await follower.kill();
        const from = random.intBetween(oldestLogSequence(walDirectory) - 1, marker);
        const rereader = await start(from);
        await rereader.reach(random.intBetween(from, marker));
        await rereader.kill();
        follower = await start(rereader.output.position);
        await follower.reach(marker);
        const subscriptions = rereader.output.subscriptions.length + follower.output.subscriptions.length;
        assert.equal(subscriptions, 2, 'no ChangesTooOldError while the log holds it');
        resumed = `from ${from}, killed at ${rereader.output.position}, resumed`;
      }

      const before = recovered;
      recovered = await recoveredOperations(dir, history, writer.progress, recovered);
      followedTo = history.lastSequenceOf(recovered);
      lives.push(
        `life ${life}: ${config.durability}, ops ${before + 1}..${writer.progress.lastIssued} issued, ${writer.progress.acked} acknowledged, ` +
          `${writer.progress.flushes} flushes, recovered 1..${recovered}; subscriber killed ${resumed}`,
      );
    }
    // The last recovery's sequence numbers reach the subscribers too.
    await follower.reach(followedTo);
    await filtered.reach(followedTo);
  } finally {
    await spare.catch(() => undefined);
    for (const subscriber of started) await subscriber.kill().catch((error: unknown) => failures.push(String(error)));
  }
  assert.deepEqual(failures, [], 'a subscriber failed');

  const verdict: Verdict = { changes: 0, tooOld: 0, sequencesInGaps: 0 };
  const vouched = new Uint8Array(followedTo + 1);
  for (const subscriber of started) {
    const { subscriptions } = subscriber.output;
    if (subscriptions.length === 0) continue; // a spare never told to start
    subscriptions.forEach((subscription, i) => {
      const last = i === subscriptions.length - 1 ? subscriber.output.position : subscription.tooOld!.since;
      const checked = checkSubscription(
        subscription,
        Math.min(last, followedTo),
        subscriber.config.prefix,
        history,
        followedTo,
        walDirectory,
      );
      verdict.changes += subscription.changes.length;
      verdict.tooOld += Number(checked.tooOld);
      if (subscriber.config.prefix !== undefined) return;
      for (let sequence = checked.covered[0]; sequence <= checked.covered[1]; sequence++) vouched[sequence] = 1;
    });
  }
  // Every sequence number of the history came, except where a ChangesTooOldError told a subscriber it fell behind.
  const missing: number[] = [];
  for (let sequence = 1; sequence <= followedTo; sequence++) if (vouched[sequence] === 0) missing.push(sequence);
  // A gap runs from the sequence number after `since` to where the subscription that replaced it started.
  const explained = (sequence: number): boolean =>
    started.some(
      ({ config, output }) =>
        config.prefix === undefined &&
        output.subscriptions.some(
          ({ tooOld }, j) => tooOld !== undefined && sequence > tooOld.since && sequence <= (output.subscriptions[j + 1]?.start ?? 0),
        ),
    );
  const unexplained = missing.filter((sequence) => !explained(sequence));
  assert.deepEqual(unexplained.slice(0, 20), [], `${unexplained.length} sequence numbers of the history never came\n${lives.join('\n')}`);
  verdict.sequencesInGaps = missing.length;
  t.diagnostic(`${followedTo} sequence numbers over ${LIVES} writer lives; ${JSON.stringify(verdict)}`);
  t.diagnostic(lives.join('\n'));
});
