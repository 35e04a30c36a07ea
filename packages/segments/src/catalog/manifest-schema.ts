import { z } from 'zod';
import { segmentFileName } from '@silt/fs';

/**
 * The manifest's on-disk format: SQL schema, format version, and the zod
 * schemas that every row read back must pass. MANIFEST.md documents it.
 */

/** Bumped on any change to the tables below; a migration step goes with each bump. */
export const MANIFEST_FORMAT_VERSION = 1;
/** `PRAGMA application_id`: 'SILT' in ASCII, so a foreign SQLite file is recognised as such. */
export const MANIFEST_APPLICATION_ID = 0x53494c54;

/**
 * STRICT tables make SQLite itself reject a value of the wrong type;
 * the zod schemas check the rest (ranges, relations between columns).
 */
export const MANIFEST_SCHEMA_SQL = `
  CREATE TABLE manifest_state (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    generation INTEGER NOT NULL,
    wal_covered_sequence INTEGER NOT NULL,
    next_segment_id INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE generations (
    generation INTEGER PRIMARY KEY,
    wal_covered_sequence INTEGER NOT NULL,
    committed_at INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    file TEXT NOT NULL,
    min_sequence INTEGER NOT NULL,
    max_sequence INTEGER NOT NULL,
    min_key BLOB NOT NULL,
    max_key BLOB NOT NULL,
    bytes INTEGER NOT NULL,
    entries INTEGER NOT NULL,
    tombstones INTEGER NOT NULL,
    added_gen INTEGER NOT NULL,
    removed_gen INTEGER
  ) STRICT;
  CREATE INDEX segments_by_removed_gen ON segments (removed_gen);
  CREATE TABLE leases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pid INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    since INTEGER NOT NULL
  ) STRICT;
`;

/** What a commit adds: a segment file already written, fsynced, and named in a fsynced directory. */
export interface NewSegment {
  /** From `Manifest.allocateSegmentId()`. */
  readonly id: number;
  /** The sequence range the segment covers (entries with sequence numbers in it). */
  readonly minSequence: number;
  readonly maxSequence: number;
  /** Its smallest and largest key, by bytes. */
  readonly minKey: Uint8Array;
  readonly maxKey: Uint8Array;
  /** File size, and entry counts for the merge policy (tombstones are among the entries). */
  readonly bytes: number;
  readonly entries: number;
  readonly tombstones: number;
}

/** A segment as the manifest records it. */
export interface SegmentRecord extends NewSegment {
  /** `segments/<id>.seg`, relative to the index directory. */
  readonly file: string;
  readonly addedGeneration: number;
  /** The generation whose commit removed it; null while it is live. */
  readonly removedGeneration: number | null;
}

export interface Generation {
  readonly generation: number;
  /** Every WAL record with a sequence at or below this is in a segment of this generation (or merged away). */
  readonly walCoveredSequence: number;
  /** Ordered by `minSequence` ascending: oldest first. Sequence ranges are disjoint. */
  readonly segments: readonly SegmentRecord[];
  /** Milliseconds since the epoch. */
  readonly committedAt: number;
}

export interface Lease {
  readonly id: number;
  readonly pid: number;
  readonly generation: number;
  /** When the lease moved to this generation, milliseconds since the epoch. */
  readonly since: number;
}

export interface ManifestChange {
  readonly add?: readonly NewSegment[];
  /** Ids of live segments this commit replaces (a merge's inputs). */
  readonly remove?: readonly number[];
  /** Moves the covered WAL position; it never moves backwards. */
  readonly walCoveredSequence?: number;
}

/** Sequence numbers start at 1; 0 means "nothing covered yet". */
const sequenceNumber = z.number().int().min(1);
const generationNumber = z.number().int().min(0);
const segmentId = z.number().int().min(1);
const positiveCount = z.number().int().min(1);
const count = z.number().int().min(0);
const keyBytes = z.instanceof(Uint8Array);
/** Keys come back as plain Uint8Arrays of their own (not Buffers, not the caller's arrays). */
const ownedKeyBytes = keyBytes.transform((bytes) => new Uint8Array(bytes));
const milliseconds = z.number().int();
const pid = z.number().int().min(1);

