import { ValidationError } from '@silt/fs';
import { z } from 'zod';
import { parseWithSchema } from '@silt/segments/internal';
import type { ForceMergeContext, MergeContext, MergePolicy, MergeReason, MergeRun, SegmentSummary } from './merge-policy.js';

/** The tiered policy's knobs. Defaults and the reasons for them are in the README ("Merge policy"). */
export interface MergePolicyOptions {
  /** Most segments one merge reads (its k-way fan-in). Default 10. */
  readonly maxSegmentsPerMerge: number;
  /**
   * Segments no larger than this all count as similar, so tiny ones merge early (and space amplification ignores smaller indexes).
   * Default 1 MiB.
   */
  readonly floorBytes: number;
  /** Neighbours are similar when the largest is at most this many times the smallest (or at most floorBytes). Default 3. */
  readonly sizeRatio: number;
  /** A tier merges once at least this many similar neighbours wait (RocksDB universal's trigger is 4). Default 4. */
  readonly minRunLength: number;
  /** A merge from the oldest segment starts when the bytes of all newer segments pass this multiple of the oldest's. Default 2 (200 %). */
  readonly maxSpaceAmplification: number;
  /** Where writers get slowed (backpressure). The policy starts count-reducing merges at half of it. Default 32. */
  readonly segmentCap: number;
}

export const DEFAULT_MERGE_POLICY: MergePolicyOptions = Object.freeze({
  maxSegmentsPerMerge: 10,
  floorBytes: 1024 * 1024,
  sizeRatio: 3,
  minRunLength: 4,
  maxSpaceAmplification: 2,
  segmentCap: 32,
});

/**
 * The count the policy keeps the live set under when it can: half the cap, so
 * that backpressure starts only when merges cannot keep up, never in steady state.
 */
export function segmentCountTarget(options: MergePolicyOptions): number {
  return Math.floor(options.segmentCap / 2);
}

/**
 * The policy's options as a zod schema: a missing option takes its default,
 * and the limits that tie options together are checked after. The index's
 * `mergePolicy` option is this schema, so the limits live here only.
 */
export const mergePolicyOptionsSchema = z
  .strictObject({
    maxSegmentsPerMerge: z.number().int().min(2).default(DEFAULT_MERGE_POLICY.maxSegmentsPerMerge),
    floorBytes: z.number().int().min(0).default(DEFAULT_MERGE_POLICY.floorBytes),
    sizeRatio: z.number().min(1).default(DEFAULT_MERGE_POLICY.sizeRatio),
    minRunLength: z.number().int().min(2).default(DEFAULT_MERGE_POLICY.minRunLength),
    /** Infinity turns the rule off (zod's number() refuses infinities, hence the literal). */
    maxSpaceAmplification: z
      .union([z.number().positive(), z.literal(Number.POSITIVE_INFINITY)])
      .default(DEFAULT_MERGE_POLICY.maxSpaceAmplification),
    segmentCap: z.number().int().min(4).default(DEFAULT_MERGE_POLICY.segmentCap),
  })
  .superRefine((options, context) => {
    if (options.minRunLength > options.maxSegmentsPerMerge) {
      context.addIssue({
        code: 'custom',
        path: ['minRunLength'],
        message: `minRunLength (${options.minRunLength}) must not exceed maxSegmentsPerMerge (${options.maxSegmentsPerMerge}): such a run could never merge`,
      });
    }
    if (options.segmentCap < 2 * options.minRunLength) {
      context.addIssue({
        code: 'custom',
        path: ['segmentCap'],
        message: `segmentCap must be at least ${2 * options.minRunLength}, twice minRunLength: the policy keeps the count under half the cap and a tier needs room to fill`,
      });
    }
  });

/** Checks every option (a missing one takes its default); throws one ValidationError naming each bad one. */
export function validateMergePolicyOptions(options: unknown): MergePolicyOptions {
  return parseWithSchema(mergePolicyOptionsSchema, options ?? {}, 'merge policy options');
}

/**
 * The policy silt merges by (rules in the README, "Merge policy"): space
 * amplification first, then size tiers of similar neighbours, then the
 * cheapest windows while the count is above half the cap. Stateless: each
 * answer follows from the live segments, the busy ones and the options.
 */
export class TieredMergePolicy implements MergePolicy {
  readonly options: MergePolicyOptions;

  /** Checks the options once (a missing one takes its default); a bad one is a ValidationError. */
  constructor(options: Partial<MergePolicyOptions> = DEFAULT_MERGE_POLICY) {
    this.options = validateMergePolicyOptions(options);
  }

  pickMerges(live: readonly SegmentSummary[], context: MergeContext): MergeRun[] {
    return pickMerges(live, context.busy, this.options);
  }

  planForceMerge(live: readonly SegmentSummary[], context: ForceMergeContext): MergeRun[] {
    return planForceMerge(live, context.busy, context.maxSegments, this.options);
  }
}

/** A candidate run as positions in the live list: live[start .. end - 1]. */
interface Span {
  readonly start: number;
  readonly end: number;
  readonly reason: MergeReason;
}

