import { ValidationError, type FileSystem } from '@silt/fs';
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
 */
export async function buildSegmentFromLog(fs: FileSystem, request: FlushRequest): Promise<FlushResult> {
  const operations = readOperations(fs, request);
  if (operations.count === 0) throw new ValidationError(`log range ${request.fromSequence}..${request.toSequence} holds no operation`);
  const newest = newestPerKeyInOrder(operations);
  const builder = SegmentBuilder.create(request.segmentPath, { fs, minSequence: request.fromSequence, maxSequence: request.toSequence });
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
  const built: SegmentBuildResult = await builder.finish();
  return {
    path: built.path,
    bytes: built.bytes,
    entries: built.entries,
    tombstones: built.tombstones,
    // Copies: the keys are slices of whole log files, which must not cross threads.
    minKey: keyCopy(operations, newest[0]!),
    maxKey: keyCopy(operations, newest[newest.length - 1]!),
    minSequence: built.minSequence,
    maxSequence: built.maxSequence,
  };
}

const KIND_PUT = 0;
const KIND_PUT_TEXT = 1;
const KIND_DELETE = 2;
const KIND_CODES = { put: KIND_PUT, 'put-text': KIND_PUT_TEXT, delete: KIND_DELETE } as const;

/** The range's operations in sequence order, as columns; a value lies right after its key. */
interface OperationColumns extends KeySlices {
  count: number;
  readonly buffers: Uint8Array[];
  readonly starts: number[];
  readonly lengths: number[];
  readonly valueLengths: number[];
  readonly kinds: number[];
}

function readOperations(fs: FileSystem, request: FlushRequest): OperationColumns {
  const columns: OperationColumns = { count: 0, buffers: [], starts: [], lengths: [], valueLengths: [], kinds: [] };
  const take: LogEntryVisitor = (kind, bytes, keyStart, keyLength, _valueStart, valueLength) => {
    columns.buffers.push(bytes);
    columns.starts.push(keyStart);
    columns.lengths.push(keyLength);
    columns.valueLengths.push(valueLength);
    columns.kinds.push(KIND_CODES[kind]);
  };
  for (const record of readLogRange(fs, request.walDirectory, request.fromSequence, request.toSequence)) {
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
  columns.count = columns.kinds.length;
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

function keyCopy(operations: OperationColumns, index: number): Uint8Array {
  const start = operations.starts[index]!;
  return new Uint8Array(operations.buffers[index]!.subarray(start, start + operations.lengths[index]!));
}
