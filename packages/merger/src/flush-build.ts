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
  const sorted = newestPerKeyInOrder(fs, request);
  if (sorted.length === 0) throw new ValidationError(`log range ${request.fromSequence}..${request.toSequence} holds no operation`);
  const inputs = function* (): Generator<SegmentInput> {
    for (const { entry } of sorted) yield toSegmentInput(entry);
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
    minKey: new Uint8Array(sorted[0]!.entry.key),
    maxKey: new Uint8Array(sorted[sorted.length - 1]!.entry.key),
    minSequence: built.minSequence,
    maxSequence: built.maxSequence,
  };
}

interface Operation {
  /** The key as a latin1 string: one char per byte, so string order is byte order. */
  readonly id: string;
  readonly entry: WalEntry;
}

/**
 * The range's operations sorted by key, one per key: the newest. The sort is
 * stable and the log is in sequence order, so the last of each run of equal
 * keys is the newest; no map of keys is needed.
 */
function newestPerKeyInOrder(fs: FileSystem, request: FlushRequest): Operation[] {
  const operations: Operation[] = [];
  for (const record of readLogRange(fs, request.walDirectory, request.fromSequence, request.toSequence)) {
    record.entries.forEach((entry, i) => {
      const sequence = record.firstSeq + i;
      if (sequence < request.fromSequence || sequence > request.toSequence) return;
      operations.push({ id: Buffer.from(entry.key.buffer, entry.key.byteOffset, entry.key.byteLength).toString('latin1'), entry });
    });
  }
  operations.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let kept = 0;
  for (let i = 0; i < operations.length; i++) {
    const next = operations[i + 1];
    if (next === undefined || next.id !== operations[i]!.id) operations[kept++] = operations[i]!;
  }
  operations.length = kept;
  return operations;
}

function toSegmentInput(entry: WalEntry): SegmentInput {
  if (entry.kind === 'delete') return { kind: 'tombstone', key: entry.key };
  return { kind: 'put', key: entry.key, value: entry.value, valueIsText: entry.valueIsText === true };
}