/**
 * The merges to start now, cheapest count reduction first (bytes read per
 * segment removed), so an executor with fewer free threads than runs takes the
 * front of the list.
 *
 * live: every live segment, oldest first (ascending minSequence).
 * busy: ids in a running merge; no run includes or spans one.
 */
export function pickMerges(
  live: readonly SegmentSummary[],
  busy: ReadonlySet<number>,
  options: MergePolicyOptions = DEFAULT_MERGE_POLICY,
): MergeRun[] {
  const policy = validateMergePolicyOptions(options);
  validateLiveSegments(live);
  const plan = new RunPlan(live, busy);
  const spaceRun = spaceAmplificationRun(plan, policy);
  if (spaceRun !== undefined) plan.take(spaceRun);
  for (const run of tieredRuns(plan, policy)) plan.take(run);
  while (plan.projectedCount() > segmentCountTarget(policy)) {
    const run = cheapestWindow(plan, policy);
    if (run === undefined) break;
    plan.take(run);
  }
  return plan
    .runs()
    .sort((a, b) => plan.costPerRemoved(a) - plan.costPerRemoved(b) || b.start - a.start)
    .map((run) => plan.toMergeRun(run));
}

/**
 * The merges that bring the count to at most maxSegments (forceMerge). Each
 * run still reads at most maxSegmentsPerMerge segments, so a deep force merge
 * takes rounds: run these, wait for them and for any busy merge, call again;
 * an empty answer with the count still above maxSegments means "wait for the
 * busy merges". The newest segments go first: they are the cheapest to rewrite.
 */
export function planForceMerge(
  live: readonly SegmentSummary[],
  busy: ReadonlySet<number>,
  maxSegments: number,
  options: MergePolicyOptions = DEFAULT_MERGE_POLICY,
): MergeRun[] {
  const policy = validateMergePolicyOptions(options);
  validateLiveSegments(live);
  if (!Number.isSafeInteger(maxSegments) || maxSegments < 1) {
    throw new ValidationError(`forceMerge maxSegments must be an integer of at least 1, got ${String(maxSegments)}`);
  }
  const plan = new RunPlan(live, busy);
  let excess = live.length - maxSegments;
  for (const stretch of plan.freeStretches().reverse()) {
    let end = stretch.end;
    while (excess > 0) {
      const length = Math.min(policy.maxSegmentsPerMerge, end - stretch.start, excess + 1);
      if (length < 2) break;
      plan.take({ start: end - length, end, reason: 'force' });
      excess -= length - 1;
      end -= length;
    }
  }
  return plan.runs().map((run) => plan.toMergeRun(run));
}

/** Live segments must be in sequence order with disjoint ranges: merges rely on it for newest-wins. */
function validateLiveSegments(live: readonly SegmentSummary[]): void {
  const ids = new Set<number>();
  let previous: SegmentSummary | undefined;
  for (const segment of live) {
    if (ids.has(segment.id)) throw new ValidationError(`live segments list segment ${segment.id} twice`);
    ids.add(segment.id);
    if (!(segment.minSequence <= segment.maxSequence) || !(segment.bytes >= 0)) {
      throw new ValidationError(
        `segment ${segment.id} has sequence range [${segment.minSequence}..${segment.maxSequence}] and ${segment.bytes} bytes; expected min <= max and bytes >= 0`,
      );
    }
    if (previous !== undefined && !(previous.maxSequence < segment.minSequence)) {
      throw new ValidationError(
        `live segments must be oldest first with disjoint sequence ranges: segment ${previous.id} ` +
          `[${previous.minSequence}..${previous.maxSequence}] comes before ${segment.id} [${segment.minSequence}..${segment.maxSequence}]`,
      );
    }
    previous = segment;
  }
}

/** The runs chosen so far over one live list, and which positions are still free to take. */
class RunPlan {
  private readonly taken: boolean[];
  private readonly chosenRuns: Span[] = [];
  private readonly prefixBytes: number[] = [0];

  constructor(
    readonly live: readonly SegmentSummary[],
    busy: ReadonlySet<number>,
  ) {
    this.taken = live.map((segment) => busy.has(segment.id));
    for (const segment of live) this.prefixBytes.push((this.prefixBytes.at(-1) ?? 0) + segment.bytes);
  }

  get length(): number {
    return this.live.length;
  }

  isFree(position: number): boolean {
    return this.taken[position] === false;
  }

  bytesOf(start: number, end: number): number {
    return (this.prefixBytes[end] ?? 0) - (this.prefixBytes[start] ?? 0);
  }

  take(run: Span): void {
    for (let position = run.start; position < run.end; position++) this.taken[position] = true;
    this.chosenRuns.push(run);
  }

  runs(): Span[] {
    return [...this.chosenRuns];
  }

  /** The live count once every chosen run has committed (running merges not counted: they may take long). */
  projectedCount(): number {
    return this.chosenRuns.reduce((count, run) => count - (run.end - run.start - 1), this.live.length);
  }

