import { join } from 'node:path';
import { LOG_ACKNOWLEDGED_FILE, logFileName, type FileHandle, type FileSystem } from '@silt/fs';
import { readAcknowledgedMarker, type AcknowledgedPosition } from './acknowledged-marker.js';
import { listLogFiles } from './log-files.js';
import { FORMAT_MAX_RECORD_BYTES, probeRecord, RECORD_HEADER_BYTES, viewOf, type DecodedRecord } from './record-format.js';

/**
 * What one `LogTail.read` did:
 * - `read`: handed over `records` (possibly none); `acknowledged` is the
 *   writer's acknowledged sequence number (0 with no marker: nothing is
 *   tailed then), and `stalled` says why it stopped short of it, if it did
 *   (bytes that are not a whole record yet: the next event retries).
 * - `gone`: the log no longer holds `missing`, the next sequence number
 *   wanted: a flush covered it and the file was deleted. The caller moves
 *   to a newer generation and `skipTo` past what it covers.
 */
export type TailRead =
  | { readonly kind: 'read'; readonly records: number; readonly acknowledged: number; readonly stalled: string | undefined }
  | { readonly kind: 'gone'; readonly missing: number };

/** Bytes read from a log file at a time; a longer record gets a buffer of its own size. */
const CHUNK_BYTES = 1024 * 1024;

interface OpenFile {
  readonly firstSequence: number;
  readonly handle: FileHandle;
  /** Where the next record to hand over starts. */
  offset: number;
}

/**
 * Follows a log another process is writing, from a sequence number on,
 * handing over each record once, in order, and none past the writer's
 * acknowledged marker: a reader never shows a write before the writer
 * acknowledged it. Reads go through the file system seam, record by record;
 * nothing is cut, locked or written. Partial bytes at the tail are "not yet",
 * never an error. Rotation is followed by name (the file after a complete
 * one is named for the next sequence number); a deleted file that is still
 * open stays readable, and one deleted before it was opened is `gone`.
 *
 * Not thread-safe and synchronous: one owner calls `read` when woken.
 */
export class LogTail {
  private next: number;
  private file: OpenFile | undefined;
  private markerHandle: FileHandle | undefined;
  private buffer = new Uint8Array(CHUNK_BYTES);
  private closed = false;

  constructor(
    private readonly fs: FileSystem,
    private readonly directory: string,
    nextSequence: number,
  ) {
    this.next = nextSequence;
  }

  /** The next sequence number `read` will hand over. */
  get nextSequence(): number {
    return this.next;
  }

  /** The writer's acknowledged position now, or undefined with no readable marker. */
  acknowledged(): AcknowledgedPosition | undefined {
    const handle = this.openMarker();
    return handle === undefined ? undefined : readAcknowledgedMarker(this.fs, this.directory, handle);
  }

  /**
   * Hands acknowledged records past `nextSequence` to `visit`, in order,
   * until it has read about `maxBytes` or reached the acknowledged position.
   * A record's keys and values are views into a buffer reused by the next
   * read: copy what must outlive the call.
   */
  read(visit: (record: DecodedRecord) => void, maxBytes = 4 * CHUNK_BYTES): TailRead {
    const marker = this.closed ? undefined : this.acknowledged();
    if (marker === undefined || marker.sequence < this.next) {
      return { kind: 'read', records: 0, acknowledged: marker?.sequence ?? 0, stalled: undefined };
    }
    let records = 0;
    let bytes = 0;
    let finished: { readonly firstSequence: number; readonly next: number } | undefined;
    while (this.next <= marker.sequence && bytes < maxBytes) {
      const file = this.file ?? this.openFileHolding();
      if (file === undefined) return { kind: 'gone', missing: this.next };
      if (finished?.firstSequence === file.firstSequence && finished.next === this.next) {
        // A damaged log (a file emptied or cut short, the one after it missing) would lead back to the file just read, forever.
        this.closeFile();
        const stalled = `sequence numbers from ${this.next} are missing: ${logFileName(file.firstSequence)} ends before them`;
        return { kind: 'read', records, acknowledged: marker.sequence, stalled };
      }
      const step = this.readFrom(file, marker, visit);
      records += step.records;
      bytes += step.bytes;
      if (step.stalled !== undefined) return { kind: 'read', records, acknowledged: marker.sequence, stalled: step.stalled };
      if (step.fileDone) {
        finished = { firstSequence: file.firstSequence, next: this.next };
        this.closeFile();
      } else if (step.records === 0) break;
    }
    return { kind: 'read', records, acknowledged: marker.sequence, stalled: undefined };
  }

  /** The first sequence number of the log file open for reading (during `read`'s visits: the file of the record visited). */
  get openFileFirstSequence(): number | undefined {
    return this.file?.firstSequence;
  }

  /**
   * Moves past `record`, which another tail of the same log just read from
   * the file named for `fileFirstSequence`, without reading it again: it
   * must be the next record this tail would hand over. The open file stays
   * open when the record lies at its offset, so the next read goes on from
   * there; otherwise the next read locates its file afresh.
   */
  passOver(record: DecodedRecord, fileFirstSequence: number): void {
    if (record.firstSeq !== this.next) {
      throw new RangeError(`record ${record.firstSeq}..${record.lastSeq} is not the next one (${this.next}) of this tail`);
    }
    const file = this.file;
    if (file !== undefined && file.firstSequence === fileFirstSequence && file.offset === record.offset) file.offset += record.length;
    else this.closeFile();
    this.next = record.lastSeq + 1;
  }

