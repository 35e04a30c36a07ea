import type { FileHandle, FileSystem } from '@silt/fs';
import { attempt } from './io-step.js';
import { newLogFileInfo, type LogFileInfo } from './log-files.js';
import { sealRecord } from './record-format.js';
import { removeFiles, syncFile } from './durable-files.js';

/**
 * Owns the newest log file: appends sealed records to it, fdatasyncs it,
 * starts the next file, and deletes old files. Callers serialize writes and
 * rotations (the group committer does); `datasync` may run beside writes,
 * and concurrent calls share one fdatasync.
 */
export class LogWriter {
  /** Bytes in the newest file. */
  offset: number;
  /** Bytes of the newest file known to be on stable storage; stamped into each record. */
  syncedOffset: number;
  /** The sequence number the next record written must start with. */
  nextSequence: number;
  syncs = 0;
  private syncing: Promise<void> | undefined;

  private constructor(
    private readonly fs: FileSystem,
    private readonly directory: string,
    private readonly maxFileBytes: number,
    /** Every log file, oldest first; the last one is being appended to. */
    readonly files: LogFileInfo[],
    private handle: FileHandle,
    nextSequence: number,
  ) {
    this.offset = this.current.bytes;
    this.syncedOffset = this.offset;
    this.nextSequence = nextSequence;
  }

  /**
   * Continues the newest recovered file, or starts a new one when the log is
   * empty or `floor` jumps past it. Before anything is acknowledged the kept
   * file and the directory are synced: a crashed predecessor in 'write' mode
   * may have left them in the page cache only.
   */
  static async open(fs: FileSystem, directory: string, files: LogFileInfo[], floor: number, maxFileBytes: number): Promise<LogWriter> {
    const newest = files.at(-1);
    const continuing = newest === undefined ? floor : newest.lastSequence === undefined ? newest.firstSequence : newest.lastSequence + 1;
    const next = Math.max(continuing, floor);
    if (newest !== undefined) await syncFile(fs, newest.path);
    let handle: FileHandle;
    if (newest !== undefined && next === continuing) {
      handle = attempt('open', newest.path, () => fs.open(newest.path, 'readWrite'));
    } else {
      const fresh = newLogFileInfo(directory, next);
      handle = attempt('create', fresh.path, () => fs.open(fresh.path, 'createNew'));
      files.push(fresh);
    }
    try {
      await attempt('fsync directory', directory, () => fs.syncDirectory(directory));
    } catch (error) {
      handle.close();
      throw error;
    }
    return new LogWriter(fs, directory, maxFileBytes, files, handle, next);
  }

  private get current(): LogFileInfo {
    return this.files[this.files.length - 1]!;
  }

  get totalBytes(): number {
    return this.files.reduce((sum, file) => sum + file.bytes, 0);
  }

  /** Room left in the newest file before it passes the size limit (at least one record always fits an empty file). */
  get room(): number {
    return Math.max(0, this.maxFileBytes - this.offset);
  }

  /** Whether a write of `bytes` should go to a new file. */
  shouldRotateFor(bytes: number): boolean {
    return this.offset > 0 && this.offset + bytes > this.maxFileBytes;
  }

  /**
   * Writes encoded records (in sequence order, starting at `nextSequence`)
   * with one write call. Each is sealed with the current synced offset, which
   * is what lets a reader tell a torn write from damage.
   */
  write(records: readonly Uint8Array[], totalBytes: number, lastSequence: number): void {
    const buffer = records.length === 1 ? records[0]! : Buffer.allocUnsafe(totalBytes);
    let at = 0;
    for (const record of records) {
      if (buffer !== record) buffer.set(record, at);
      sealRecord(buffer, at, this.syncedOffset);
      at += record.length;
    }
    const { handle, offset } = this;
    attempt('write', handle.path, () => handle.write(buffer, offset));
    this.offset += totalBytes;
    this.current.bytes = this.offset;
    this.current.lastSequence = lastSequence;
    this.nextSequence = lastSequence + 1;
  }

  /** fdatasyncs the newest file up to what has been written; shares an fdatasync already in flight. */
  datasync(): Promise<void> {
    if (this.syncing !== undefined) return this.syncing.then(() => this.datasync());
    if (this.syncedOffset >= this.offset) return Promise.resolve();
    const { handle, offset } = this;
    this.syncing = attempt('fdatasync', handle.path, () => handle.datasync())
      .then(() => {
        this.syncs++;
        if (handle === this.handle) this.syncedOffset = Math.max(this.syncedOffset, offset);
      })
      .finally(() => {
        this.syncing = undefined;
      });
    return this.syncing;
  }

  /**
   * fdatasyncs the newest file on this thread (the `fsync` mode's group
   * commit): the caller waits for it anyway, and a synchronous fdatasync
   * skips the thread pool's round trip, which measured as long as the
   * fdatasync itself here. One already in flight is not shared: this one
   * covers everything written so far by itself.
   */
  datasyncNow(): void {
    if (this.syncedOffset >= this.offset) return;
    const { handle, offset } = this;
    attempt('fdatasync', handle.path, () => handle.datasyncNow());
    this.syncs++;
    this.syncedOffset = Math.max(this.syncedOffset, offset);
  }

  /**
   * Starts a new file named for the next sequence number. The old file is
   * synced first and the new name made durable before anything is written to
   * it, so after a power loss no file but the newest can have lost its tail.
   */
  async rotate(): Promise<void> {
    if (this.current.lastSequence === undefined) return;
    await this.datasync();
    const fresh = newLogFileInfo(this.directory, this.nextSequence);
    const handle = attempt('create', fresh.path, () => this.fs.open(fresh.path, 'createNew'));
    this.handle.close();
    this.handle = handle;
    this.files.push(fresh);
    this.offset = 0;
    this.syncedOffset = 0;
    await attempt('fsync directory', this.directory, () => this.fs.syncDirectory(this.directory));
  }

  /** Deletes, oldest first and durably, the files whose records all lie before `sequence`; never the newest. */
  async deleteFilesBefore(sequence: number): Promise<number> {
    const doomed: LogFileInfo[] = [];
    while (this.files.length > 1) {
      const oldest = this.files[0]!;
      if (oldest.lastSequence !== undefined && oldest.lastSequence >= sequence) break;
      doomed.push(oldest);
      this.files.shift();
    }
    await removeFiles(this.fs, doomed);
    return doomed.length;
  }

  /** Closes the newest file once no fdatasync is using it. */
  async close(): Promise<void> {
    await this.syncing?.catch(() => undefined);
    this.handle.close();
  }
}

