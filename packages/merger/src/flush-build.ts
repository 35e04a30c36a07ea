import { ValidationError, type FileSystem } from '@silt/fs';
import { readLogRange, type WalEntry } from '@silt/wal';
import { buildSegment, type SegmentInput } from '@silt/segments';

/** What a flush asks a worker to do: turn one range of the log into one segment file. */
export interface FlushRequest {
  /** The log directory (`<index>/wal`). */
  readonly walDirectory: string;
  readonly fromSequence: number;
  readonly toSequence: number;
  /** Where to write the segment (`<index>/segments/<id>.seg`); must not exist. */
  readonly segmentPath: string;
}

/** What the manifest needs to know about the segment a flush wrote. */
export interface FlushResult {
  readonly path: string;
  readonly bytes: number;
  readonly entries: number;
  readonly tombstones: number;
  readonly minKey: Uint8Array;
  readonly maxKey: Uint8Array;
  readonly minSequence: number;
  readonly maxSequence: number;
}

/**
 * Reads the log range, keeps the newest operation per key, sorts by key
 * bytes and writes the segment (fsynced with its directory by the builder).
 * It reads the log files, not the writer's memtable, so a flush costs the
 * writer's event loop nothing.
 */
export async function buildSegmentFromLog(fs: FileSystem, request: FlushRequest): Promise<FlushResult> {
  const newest = newestPerKey(fs, request);
  if (newest.size === 0) throw new ValidationError(`log range ${request.fromSequence}..${request.toSequence} holds no operation`);
  const sorted = [...newest].sort(([a], [b]) => (a < b ? -1 : 1));
  const inputs = function* (): Generator<SegmentInput> {
    for (const [, entry] of sorted) yield toSegmentInput(entry);
  };
  const built = await buildSegment(request.segmentPath, inputs(), {
    fs,
    minSequence: request.fromSequence,
    maxSequence: request.toSequence,
  });
  return {
    path: built.path,
    bytes: built.bytes,
    entries: built.entries,
    tombstones: built.tombstones,
    // Copies: the keys are views into whole log files, which must not cross threads.
    minKey: new Uint8Array(sorted[0]![1].key),
    maxKey: new Uint8Array(sorted[sorted.length - 1]![1].key),
    minSequence: built.minSequence,
    maxSequence: built.maxSequence,
  };
}

/** Keyed by the key as a latin1 string: one char per byte, so sorting the ids sorts by key bytes. */
function newestPerKey(fs: FileSystem, request: FlushRequest): Map<string, WalEntry> {
  const newest = new Map<string, WalEntry>();
  for (const record of readLogRange(fs, request.walDirectory, request.fromSequence, request.toSequence)) {
    record.entries.forEach((entry, i) => {
      const sequence = record.firstSeq + i;
      if (sequence < request.fromSequence || sequence > request.toSequence) return;
      newest.set(Buffer.from(entry.key.buffer, entry.key.byteOffset, entry.key.byteLength).toString('latin1'), entry);
    });
  }
  return newest;
}

function toSegmentInput(entry: WalEntry): SegmentInput {
  if (entry.kind === 'delete') return { kind: 'tombstone', key: entry.key };
  return { kind: 'put', key: entry.key, value: entry.value, valueIsText: entry.valueIsText === true };
}