  /**
   * Records below `sequence` are no longer wanted (a generation covers
   * them): the next read starts at `sequence`, locating its file afresh.
   */
  skipTo(sequence: number): void {
    if (sequence <= this.next) return;
    this.next = sequence;
    this.closeFile();
  }

  close(): void {
    this.closed = true;
    this.closeFile();
    this.markerHandle?.close();
    this.markerHandle = undefined;
  }

  private openMarker(): FileHandle | undefined {
    if (this.markerHandle === undefined) {
      try {
        this.markerHandle = this.fs.open(join(this.directory, LOG_ACKNOWLEDGED_FILE), 'read');
      } catch {
        return undefined; // No marker (yet): nothing past the segments is tailed.
      }
    }
    return this.markerHandle;
  }

  /**
   * Opens the file holding `next`: after a complete file, the next one is
   * named for it (FORMAT.md: no gap between files); otherwise (a first read,
   * a skip) the newest file whose name is at or below it.
   */
  private openFileHolding(): OpenFile | undefined {
    try {
      const path = join(this.directory, logFileName(this.next));
      this.file = { firstSequence: this.next, handle: this.fs.open(path, 'read'), offset: 0 };
      return this.file;
    } catch {
      return this.locate();
    }
  }

  private locate(): OpenFile | undefined {
    const candidates = listLogFiles(this.fs, this.directory).filter((file) => file.firstSequence <= this.next);
    const found = candidates.at(-1);
    if (found === undefined) return undefined;
    try {
      const handle = this.fs.open(found.path, 'read');
      this.file = { firstSequence: found.firstSequence, handle, offset: 0 };
      return this.file;
    } catch {
      return undefined; // Deleted between the listing and the open: gone, as if never listed.
    }
  }

  /**
   * Reads records of one file from its offset up to what the marker allows:
   * the marker's offset in the marker's file, the whole of an older file
   * (complete: rotation trims and syncs it before the next one starts).
   */
  private readFrom(
    file: OpenFile,
    marker: AcknowledgedPosition,
    visit: (record: DecodedRecord) => void,
  ): { records: number; bytes: number; fileDone: boolean; stalled: string | undefined } {
    const isMarkerFile = file.firstSequence === marker.fileFirstSequence;
    if (file.firstSequence > marker.fileFirstSequence) return { records: 0, bytes: 0, fileDone: false, stalled: undefined };
    const limit = isMarkerFile ? marker.offset : file.handle.size();
    let records = 0;
    let bytes = 0;
    while (file.offset < limit && this.next <= marker.sequence) {
      const chunk = this.readChunk(file, limit);
      if (typeof chunk === 'string') return { records, bytes, fileDone: false, stalled: chunk };
      const view = viewOf(chunk);
      let at = 0;
      while (at < chunk.length && this.next <= marker.sequence) {
        const probe = probeRecord(chunk, view, at, file.offset + at);
        if (probe.kind !== 'valid') {
          if (at === 0)
            return { records, bytes, fileDone: false, stalled: `no whole record at offset ${file.offset} of ${file.firstSequence}` };
          break;
        }
        const record = probe.record;
        if (record.firstSeq > this.next)
          return { records, bytes, fileDone: false, stalled: `sequence numbers from ${this.next} are missing` };
        if (record.lastSeq >= this.next) {
          visit(record);
          records++;
          this.next = record.lastSeq + 1;
        }
        at += record.length;
      }
      file.offset += at;
      bytes += at;
    }
    return { records, bytes, fileDone: !isMarkerFile && file.offset >= limit, stalled: undefined };
  }

  /**
   * The bytes from the file's offset up to `limit`, at most a chunk, but
   * always a whole first record (its length read from its header): a view
   * into the reused buffer, or why there is no whole record to read yet.
   * One read, as a rule: a client reads the log after each of its writes,
   * so a read for the header alone would be a second system call each time.
   */
  private readChunk(file: OpenFile, limit: number): Uint8Array | string {
    const available = limit - file.offset;
    if (available < RECORD_HEADER_BYTES) return `${available} bytes at offset ${file.offset} are less than a record header`;
    const chunk = this.readAt(file, file.offset, Math.min(available, CHUNK_BYTES));
    const length = chunk.length < RECORD_HEADER_BYTES ? 0 : viewOf(chunk).getUint32(8, true);
    if (length < RECORD_HEADER_BYTES || length > FORMAT_MAX_RECORD_BYTES || length > available) {
      return `the record at offset ${file.offset} is not whole yet`;
    }
    return length <= chunk.length ? chunk : this.readAt(file, file.offset, length);
  }

  private readAt(file: OpenFile, position: number, length: number): Uint8Array {
    if (this.buffer.length < length) this.buffer = new Uint8Array(length);
    const target = this.buffer.subarray(0, length);
    const read = file.handle.read(target, position);
    return target.subarray(0, read);
  }

  private closeFile(): void {
    this.file?.handle.close();
    this.file = undefined;
  }
}
