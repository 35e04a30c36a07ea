import { ValidationError } from '@silt/fs';
import { StaleCommitError } from './manifest-errors.js';
import { segmentFileName } from '@silt/fs';
import { manifestChangeSchema } from './manifest-schema.js';
import { parseWithSchema } from '../shared/schema-validation.js';
import type { ManifestChange, ManifestState, NewSegment, SegmentRecord } from './manifest-schema.js';

/**
 * Checks a commit against the current state and works out the next
 * generation, without touching the database: the manifest runs this inside
 * its write transaction and applies the plan only if it returns.
 */

export interface CommitContext {
  readonly state: ManifestState;
  /** The current generation's live segments. */
  readonly live: readonly SegmentRecord[];
  /** Whether the manifest has a row for this id (live, or removed and not yet collected). */
  readonly hasSegmentRow: (id: number) => boolean;
}

export interface CommitPlan {
  readonly generation: number;
  readonly walCoveredSequence: number;
  readonly removeIds: readonly number[];
  readonly added: readonly SegmentRecord[];
  /** The new generation's live set, ordered by minSequence. */
  readonly live: readonly SegmentRecord[];
}

export function planCommit(change: ManifestChange, context: CommitContext): CommitPlan {
  const parsed = parseChange(change);
  const add = parsed.add ?? [];
  const removeIds = parsed.remove ?? [];
  const { state } = context;
  const walCoveredSequence = parsed.walCoveredSequence ?? state.walCoveredSequence;
  checkDistinct(add, removeIds);
  if (add.length === 0 && removeIds.length === 0 && walCoveredSequence === state.walCoveredSequence) {
    throw new ValidationError('empty manifest commit: it adds nothing, removes nothing and does not move the WAL position');
  }
  checkRemovals(removeIds, context);
  checkAdditions(add, context);
  if (walCoveredSequence < state.walCoveredSequence) {
    throw new ValidationError(
      `walCoveredSequence may only move forward: ${walCoveredSequence} < ${state.walCoveredSequence} already covered`,
    );
  }
  const generation = state.generation + 1;
  const added = add.map((segment) => toRecord(segment, generation));
  for (const segment of added) {
    if (segment.maxSequence > walCoveredSequence) {
      throw new ValidationError(
        `segment ${segment.id} reaches sequence ${segment.maxSequence}, beyond the WAL position ${walCoveredSequence} the commit covers; move walCoveredSequence with it`,
      );
    }
  }
  const removed = new Set(removeIds);
  const live = [...context.live.filter((segment) => !removed.has(segment.id)), ...added].sort((a, b) => a.minSequence - b.minSequence);
  checkDisjoint(live);
  return { generation, walCoveredSequence, removeIds, added, live };
}

function parseChange(change: ManifestChange): ManifestChange {
  return parseWithSchema(manifestChangeSchema, change, 'manifest commit');
}

function checkDistinct(add: readonly NewSegment[], removeIds: readonly number[]): void {
  const addIds = add.map((segment) => segment.id);
  const duplicateAdd = firstDuplicate(addIds);
  if (duplicateAdd !== undefined) throw new ValidationError(`commit adds segment ${duplicateAdd} twice`);
  const duplicateRemove = firstDuplicate(removeIds);
  if (duplicateRemove !== undefined) throw new ValidationError(`commit removes segment ${duplicateRemove} twice`);
  const both = addIds.find((id) => removeIds.includes(id));
  if (both !== undefined) throw new ValidationError(`commit both adds and removes segment ${both}`);
}

function firstDuplicate(ids: readonly number[]): number | undefined {
  const seen = new Set<number>();
  for (const id of ids) {
    if (seen.has(id)) return id;
    seen.add(id);
  }
  return undefined;
}

/** Inputs that are gone make the whole commit stale: a concurrent merge or commit got there first. */
function checkRemovals(removeIds: readonly number[], context: CommitContext): void {
  const liveIds = new Set(context.live.map((segment) => segment.id));
  const stale: number[] = [];
  for (const id of removeIds) {
    if (liveIds.has(id)) continue;
    if (id >= context.state.nextSegmentId) {
      throw new ValidationError(`commit removes segment ${id}, which was never allocated`);
    }
    stale.push(id);
  }
  if (stale.length > 0) throw new StaleCommitError(stale, context.state.generation);
}

function checkAdditions(add: readonly NewSegment[], context: CommitContext): void {
  for (const segment of add) {
    if (segment.id >= context.state.nextSegmentId) {
      throw new ValidationError(`commit adds segment ${segment.id}, which was not allocated by allocateSegmentId()`);
    }
    if (context.hasSegmentRow(segment.id)) {
      throw new ValidationError(`commit adds segment ${segment.id}, which is already in the manifest`);
    }
  }
}

function checkDisjoint(live: readonly SegmentRecord[]): void {
  const overlap = describeOverlap(live);
  if (overlap !== undefined) {
    throw new ValidationError(`${overlap} would overlap; live segments cover disjoint sequence ranges`);
  }
}

/** The first two segments (of a list ordered by minSequence) whose sequence ranges overlap, described. */
export function describeOverlap(ordered: readonly SegmentRecord[]): string | undefined {
  for (let index = 1; index < ordered.length; index += 1) {
    const before = ordered[index - 1];
    const after = ordered[index];
    if (before !== undefined && after !== undefined && before.maxSequence >= after.minSequence) {
      return (
        `segments ${before.id} [${before.minSequence}..${before.maxSequence}] and ` +
        `${after.id} [${after.minSequence}..${after.maxSequence}]`
      );
    }
  }
  return undefined;
}

function toRecord(segment: NewSegment, generation: number): SegmentRecord {
  return {
    id: segment.id,
    file: segmentFileName(segment.id),
    minSequence: segment.minSequence,
    maxSequence: segment.maxSequence,
    minKey: segment.minKey,
    maxKey: segment.maxKey,
    bytes: segment.bytes,
    entries: segment.entries,
    tombstones: segment.tombstones,
    addedGeneration: generation,
    removedGeneration: null,
  };
}
