import { ValidationError, type FileSystem } from '@silt/fs';
import type { ScratchArena } from '@silt/fs/internal';
import { readLogRange, type LogEntryVisitor } from '@silt/wal';
import { SegmentBuilder, type SegmentBuildResult } from '@silt/segments';
import { stableByteOrder, type KeySlices } from './byte-order.js';

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
 * writer's event loop nothing. Operations stay slices of the log files'
 * bytes from read to write: a flush of a million entries makes no object
 * per entry.
 *
 * With `arena` (the flush worker's, kept from flush to flush), the log
 * files are read into it: every byte of it is used before the first
 * `await` below. Without, into fresh memory that goes with the build: the
 * writer's thread, which builds only small tables, keeps nothing.
 */
export async function buildSegmentFromLog(fs: FileSystem, request: FlushRequest, arena?: ScratchArena): Promise<FlushResult> {
  arena?.reset();
  const operations = readOperations(fs, request, arena);
  if (operations.count === 0) throw new ValidationError(`log range ${request.fromSequence}..${request.toSequence} holds no operation`);
  const newest = newestPerKeyInOrder(operations);
  const builder = SegmentBuilder.create(request.segmentPath, {
    fs,
    minSequence: request.fromSequence,
    maxSequence: request.toSequence,
    expectedKeys: newest.length,
  });
  try {
    for (const i of newest) {
      const kind = operations.kinds[i]!;
      const keyStart = operations.starts[i]!;
      const keyLength = operations.lengths[i]!;
      const isPut = kind !== KIND_DELETE;
      builder.addSlices(
        isPut ? 'put' : 'tombstone',
        operations.buffers[i]!,
        keyStart,
        keyLength,
        keyStart + keyLength,
        operations.valueLengths[i]!,
        kind === KIND_PUT_TEXT,
      );
    }
  } catch (error) {
    builder.abort();
    throw error;
  }
  return builtSegment(await builder.finish());
}

/** What a finished build of at least one entry wrote: a flush's result, and the part of a merge's that a flush's has too. */
export function builtSegment(built: SegmentBuildResult): FlushResult {
  if (built.keyRange === undefined)
    throw new ValidationError(`${built.path} was built with no entry; a flush or merge result names a key range`);
  const { minKey, maxKey } = built.keyRange;
  return {
    path: built.path,
    bytes: built.bytes,
    entries: built.entries,
    tombstones: built.tombstones,
    minKey,
    maxKey,
    minSequence: built.minSequence,
    maxSequence: built.maxSequence,
  };
}

const KIND_PUT = 0;
const KIND_PUT_TEXT = 1;
const KIND_DELETE = 2;
const KIND_CODES = { put: KIND_PUT, 'put-text': KIND_PUT_TEXT, delete: KIND_DELETE } as const;

/**
 * The range's operations in sequence order, as columns; a value lies right
 * after its key. Sized once for the range (one operation per sequence
 * number), so a flush of hundreds of thousands of entries neither grows an
 * array nor makes an object per entry.
 */
interface OperationColumns extends KeySlices {
  count: number;
  readonly buffers: Uint8Array[];
  readonly starts: Uint32Array;
  readonly lengths: Uint32Array;
  readonly valueLengths: Uint32Array;
  readonly kinds: Uint8Array;
}

function operationColumns(capacity: number): OperationColumns {
  return {
    count: 0,
    buffers: new Array<Uint8Array>(capacity),
    starts: new Uint32Array(capacity),
    lengths: new Uint32Array(capacity),
    valueLengths: new Uint32Array(capacity),
    kinds: new Uint8Array(capacity),
  };
}

function readOperations(fs: FileSystem, request: FlushRequest, arena: ScratchArena | undefined): OperationColumns {
  const capacity = Math.max(0, request.toSequence - request.fromSequence + 1);
  const columns = operationColumns(capacity);
  const take: LogEntryVisitor = (kind, bytes, keyStart, keyLength, _valueStart, valueLength) => {
    const at = columns.count++;
    // The log checks that its records hold one entry per sequence number; this only guards the columns' size.
    if (at >= capacity)
      throw new RangeError(`log range ${request.fromSequence}..${request.toSequence} yielded more than ${capacity} entries`);
    columns.buffers[at] = bytes;
    columns.starts[at] = keyStart;
    columns.lengths[at] = keyLength;
    columns.valueLengths[at] = valueLength;
    columns.kinds[at] = KIND_CODES[kind];
  };
  for (const record of readLogRange(fs, request.walDirectory, request.fromSequence, request.toSequence, arena)) {
    if (record.firstSeq >= request.fromSequence && record.lastSeq <= request.toSequence) {
      record.visit(take);
      continue;
    }
    // A record the range cuts (only at its ends): take its entries one by one.
    let sequence = record.firstSeq;
    record.visit((...entry) => {
      if (sequence >= request.fromSequence && sequence <= request.toSequence) take(...entry);
      sequence++;
    });
  }
  return columns;
}

/**
 * The indexes of the operations to keep, in key order: the newest of each
 * key. The order is stable and the log is in sequence order, so the last of
 * each run of equal keys is the newest; no map of keys is needed.
 */
function newestPerKeyInOrder(operations: OperationColumns): Uint32Array {
  const { order, equalsNext } = stableByteOrder(operations);
  let kept = 0;
  for (let i = 0; i < order.length; i++) if (equalsNext[i] === 0) order[kept++] = order[i]!;
  return order.subarray(0, kept);
}
