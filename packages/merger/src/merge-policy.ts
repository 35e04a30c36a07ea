import { ValidationError } from '@silt/fs';

/** One live segment, as the manifest knows it. */
export interface SegmentSummary {
  readonly id: number;
  readonly minSequence: number;
  readonly maxSequence: number;
  readonly bytes: number;
  readonly entries: number;
  readonly tombstones: number;
}

export type MergeReason = 'tiered' | 'floor' | 'space-amplification' | 'force';

export interface MergeRun {
  /** Contiguous in sequence order, oldest first. */
  readonly segmentIds: readonly number[];
  readonly reason: MergeReason;
  /** True iff the run starts at the oldest live segment: nothing older can hold a key a tombstone hides. */
  readonly dropTombstones: boolean;
}

/** What a policy is told besides the live segments. */
export interface MergeContext {
  /** Segments a running merge reads, or that wait out a retry delay after a failed merge: no run may include one. */
  readonly busy: ReadonlySet<number>;
}

export interface ForceMergeContext extends MergeContext {
  /** The live count `forceMerge` asks for (at least 1). */
  readonly maxSegments: number;
}

/**
 * Which segments to merge. The merge scheduler asks `pickMerges` after every
 * flush, every committed merge and every retry delay, and starts the front of
 * the answer on its free merge threads; `forceMerge` asks `planForceMerge` in
 * rounds until it answers `[]` with no merge running. Both take the live
 * segments oldest first (ascending minSequence) and read no file.
 *
 * Every answer must pass `checkMergeRuns` (the scheduler checks before it
 * starts anything): a run is two or more live neighbours, oldest first, none
 * busy, disjoint from the other runs, and drops tombstones only when it
 * starts at the oldest live segment. That is what keeps newest-wins reads
 * right across a merge; which runs, and when, is the policy's alone.
 */
export interface MergePolicy {
  /** The merges to start now, the most wanted first: a scheduler with fewer free threads than runs takes the front. */
  pickMerges(live: readonly SegmentSummary[], context: MergeContext): MergeRun[];
  /**
   * This round's merges towards at most `context.maxSegments` live segments.
   * `[]` while the count is above it means "wait for the busy merges", or,
   * with none running, that the policy will not go lower.
   */
  planForceMerge(live: readonly SegmentSummary[], context: ForceMergeContext): MergeRun[];
}

/**
 * Throws a ValidationError naming the first run of a policy's answer that
 * would break newest-wins: one that is not two or more contiguous live
 * segments oldest first, includes a busy one or one of another run, or drops
 * tombstones without starting at the oldest live segment.
 */
export function checkMergeRuns(live: readonly SegmentSummary[], busy: ReadonlySet<number>, runs: readonly MergeRun[]): void {
  const position = new Map(live.map((segment, index) => [segment.id, index]));
  const taken = new Set<number>();
  for (const run of runs) {
    const problem = runProblem(run, position, busy, taken);
    if (problem !== undefined) throw new ValidationError(`the merge policy's run [${run.segmentIds.join(', ')}] ${problem}`);
    for (const id of run.segmentIds) taken.add(id);
  }
}

function runProblem(
  run: MergeRun,
  position: ReadonlyMap<number, number>,
  busy: ReadonlySet<number>,
  taken: ReadonlySet<number>,
): string | undefined {
  if (!Array.isArray(run.segmentIds) || run.segmentIds.length < 2) return 'has fewer than two segments';
  const first = position.get(run.segmentIds[0]!);
  if (first === undefined) return `names segment ${run.segmentIds[0]}, which is not live`;
  for (const [offset, id] of run.segmentIds.entries()) {
    if (position.get(id) !== first + offset) return `does not list live neighbours oldest first (segment ${id} is out of place)`;
    if (busy.has(id)) return `includes segment ${id}, which is busy`;
    if (taken.has(id)) return `shares segment ${id} with another run of the same answer`;
  }
  if (run.dropTombstones && first !== 0) return 'drops tombstones but does not start at the oldest live segment';
  return undefined;
}
