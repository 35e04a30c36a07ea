import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock, ValidationError, nodeFileSystem, type Clock } from '@silt/fs';
import { Manifest } from '@silt/segments';
import {
  SegmentWorkerPool,
  TieredMergePolicy,
  type ForceMergeContext,
  type MergeContext,
  type MergePolicy,
  type MergeRun,
  type SegmentSummary,
} from '@silt/merger';
import { Index } from './index-handle.js';
import { IndexLayout } from './index-layout.js';
import { SegmentIds } from './segment-ids.js';
import { MergeFailedError, MergeScheduler, type MergeEvent } from './merge-scheduler.js';
import { tempDir } from '@silt/test-support';

/** An index directory holding `count` flushed segments of 200 keys each, none merged. */
async function indexWithSegments(label: string, count: number): Promise<string> {
  const dir = join(tempDir(label), 'idx');
  await using index = await Index.open(dir, { refreshIntervalMs: 2 ** 31 - 1, autoMerge: false });
  for (let i = 0; i < count; i++) {
    await index.mset(Array.from({ length: 200 }, (_, j): [string, string] => [`k${i}.${j}`, 'v'.repeat(50)]));
    await index.flush();
  }
  return dir;
}

interface FixtureOptions {
  readonly policy: MergePolicy;
  readonly mergeThreads?: number;
  readonly clock?: Clock;
}

/**
 * A scheduler over a real manifest and real segment files, merging on this
 * thread, with what it reports to its host recorded: committed merges,
 * failed ones, and fatal errors.
 */
class SchedulerFixture implements AsyncDisposable {
  readonly events: MergeEvent[] = [];
  readonly failures: MergeFailedError[] = [];
  readonly fatal: unknown[] = [];
  readonly scheduler: MergeScheduler;
  private readonly manifest: Manifest;
  private readonly pool: SegmentWorkerPool;
  private failureWaiters: Array<() => void> = [];

  constructor(dir: string, options: FixtureOptions) {
    const layout = new IndexLayout(dir);
    this.manifest = Manifest.open(layout.manifestPath);
    const mergeThreads = options.mergeThreads ?? 1;
    this.pool = new SegmentWorkerPool({ inProcessFs: nodeFileSystem, mergeThreads });
    this.scheduler = new MergeScheduler({
      layout,
      manifest: this.manifest,
      pool: this.pool,
      segmentIds: new SegmentIds(this.manifest),
      policy: options.policy,
      mergeThreads,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      autoMerge: true,
      mayStart: () => this.fatal.length === 0,
      installed: async (_generation, event) => {
        this.events.push(event);
      },
      mergeFailed: (error) => {
        this.failures.push(error);
        for (const wake of this.failureWaiters.splice(0)) wake();
      },
      commitFailed: (error) => this.fatal.push(error),
    });
  }

  liveIds(): number[] {
    return this.manifest.current().segments.map((segment) => segment.id);
  }

  /** Resolves once `count` merges have failed in all. */
  async failuresReach(count: number): Promise<void> {
    while (this.failures.length < count) await new Promise<void>((resolve) => this.failureWaiters.push(resolve));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.scheduler.close();
    await this.pool.close();
    this.manifest.close();
  }
}

/** A policy that answers with `answer` and records what it was asked. */
class ScriptedPolicy implements MergePolicy {
  readonly asked: Array<{ readonly live: number[]; readonly busy: number[]; readonly maxSegments?: number }> = [];

  constructor(private readonly answer: (live: readonly SegmentSummary[], context: MergeContext) => MergeRun[]) {}

  pickMerges(live: readonly SegmentSummary[], context: MergeContext): MergeRun[] {
    this.asked.push({ live: live.map((segment) => segment.id), busy: [...context.busy] });
    return this.answer(live, context);
  }

  planForceMerge(live: readonly SegmentSummary[], context: ForceMergeContext): MergeRun[] {
    this.asked.push({ live: live.map((segment) => segment.id), busy: [...context.busy], maxSegments: context.maxSegments });
    return this.answer(live, context);
  }
}

const runOf = (segments: readonly SegmentSummary[], oldest: boolean): MergeRun => ({
  segmentIds: segments.map((segment) => segment.id),
  reason: 'tiered',
  dropTombstones: oldest,
});

test('a trivial policy is obeyed: "merge the two oldest segments" merges pair by pair, asked again after each commit, until one is left', async () => {
  const dir = await indexWithSegments('scheduler-two-oldest', 4);
  const policy = new ScriptedPolicy((live) => (live.length >= 2 ? [runOf(live.slice(0, 2), true)] : []));
  await using fixture = new SchedulerFixture(dir, { policy });
  const [a, b, c, d] = fixture.liveIds();
  fixture.scheduler.schedule();
  await fixture.scheduler.idle();

  const outputs = fixture.events.map((event) => event.output!);
  assert.deepEqual(
    fixture.events.map((event) => event.inputs),
    [
      [a, b],
      [outputs[0], c],
      [outputs[1], d],
    ],
  );
  assert.deepEqual(fixture.liveIds(), [outputs[2]]);
  assert.deepEqual(
    policy.asked.map((question) => question.live.length),
    [4, 3, 2, 1],
    'asked once at first and once after each commit',
  );
  assert.ok(
    policy.asked.every((question) => question.busy.length === 0),
    'no merge was running when it was asked',
  );
  assert.equal(fixture.scheduler.merges, 3);
  assert.equal(
    fixture.scheduler.bytesWritten,
    fixture.events.reduce((sum, event) => sum + event.bytes, 0),
  );
  assert.deepEqual(fixture.fatal, []);
});

