import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ValidationError } from '@silt/fs';
import { checkMergeRuns, type MergeRun, type SegmentSummary } from './merge-policy.js';
import {
  DEFAULT_MERGE_POLICY,
  TieredMergePolicy,
  pickMerges,
  planForceMerge,
  segmentCountTarget,
  validateMergePolicyOptions,
  type MergePolicyOptions,
} from './tiered-merge-policy.js';

const MIB = 1024 * 1024;

/** A live set in the making: flushes append, merges replace their run by one segment of the summed size. */
class LiveSet {
  readonly segments: SegmentSummary[] = [];
  private nextId = 1;
  private nextSequence = 1;
  private bytesFlushed = 0;
  private bytesMerged = 0;

  flush(bytes: number, entries = Math.max(1, Math.round(bytes / 100))): SegmentSummary {
    const segment = {
      id: this.nextId++,
      minSequence: this.nextSequence,
      maxSequence: this.nextSequence + entries - 1,
      bytes,
      entries,
      tombstones: 0,
    };
    this.nextSequence += entries;
    this.segments.push(segment);
    this.bytesFlushed += bytes;
    return segment;
  }

  apply(run: MergeRun): void {
    const start = this.segments.findIndex((segment) => segment.id === run.segmentIds[0]);
    const inputs = this.segments.slice(start, start + run.segmentIds.length);
    assert.deepEqual(
      inputs.map((segment) => segment.id),
      run.segmentIds,
      'a run applies to contiguous live segments',
    );
    const first = inputs[0];
    const last = inputs.at(-1);
    assert.ok(first !== undefined && last !== undefined);
    const sum = (field: 'bytes' | 'entries' | 'tombstones') => inputs.reduce((total, segment) => total + segment[field], 0);
    const merged = {
      id: this.nextId++,
      minSequence: first.minSequence,
      maxSequence: last.maxSequence,
      bytes: sum('bytes'),
      entries: sum('entries'),
      tombstones: run.dropTombstones ? 0 : sum('tombstones'),
    };
    this.segments.splice(start, inputs.length, merged);
    this.bytesMerged += merged.bytes;
  }

  /** Picks and applies merges at once until the policy wants none. */
  mergeToRest(options: MergePolicyOptions): void {
    for (let runs = pickMerges(this.segments, new Set(), options); runs.length > 0; runs = pickMerges(this.segments, new Set(), options)) {
      for (const run of runs) this.apply(run);
    }
  }

  /** Bytes written by flushes and merges together, per byte flushed. */
  writeAmplification(): number {
    return (this.bytesFlushed + this.bytesMerged) / this.bytesFlushed;
  }
}

/** What every answer of the policy must satisfy, whatever the input. */
function assertWellFormed(
  live: readonly SegmentSummary[],
  busy: ReadonlySet<number>,
  runs: readonly MergeRun[],
  options: MergePolicyOptions,
): void {
  const position = new Map(live.map((segment, index) => [segment.id, index]));
  const used = new Set<number>();
  for (const run of runs) {
    assert.ok(run.segmentIds.length >= 2, 'a run merges at least two segments');
    assert.ok(run.segmentIds.length <= options.maxSegmentsPerMerge, 'a run reads at most maxSegmentsPerMerge segments');
    const first = position.get(run.segmentIds[0] ?? -1);
    assert.ok(first !== undefined, 'a run names live segments');
    run.segmentIds.forEach((id, offset) => {
      assert.equal(position.get(id), first + offset, 'a run is contiguous in sequence order, oldest first');
      assert.ok(!busy.has(id), 'a run never includes a segment being merged');
      assert.ok(!used.has(id), 'runs are disjoint');
      used.add(id);
    });
    assert.equal(run.dropTombstones, first === 0, 'tombstones drop exactly when the run starts at the oldest live segment');
  }
  checkMergeRuns(live, busy, runs);
}

const arbitraryOptions: fc.Arbitrary<MergePolicyOptions> = fc
  .record({
    maxSegmentsPerMerge: fc.integer({ min: 2, max: 12 }),
    floorBytes: fc.integer({ min: 0, max: 8 * MIB }),
    sizeRatio: fc.double({ min: 1, max: 8, noNaN: true }),
    minRunLengthOffset: fc.integer({ min: 0, max: 10 }),
    maxSpaceAmplification: fc.oneof(fc.double({ min: 0.1, max: 5, noNaN: true }), fc.constant(Infinity)),
    capSlack: fc.integer({ min: 0, max: 40 }),
  })
  .map(({ minRunLengthOffset, capSlack, ...rest }) => {
    const minRunLength = 2 + (minRunLengthOffset % (rest.maxSegmentsPerMerge - 1));
    return { ...rest, minRunLength, segmentCap: 2 * minRunLength + capSlack };
  });