  costPerRemoved(run: Span): number {
    return this.bytesOf(run.start, run.end) / (run.end - run.start - 1);
  }

  /** Maximal stretches of free positions, oldest first. */
  freeStretches(): { start: number; end: number }[] {
    const stretches: { start: number; end: number }[] = [];
    for (let position = 0; position < this.length; position++) {
      if (!this.isFree(position)) continue;
      const last = stretches.at(-1);
      if (last !== undefined && last.end === position) last.end = position + 1;
      else stretches.push({ start: position, end: position + 1 });
    }
    return stretches;
  }

  toMergeRun(run: Span): MergeRun {
    return {
      segmentIds: this.live.slice(run.start, run.end).map((segment) => segment.id),
      reason: run.reason,
      dropTombstones: run.start === 0,
    };
  }
}

/**
 * Neighbours are similar when the largest is within sizeRatio of the smallest,
 * or no larger than the floor: every segment under the floor is alike, so tiny
 * flushes merge early, and a merged one leaves that company once it passes the floor.
 */
function areSimilar(smallest: number, largest: number, options: MergePolicyOptions): boolean {
  return largest <= Math.max(options.sizeRatio * smallest, options.floorBytes);
}

/**
 * RocksDB universal's size-amplification estimate: the oldest segment stands
 * for the live data, everything newer is what a full merge could fold away.
 * Past the limit, merge from the oldest segment, as many as one merge may read
 * (the oldest are the largest, so that is nearly all the bytes). The oldest
 * grows at least threefold each time, so this rule costs O(1) writes per byte.
 */
function spaceAmplificationRun(plan: RunPlan, options: MergePolicyOptions): Span | undefined {
  if (plan.length < 2 || !plan.isFree(0)) return undefined;
  const oldestBytes = plan.bytesOf(0, 1);
  const newerBytes = plan.bytesOf(1, plan.length);
  if (newerBytes <= options.maxSpaceAmplification * Math.max(oldestBytes, options.floorBytes)) return undefined;
  let end = 1;
  while (end < plan.length && end < options.maxSegmentsPerMerge && plan.isFree(end)) end++;
  return end >= 2 ? { start: 0, end, reason: 'space-amplification' } : undefined;
}

/**
 * Size tiers over contiguous runs: from the newest segment back, grow a run
 * while its members stay similar (areSimilar); a run of
 * minRunLength or more merges. Merged outputs are about minRunLength times
 * their inputs, beyond sizeRatio, so a big old segment is not merged again
 * with small new ones until enough of its own size have gathered beside it.
 */
function tieredRuns(plan: RunPlan, options: MergePolicyOptions): Span[] {
  const runs: Span[] = [];
  let newest = plan.length - 1;
  while (newest >= 0) {
    const start = similarRunStart(plan, newest, options);
    if (newest - start + 1 >= options.minRunLength) {
      runs.push({ start, end: newest + 1, reason: allBelowFloor(plan, start, newest + 1, options) ? 'floor' : 'tiered' });
      newest = start - 1;
    } else {
      newest -= 1;
    }
  }
  return runs;
}

/** The oldest position a similar-sized run ending at `newest` can reach; `newest + 1` if that one is taken. */
function similarRunStart(plan: RunPlan, newest: number, options: MergePolicyOptions): number {
  if (!plan.isFree(newest)) return newest + 1;
  let smallest = plan.bytesOf(newest, newest + 1);
  let largest = smallest;
  let start = newest;
  while (start > 0 && plan.isFree(start - 1) && newest - start + 1 < options.maxSegmentsPerMerge) {
    const size = plan.bytesOf(start - 1, start);
    if (!areSimilar(Math.min(smallest, size), Math.max(largest, size), options)) break;
    smallest = Math.min(smallest, size);
    largest = Math.max(largest, size);
    start -= 1;
  }
  return start;
}

function allBelowFloor(plan: RunPlan, start: number, end: number, options: MergePolicyOptions): boolean {
  return plan.live.slice(start, end).every((segment) => segment.bytes <= options.floorBytes);
}

/**
 * When tiers alone leave too many segments (flushes of erratic sizes, or
 * merges that ran long), the window of free neighbours that removes segments
 * for the fewest bytes read. Longer windows of small segments usually win,
 * which leaves room under the target instead of merging a pair per flush.
 */
function cheapestWindow(plan: RunPlan, options: MergePolicyOptions): Span | undefined {
  let best: Span | undefined;
  let bestCost = Infinity;
  for (const stretch of plan.freeStretches()) {
    for (let end = stretch.end; end - stretch.start >= 2; end--) {
      const longest = Math.min(options.maxSegmentsPerMerge, end - stretch.start);
      for (let length = 2; length <= longest; length++) {
        const cost = plan.bytesOf(end - length, end) / (length - 1);
        if (cost < bestCost) {
          bestCost = cost;
          best = { start: end - length, end, reason: allBelowFloor(plan, end - length, end, options) ? 'floor' : 'tiered' };
        }
      }
    }
  }
  return best;
}