test('a policy that never merges leaves the segments alone, on schedule and on forceMerge', async () => {
  const dir = await indexWithSegments('scheduler-never', 3);
  const policy = new ScriptedPolicy(() => []);
  await using fixture = new SchedulerFixture(dir, { policy });
  const before = fixture.liveIds();
  fixture.scheduler.schedule();
  await fixture.scheduler.forceMerge(1);
  assert.deepEqual(fixture.liveIds(), before);
  assert.deepEqual(fixture.events, []);
  assert.deepEqual(
    policy.asked.map((question) => question.maxSegments),
    [undefined, 1],
    'asked once by schedule and once by forceMerge, which stops when the policy has nothing to merge',
  );
});

test("as many of the policy's runs start as threads are free, front first; the segments of running merges are busy when it is asked", async () => {
  const dir = await indexWithSegments('scheduler-front-first', 6);
  let answered = false;
  const policy = new ScriptedPolicy((live) => {
    if (answered) return [];
    answered = true;
    return [runOf(live.slice(4, 6), false), runOf(live.slice(2, 4), false), runOf(live.slice(0, 2), true)];
  });
  await using fixture = new SchedulerFixture(dir, { policy, mergeThreads: 2 });
  const [s1, s2, s3, s4, s5, s6] = fixture.liveIds();
  fixture.scheduler.schedule();
  assert.equal(fixture.scheduler.inFlight, 2);
  await fixture.scheduler.idle();
  assert.deepEqual(
    fixture.events.map((event) => event.inputs).sort((x, y) => x[0]! - y[0]!),
    [
      [s3, s4],
      [s5, s6],
    ],
  );
  assert.deepEqual(
    fixture.liveIds().slice(0, 2),
    [s1, s2],
    'the third run waited for a free thread, and the policy did not ask for it again',
  );
  const askedWhileOneRan = policy.asked[1]!;
  assert.equal(askedWhileOneRan.busy.length, 2, 'after the first commit, the other run was busy');
});

test('a policy answer that would break newest-wins is refused before anything runs', async () => {
  const dir = await indexWithSegments('scheduler-refused', 3);
  const policy = new ScriptedPolicy((live) => [{ segmentIds: [live[0]!.id, live[2]!.id], reason: 'tiered', dropTombstones: true }]);
  await using fixture = new SchedulerFixture(dir, { policy });
  const before = fixture.liveIds();
  await assert.rejects(fixture.scheduler.forceMerge(1), /does not list live neighbours oldest first/);
  fixture.scheduler.schedule();
  assert.equal(fixture.scheduler.inFlight, 0);
  assert.equal(fixture.fatal.length, 1, 'schedule reports it as fatal to its host');
  assert.ok(fixture.fatal[0] instanceof ValidationError);
  assert.deepEqual(fixture.liveIds(), before);
});

test('a merge that keeps failing is tried again after 1 s, then 2 s more (the delay doubles), with nothing else to prompt it', async () => {
  const dir = await indexWithSegments('scheduler-retries', 3);
  const layout = new IndexLayout(dir);
  const manifest = Manifest.open(layout.manifestPath);
  const oldestPath = layout.segmentPath(manifest.current().segments[0]!.id);
  manifest.close();
  const damaged = readFileSync(oldestPath);
  damaged[100] = damaged[100]! ^ 0xff;
  writeFileSync(oldestPath, damaged);

  const clock = new ManualClock(1_000_000);
  await using fixture = new SchedulerFixture(dir, { policy: new TieredMergePolicy({ minRunLength: 2 }), clock });
  const { scheduler } = fixture;
  scheduler.schedule();
  await fixture.failuresReach(1);
  await scheduler.idle();

  for (const [retry, delayMs] of [1_000, 2_000].entries()) {
    clock.advance(delayMs);
    assert.equal(scheduler.inFlight, 0, `not retried before ${delayMs} ms have passed`);
    clock.advance(1);
    assert.equal(scheduler.inFlight, 1, `retried once ${delayMs} ms have passed, by the retry timer alone`);
    await fixture.failuresReach(retry + 2);
    await scheduler.idle();
  }
  assert.equal(scheduler.failures, 3);
  assert.equal(fixture.failures.length, 3);
  for (const error of fixture.failures) assert.ok(error instanceof MergeFailedError);
  assert.deepEqual(fixture.fatal, [], 'a failed merge is not fatal');
  assert.equal(scheduler.merges, 0);
  assert.equal(clock.pendingTimers, 1, 'the next retry is set');
  await scheduler.close();
  assert.equal(clock.pendingTimers, 0, 'close cancels it');
});

test('the counters other classes read cannot be written', async () => {
  const dir = await indexWithSegments('scheduler-counters', 2);
  await using fixture = new SchedulerFixture(dir, { policy: new TieredMergePolicy() });
  for (const counter of ['merges', 'failures', 'bytesWritten', 'inFlight']) {
    assert.throws(() => Object.assign(fixture.scheduler, { [counter]: 7 }), TypeError, counter);
  }
});
