import { join } from 'node:path';
import { LOG_ACKNOWLEDGED_FILE, SiltError, type FileHandle, type FileSystem } from '@silt/fs';
import { attempt, crc32 } from '@silt/fs/internal';

/**
 * The writer's acknowledged position, published for readers that tail the
 * log (FORMAT.md, "The acknowledged marker"): the last sequence number
 * acknowledged under the durability mode, and where its record ends. A
 * reader hands over no record past it, so it never shows a write before the
 * writer acknowledged it, and it learns of an idle writer's last write
 * without waiting for a later one.
 */
export interface AcknowledgedPosition {
  /** The last acknowledged sequence number; 0 when the log holds none. */
  readonly sequence: number;
  /** The first sequence number (the name) of the log file that record ends in. */
  readonly fileFirstSequence: number;
  /** Where the acknowledged bytes of that file end. */
  readonly offset: number;
}

export const ACKNOWLEDGED_MARKER_BYTES = 32;
const MARKER_MAGIC = 0x4b434153; // 'SACK' little-endian
const MARKER_VERSION = 1;
const TWO_TO_32 = 2 ** 32;

/** The 32 bytes of a marker: magic, CRC-32 of [8, 32), version, sequence, file, offset. */
export function encodeAcknowledgedMarker(position: AcknowledgedPosition, target = new Uint8Array(ACKNOWLEDGED_MARKER_BYTES)): Uint8Array {
  const view = new DataView(target.buffer, target.byteOffset, ACKNOWLEDGED_MARKER_BYTES);
  view.setUint32(0, MARKER_MAGIC, true);
  view.setUint8(8, MARKER_VERSION);
  view.setUint8(9, 0);
  view.setUint16(10, 0, true);
  setUint53(view, 12, position.sequence);
  setUint53(view, 20, position.fileFirstSequence);
  view.setUint32(28, position.offset, true);
  view.setUint32(4, crc32(target.subarray(8, ACKNOWLEDGED_MARKER_BYTES)), true);
  return target;
}

/**
 * The position in a marker's bytes, or undefined when they are not a whole
 * marker of this version: a missing or short file, or a read that met a
 * rewrite half-way (the CRC tells), which the caller retries.
 */
export function decodeAcknowledgedMarker(bytes: Uint8Array): AcknowledgedPosition | undefined {
  if (bytes.length < ACKNOWLEDGED_MARKER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, ACKNOWLEDGED_MARKER_BYTES);
  if (view.getUint32(0, true) !== MARKER_MAGIC || view.getUint8(8) !== MARKER_VERSION) return undefined;
  if (view.getUint32(4, true) !== crc32(bytes.subarray(8, ACKNOWLEDGED_MARKER_BYTES))) return undefined;
  return { sequence: getUint53(view, 12), fileFirstSequence: getUint53(view, 20), offset: view.getUint32(28, true) };
}

function setUint53(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % TWO_TO_32, true);
  view.setUint32(at + 4, Math.floor(value / TWO_TO_32), true);
}

function getUint53(view: DataView, at: number): number {
  return view.getUint32(at + 4, true) * TWO_TO_32 + view.getUint32(at, true);
}

/**
 * The writer's side: rewrites the marker in place, one 32-byte positioned
 * write per group commit, never fsynced (live readers share the page cache;
 * after a power loss nothing is tailing, and the next writer publishes its
 * recovered position before it acknowledges anything).
 *
 * A failed write of the marker must not fail the log: the group it
 * describes is already durable, and refusing it would break "a rejected
 * write is never visible". So the first failure stops publishing (readers
 * then see writes at flushes, as with no marker) and is kept for `stats()`.
 */
export class AcknowledgedMarkerWriter {
  private readonly bytes = new Uint8Array(ACKNOWLEDGED_MARKER_BYTES);
  private failure: SiltError | undefined;
  private published: AcknowledgedPosition | undefined;

  private constructor(private handle: FileHandle | undefined) {}

  /** Opens (creating) the marker of the log in `directory`; a failure here is kept as the first failure. */
  static open(fs: FileSystem, directory: string): AcknowledgedMarkerWriter {
    const path = join(directory, LOG_ACKNOWLEDGED_FILE);
    try {
      const mode = fs.exists(path) ? 'readWrite' : 'createNew';
      return new AcknowledgedMarkerWriter(attempt('open', path, () => fs.open(path, mode)));
    } catch (error) {
      const writer = new AcknowledgedMarkerWriter(undefined);
      writer.failure = asSiltError(error);
      return writer;
    }
  }

  /** The first failure to write the marker; publishing stopped there. */
  get error(): SiltError | undefined {
    return this.failure;
  }

  /** The last position written. */
  get position(): AcknowledgedPosition | undefined {
    return this.published;
  }

  publish(position: AcknowledgedPosition): void {
    const handle = this.handle;
    if (handle === undefined) return;
    try {
      encodeAcknowledgedMarker(position, this.bytes);
      attempt('write', handle.path, () => handle.write(this.bytes, 0));
      this.published = position;
    } catch (error) {
      this.failure = asSiltError(error);
      this.close();
    }
  }

  close(): void {
    const handle = this.handle;
    this.handle = undefined;
    try {
      handle?.close();
    } catch {
      // Nothing was promised about the marker's bytes; a failed close loses nothing.
    }
  }
}

function asSiltError(error: unknown): SiltError {
  if (error instanceof SiltError) return error;
  throw error;
}

/**
 * Reads the marker of the log in `directory`: undefined when there is none
 * (an index written before markers, or a writer that could not publish) or
 * when two reads in a row met a rewrite half-way.
 */
export function readAcknowledgedMarker(fs: FileSystem, directory: string, handle?: FileHandle): AcknowledgedPosition | undefined {
  const target = new Uint8Array(ACKNOWLEDGED_MARKER_BYTES);
  for (let attemptNumber = 0; attemptNumber < 3; attemptNumber++) {
    const read = handle === undefined ? readWhole(fs, join(directory, LOG_ACKNOWLEDGED_FILE), target) : handle.read(target, 0);
    if (read < ACKNOWLEDGED_MARKER_BYTES) return undefined;
    const position = decodeAcknowledgedMarker(target);
    if (position !== undefined) return position;
  }
  return undefined;
}

function readWhole(fs: FileSystem, path: string, target: Uint8Array): number {
  let handle: FileHandle;
  try {
    handle = fs.open(path, 'read');
  } catch {
    return 0;
  }
  try {
    return handle.read(target, 0);
  } finally {
    handle.close();
  }
}