/** Cross-field rules a segment must meet, on its way in (a commit) and on its way out (a row). */
function checkSegmentRanges(segment: Omit<NewSegment, 'id'>, context: z.RefinementCtx): void {
  if (segment.minSequence > segment.maxSequence) {
    context.addIssue({ code: 'custom', message: `minSequence ${segment.minSequence} > maxSequence ${segment.maxSequence}` });
  }
  if (Buffer.compare(segment.minKey, segment.maxKey) > 0) {
    context.addIssue({ code: 'custom', message: 'minKey sorts after maxKey' });
  }
  if (segment.tombstones > segment.entries) {
    context.addIssue({ code: 'custom', message: `tombstones ${segment.tombstones} > entries ${segment.entries}` });
  }
}

export const newSegmentSchema = z
  .object({
    id: segmentId,
    minSequence: sequenceNumber,
    maxSequence: sequenceNumber,
    minKey: ownedKeyBytes,
    maxKey: ownedKeyBytes,
    bytes: positiveCount,
    entries: positiveCount,
    tombstones: count,
  })
  .superRefine(checkSegmentRanges);

/** Strict: a misspelt key must not turn a replace into a plain add. */
export const manifestChangeSchema = z
  .object({
    add: z.array(newSegmentSchema).optional(),
    remove: z.array(segmentId).optional(),
    walCoveredSequence: count.optional(),
  })
  .strict();

export const segmentRowSchema = z
  .object({
    id: segmentId,
    file: z.string(),
    min_sequence: sequenceNumber,
    max_sequence: sequenceNumber,
    min_key: ownedKeyBytes,
    max_key: ownedKeyBytes,
    bytes: positiveCount,
    entries: positiveCount,
    tombstones: count,
    added_gen: generationNumber,
    removed_gen: generationNumber.nullable(),
  })
  .transform((row): SegmentRecord => ({
    id: row.id,
    file: row.file,
    minSequence: row.min_sequence,
    maxSequence: row.max_sequence,
    minKey: row.min_key,
    maxKey: row.max_key,
    bytes: row.bytes,
    entries: row.entries,
    tombstones: row.tombstones,
    addedGeneration: row.added_gen,
    removedGeneration: row.removed_gen,
  }))
  .superRefine((segment, context) => {
    checkSegmentRanges(segment, context);
    // The collector deletes the file a row names: never let a row point elsewhere.
    if (segment.file !== segmentFileName(segment.id)) {
      context.addIssue({ code: 'custom', message: `file ${JSON.stringify(segment.file)} is not ${segmentFileName(segment.id)}` });
    }
    if (segment.removedGeneration !== null && segment.removedGeneration <= segment.addedGeneration) {
      context.addIssue({
        code: 'custom',
        message: `removed in generation ${segment.removedGeneration}, not after its addition in ${segment.addedGeneration}`,
      });
    }
  });

export const stateRowSchema = z
  .object({
    generation: generationNumber,
    wal_covered_sequence: count,
    next_segment_id: segmentId,
  })
  .transform((row) => ({
    generation: row.generation,
    walCoveredSequence: row.wal_covered_sequence,
    nextSegmentId: row.next_segment_id,
  }));

export type ManifestState = z.output<typeof stateRowSchema>;

export const generationRowSchema = z
  .object({
    generation: generationNumber,
    wal_covered_sequence: count,
    committed_at: milliseconds,
  })
  .transform((row) => ({
    generation: row.generation,
    walCoveredSequence: row.wal_covered_sequence,
    committedAt: row.committed_at,
  }));

export const leaseRowSchema = z.object({
  id: z.number().int().min(1),
  pid,
  generation: generationNumber,
  since: milliseconds,
});

export const generationNumberSchema = generationNumber;
export const segmentIdListSchema = z.array(segmentId);
export const pidSchema = pid;