const arbitraryOptionsOrDefault = fc.oneof(fc.constant(DEFAULT_MERGE_POLICY), arbitraryOptions);

/** Sizes from a few bytes to a gigabyte, log-uniform, as flushes of a quiet and a busy index give. */
const arbitraryBytes = fc.integer({ min: 0, max: 30 }).chain((exponent) => fc.integer({ min: 2 ** exponent, max: 2 ** (exponent + 1) }));

const arbitraryLiveAndBusy = fc
  .array(fc.record({ bytes: arbitraryBytes, busy: fc.boolean(), tombstones: fc.nat(50) }), { maxLength: 60 })
  .map((rows) => {
    let sequence = 1;
    const live = rows.map((row, index) => {
      const entries = 1 + (row.bytes % 1000);
      const segment = {
        id: 100 + index * 3,
        minSequence: sequence,
        maxSequence: sequence + entries - 1,
        bytes: row.bytes,
        entries,
        tombstones: row.tombstones,
      };
      sequence += entries + (index % 2);
      return segment;
    });
    return { live, busy: new Set(rows.flatMap((row, index) => (row.busy ? [100 + index * 3] : []))) };
  });

test('picked runs are contiguous, disjoint, never touch a busy segment, and drop tombstones only from the oldest', () => {
  fc.assert(
    fc.property(arbitraryLiveAndBusy, arbitraryOptionsOrDefault, ({ live, busy }, options) => {
      assertWellFormed(live, busy, pickMerges(live, busy, options), options);
    }),
    { numRuns: 500 },
  );
});

test('force-merge plans obey the same rules as picked merges', () => {
  fc.assert(
    fc.property(
      arbitraryLiveAndBusy,
      arbitraryOptionsOrDefault,
      fc.integer({ min: 1, max: 70 }),
      ({ live, busy }, options, maxSegments) => {
        const runs = planForceMerge(live, busy, maxSegments, options);
        assertWellFormed(live, busy, runs, options);
        assert.ok(runs.every((run) => run.reason === 'force'));
        if (live.length <= maxSegments) assert.deepEqual(runs, []);
      },
    ),
    { numRuns: 500 },
  );
});

test('with merges applied as soon as they are picked, the count never passes half the cap, whatever the flush sizes', () => {
  fc.assert(
    fc.property(fc.array(arbitraryBytes, { minLength: 1, maxLength: 300 }), arbitraryOptionsOrDefault, (flushes, options) => {
      const live = new LiveSet();
      for (const bytes of flushes) {
        live.flush(bytes);
        live.mergeToRest(options);
        assert.ok(
          live.segments.length <= segmentCountTarget(options),
          `${live.segments.length} segments > target ${segmentCountTarget(options)}`,
        );
      }
    }),
    { numRuns: 200 },
  );
});

test('with merges that run for a while, the count stays bounded by the cap target plus what the running merges hold', () => {
  const command = fc.oneof(
    fc.record({ kind: fc.constant('flush' as const), bytes: arbitraryBytes }),
    fc.record({ kind: fc.constant('finish' as const), which: fc.nat() }),
  );
  fc.assert(
    fc.property(
      fc.array(command, { minLength: 1, maxLength: 300 }),
      arbitraryOptionsOrDefault,
      fc.double({ min: 0, max: 1, noNaN: true }),
      (commands, options, delayShare) => {
        const live = new LiveSet();
        const running: MergeRun[] = [];
        let decisions = 0;
        const startMerges = (): void => {
          for (;;) {
            const busy = new Set(running.flatMap((run) => run.segmentIds));
            const runs = pickMerges(live.segments, busy, options);
            if (runs.length === 0) return;
            for (const run of runs) {
              // A fixed share of merges (by a deterministic counter) keeps running; the rest commit at once.
              decisions += 1;
              if ((decisions * 0.618) % 1 < delayShare) running.push(run);
              else live.apply(run);
            }
          }
        };
        for (const step of commands) {
          if (step.kind === 'flush') live.flush(step.bytes);
          else {
            const [finished] = running.splice(step.which % Math.max(1, running.length), 1);
            if (finished !== undefined) live.apply(finished);
          }
          startMerges();
          const bound = Math.max(segmentCountTarget(options), running.length * (options.maxSegmentsPerMerge + 1) + 1);
          assert.ok(live.segments.length <= bound, `${live.segments.length} segments with ${running.length} merges running > ${bound}`);
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('force-merge rounds reach the asked count when nothing else is merging', () => {
  fc.assert(
    fc.property(
      fc.array(arbitraryBytes, { maxLength: 150 }),
      fc.integer({ min: 1, max: 20 }),
      arbitraryOptionsOrDefault,
      (flushes, maxSegments, options) => {
        const live = new LiveSet();
        for (const bytes of flushes) live.flush(bytes);
        const before = live.segments.length;
        let rounds = 0;
        for (
          let runs = planForceMerge(live.segments, new Set(), maxSegments, options);
          runs.length > 0;
          runs = planForceMerge(live.segments, new Set(), maxSegments, options)
        ) {
          runs.forEach((run) => live.apply(run));
          rounds += 1;
        }
        assert.ok(live.segments.length <= maxSegments);
        assert.equal(live.segments.length, Math.min(before, maxSegments), 'a force merge stops at the asked count, not below');
        if (before - maxSegments < options.maxSegmentsPerMerge) assert.ok(rounds <= 1, 'one merge suffices when its fan-in allows');
      },
    ),
    { numRuns: 300 },
  );
});

test('forceMerge(1) of a few segments is one run over all of them that drops tombstones', () => {
  const live = new LiveSet();
  for (let i = 0; i < 7; i++) live.flush(MIB * (i + 1));
  const runs = planForceMerge(live.segments, new Set(), 1);
  assert.deepEqual(runs, [{ segmentIds: live.segments.map((segment) => segment.id), reason: 'force', dropTombstones: true }]);
});

test('a force merge leaves busy segments alone and merges around them', () => {
  const live = new LiveSet();
  for (let i = 0; i < 8; i++) live.flush(MIB);
  const ids = live.segments.map((segment) => segment.id);
  const runs = planForceMerge(live.segments, new Set([ids[3] ?? 0]), 1);
  assert.deepEqual(
    runs.map((run) => run.segmentIds),
    [ids.slice(4), ids.slice(0, 3)],
  );
});

test('four similar flushes merge into one; fewer wait', () => {
  const tiersOnly = { ...DEFAULT_MERGE_POLICY, maxSpaceAmplification: Infinity };
  const live = new LiveSet();
  for (let i = 0; i < 3; i++) live.flush(8 * MIB);
  assert.deepEqual(pickMerges(live.segments, new Set(), tiersOnly), []);
  live.flush(7 * MIB);
  assert.deepEqual(pickMerges(live.segments, new Set(), tiersOnly), [
    { segmentIds: live.segments.map((segment) => segment.id), reason: 'tiered', dropTombstones: true },
  ]);
});

test('segments under the floor count as floor-sized, so tiny flushes of any size merge together early', () => {
  const live = new LiveSet();
  live.flush(64 * MIB);
  for (const bytes of [10, 200_000, 3_000, 1_000_000]) live.flush(bytes);
  assert.deepEqual(pickMerges(live.segments, new Set()), [
    { segmentIds: live.segments.slice(1).map((segment) => segment.id), reason: 'floor', dropTombstones: false },
  ]);
});

test('a big old segment is not merged again with small new ones', () => {
  const live = new LiveSet();
  live.flush(256 * MIB);
  for (let i = 0; i < 3; i++) live.flush(64 * MIB);
  for (let i = 0; i < 3; i++) live.flush(16 * MIB);
  assert.deepEqual(pickMerges(live.segments, new Set()), []);
  live.flush(16 * MIB);
  const [run, ...others] = pickMerges(live.segments, new Set());
  assert.deepEqual(others, []);
  assert.deepEqual(
    run?.segmentIds,
    live.segments.slice(-4).map((segment) => segment.id),
  );
});

test('when newer segments hold more than twice the oldest, a merge from the oldest folds them and drops tombstones', () => {
  const live = new LiveSet();
  live.flush(10 * MIB);
  live.flush(12 * MIB);
  live.flush(9 * MIB);
  assert.deepEqual(pickMerges(live.segments, new Set()), [
    { segmentIds: live.segments.map((segment) => segment.id), reason: 'space-amplification', dropTombstones: true },
  ]);
  assert.deepEqual(pickMerges(live.segments, new Set(), { ...DEFAULT_MERGE_POLICY, maxSpaceAmplification: Infinity }), []);
});

test('merges run in order of bytes read per segment removed, cheapest first', () => {
  const live = new LiveSet();
  for (let i = 0; i < 4; i++) live.flush(64 * MIB);
  for (let i = 0; i < 5; i++) live.flush(4 * MIB);
  const runs = pickMerges(live.segments, new Set(), { ...DEFAULT_MERGE_POLICY, maxSpaceAmplification: Infinity });
  assert.deepEqual(
    runs.map((run) => run.segmentIds.length),
    [5, 4],
  );
});

test('each flushed byte is rewritten about log(flushes) times, not once per flush', () => {
  const live = new LiveSet();
  const flushes = 2000;
  for (let i = 0; i < flushes; i++) {
    live.flush(4 * MIB + (i % 7) * 100_000);
    live.mergeToRest(DEFAULT_MERGE_POLICY);
  }
  const writeAmplification = live.writeAmplification();
  const levels = Math.log(flushes) / Math.log(DEFAULT_MERGE_POLICY.minRunLength);
  assert.ok(writeAmplification >= 2, `some merging happened (${writeAmplification})`);
  assert.ok(writeAmplification <= levels + 2, `write amplification ${writeAmplification.toFixed(2)} > ${(levels + 2).toFixed(2)}`);
});

test('nonsense options are refused with a ValidationError naming the option', () => {
  const bad: [Partial<Record<keyof MergePolicyOptions, unknown>>, RegExp][] = [
    [{ maxSegmentsPerMerge: 1 }, /maxSegmentsPerMerge/],
    [{ maxSegmentsPerMerge: 2.5 }, /maxSegmentsPerMerge/],
    [{ floorBytes: -1 }, /floorBytes/],
    [{ floorBytes: Number.NaN }, /floorBytes/],
    [{ sizeRatio: 0.5 }, /sizeRatio/],
    [{ minRunLength: 11 }, /minRunLength.*maxSegmentsPerMerge/],
    [{ minRunLength: 1 }, /minRunLength/],
    [{ maxSpaceAmplification: 0 }, /maxSpaceAmplification/],
    [{ segmentCap: 7 }, /segmentCap.*at least 8/],
    [{ segmentCap: '32' }, /segmentCap/],
  ];
  for (const [change, message] of bad) {
    const options = { ...DEFAULT_MERGE_POLICY, ...change } as MergePolicyOptions;
    assert.throws(
      () => validateMergePolicyOptions(options),
      (error: unknown) => error instanceof ValidationError && message.test(error.message),
    );
    assert.throws(() => pickMerges([], new Set(), options), ValidationError);
  }
  assert.deepEqual(validateMergePolicyOptions(DEFAULT_MERGE_POLICY), DEFAULT_MERGE_POLICY);
  assert.deepEqual(
    validateMergePolicyOptions({ segmentCap: 40 }),
    { ...DEFAULT_MERGE_POLICY, segmentCap: 40 },
    'a missing option takes its default',
  );
});

test('a live list out of sequence order, with overlapping ranges or a repeated id is refused', () => {
  const segment = (id: number, minSequence: number, maxSequence: number): SegmentSummary => ({
    id,
    minSequence,
    maxSequence,
    bytes: 1,
    entries: 1,
    tombstones: 0,
  });
  for (const live of [
    [segment(1, 10, 19), segment(2, 1, 9)],
    [segment(1, 1, 10), segment(2, 10, 19)],
    [segment(1, 1, 9), segment(1, 10, 19)],
    [segment(1, 5, 4)],
  ]) {
    assert.throws(() => pickMerges(live, new Set()), ValidationError);
    assert.throws(() => planForceMerge(live, new Set(), 1), ValidationError);
  }
  assert.throws(() => planForceMerge([], new Set(), 0), /maxSegments must be an integer of at least 1/);
});

test('TieredMergePolicy answers as the rules above, with its options checked once when it is made', () => {
  const live = new LiveSet();
  for (let i = 0; i < 9; i++) live.flush(MIB * (1 + (i % 3)));
  const busy = new Set([live.segments[2]!.id]);
  const options = { ...DEFAULT_MERGE_POLICY, minRunLength: 2 };
  const policy = new TieredMergePolicy({ minRunLength: 2 });
  assert.deepEqual(policy.options, options, 'a missing option takes its default');
  assert.deepEqual(policy.pickMerges(live.segments, { busy }), pickMerges(live.segments, busy, options));
  assert.deepEqual(policy.planForceMerge(live.segments, { busy, maxSegments: 2 }), planForceMerge(live.segments, busy, 2, options));
  assert.deepEqual(new TieredMergePolicy().options, DEFAULT_MERGE_POLICY);
  assert.throws(() => new TieredMergePolicy({ segmentCap: 7 }), /segmentCap.*at least 8/);
});
