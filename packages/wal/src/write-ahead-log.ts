import { resolve } from 'node:path';
import { ClosedError, type FileSystem, makeDirectoryDurably, type SiltError, ValidationError } from '@silt/fs';
import { attempt } from '@silt/fs/internal';
import { AcknowledgedMarkerWriter } from './acknowledged-marker.js';
import { GroupCommitter } from './group-commit.js';
import { parseLogFileAt } from './log-reader.js';
import { LogWriter } from './log-writer.js';
import {
  encodedEntryBytes,
  encodeRecord,
  originsBytes,
  RECORD_HEADER_BYTES,
  type DecodedRecord,
  type WriteOrigin,
} from './record-format.js';
import { recoverLog, type RecoveredLog, type RecoveryReport } from './recovery.js';
import type { LogFileInfo } from './log-files.js';
import { describe } from './describe-value.js';
import { validateEntries, type LogRangeRecord, type WalEntryInput } from './wal-entry.js';
import {
  checkSequenceArgument,
  coalesceOption,
  originOption,
  resolveWalOptions,
  type AppendOptions,
  type ResolvedWalOptions,
  type WalOptions,
} from './wal-options.js';
import { COALESCED_APPEND_BYTES, TURN_RECORD_BYTES, TurnRecord } from './turn-record.js';

/** What `appendNow` hands back at once. */
export interface Appended {
  /** The sequence number of the first entry; the others follow one by one. */
  readonly firstSequence: number;
  readonly lastSequence: number;
  /**
   * Resolves once the entries are durable per the mode; rejects with the
   * IoError, or WriterFailedError, that failed the log first. Appends that
   * coalesced into one record share this promise.
   */
  readonly durable: Promise<void>;
  /**
   * The append's record, when it has one of its own (an append that joined
   * this turn's shared record has none: that one is encoded at the end of
   * the turn). Its entries' bytes never change afterwards (only the header
   * is stamped when the record is written), so a caller may hold on to them
   * instead of copying its keys and values: `visitEncodedRecord` of
   * `@silt/wal/internal` walks them.
   */
  readonly record?: Uint8Array;
}

export interface WalStats {
  readonly files: number;
  readonly bytes: number;
  readonly lastSequence: number;
  readonly durableSequence: number;
  /** Group writes so far (each one write call). */
  readonly groupCommits: number;
  /** fdatasyncs of log files so far (group commits in 'fsync' mode, background, rotation, sync, close). */
  readonly syncs: number;
  /**
   * Why the acknowledged marker stopped being published (FORMAT.md, "The
   * acknowledged marker"): readers then see writes at flushes only. The log
   * itself goes on.
   */
  readonly acknowledgedMarkerError: SiltError | undefined;
}

/**
 * The write-ahead log of one directory. One process writes a directory at a
 * time (the index's writer lock guarantees it; the log itself takes no lock).
 */
export class WriteAheadLog {
  /** What open found and repaired. */
  readonly recoveryReport: RecoveryReport;
  private nextSequence: number;
  private closing: Promise<void> | undefined;
  /**
   * What open parsed, by file path, for the first replay: recovery read and
   * checked every record past `nextSequence` already, and an index replays
   * exactly those right after open. Dropped at the first append (the
   * newest file's list would be stale), and as each file is replayed.
   */
  private recovered: Map<string, readonly DecodedRecord[]> | undefined;
  /** This turn's coalescing appends, not yet handed to the group committer. */
  private turnRecord: TurnRecord | undefined;

  private constructor(
    readonly directory: string,
    private readonly options: ResolvedWalOptions,
    private readonly writer: LogWriter,
    private readonly committer: GroupCommitter,
    recovered: RecoveredLog,
    private readonly marker: AcknowledgedMarkerWriter,
  ) {
    this.recoveryReport = recovered.report;
    this.recovered = recovered.records;
    this.nextSequence = writer.nextSequence;
  }

  /**
   * Opens (creating it durably if missing) the log in `directory`: checks
   * every file not wholly below `nextSequence`, and that no sequence number
   * from `nextSequence` on is missing, cuts a torn tail, and continues after
   * the last record.
   */
  static async open(directory: string, options?: WalOptions): Promise<WriteAheadLog> {
    if (typeof directory !== 'string' || directory.length === 0) {
      throw new ValidationError(`WriteAheadLog.open takes a directory path, got ${describe(directory)}`);
    }
    const resolved = resolveWalOptions(options);
    const path = resolve(directory);
    const { fs } = resolved;
    await attempt('create directory', path, () => makeDirectoryDurably(fs, path));
    const recovered = await recoverLog(fs, path, resolved.recovery, resolved.nextSequence);
    const writer = await LogWriter.open(
      fs,
      path,
      recovered.files,
      resolved.nextSequence ?? 1,
      resolved.maxFileBytes,
      resolved.durability === 'fsync',
    );
    const name = `write-ahead log ${path}`;
    const marker = AcknowledgedMarkerWriter.open(fs, path);
    const { durability, maxFileBytes, syncIntervalMs, clock } = resolved;
    const committer = new GroupCommitter(writer, durability, maxFileBytes, syncIntervalMs, clock, name, marker);
    return new WriteAheadLog(path, resolved, writer, committer, recovered, marker);
  }

  /**
   * Calls `listener(sequence)` each time more of the log is acknowledged
   * ('fsync' and 'write' modes; at a clean close in every mode), after the
   * acknowledged marker was published and before the appends resolve: the
   * hook for in-process followers such as a change feed. Returns the
   * unsubscribe function. A listener must not throw.
   */
  onAcknowledged(listener: (sequence: number) => void): () => void {
    return this.committer.onAcknowledged(listener);
  }

  /** The last sequence number handed out (0 when none). */
  get lastSequence(): number {
    return this.nextSequence - 1;
  }

  /**
   * The last sequence number acknowledged per the durability mode. Once the
   * log has failed it moves no more: see `refusedFrom`.
   */
  get durableSequence(): number {
    return this.committer.durableSequence;
  }

  /**
   * Undefined while the log works. Once it has failed: the first sequence
   * number it refused. Every append from there on rejected (and what of it
   * reached the file was cut off again), every one below was acknowledged.
   */
  get refusedFrom(): number | undefined {
    return this.committer.failed ? this.committer.durableSequence + 1 : undefined;
  }

  /**
   * Appends one atomic batch and returns at once the sequence numbers it
   * took, with a promise for when they are durable per the mode. A refusal
   * is thrown, and then nothing is written and no number taken:
   * ValidationError (bad input, a batch over `maxRecordBytes`),
   * ClosedError, or WriterFailedError once the log has failed. With
   * `coalesce`, the batch may share a record with the other coalescing
   * appends of this event-loop turn; every append still reaches the log in
   * call order.
   */
  appendNow(entries: readonly WalEntryInput[], options?: AppendOptions): Appended {
    const coalesce = coalesceOption(options);
    const origin = originOption(options);
    const entryBytes = this.checkedEntryBytes(entries, origin);
    if (coalesce && entryBytes <= COALESCED_APPEND_BYTES) return this.joinTurnRecord(entries, entryBytes, origin);
    const { firstSequence, lastSequence, record } = this.ownRecord(entries, entryBytes, origin);
    const durable = new Promise<void>((resolve, reject) =>
      this.committer.enqueue(record, firstSequence, lastSequence, { resolve, reject }),
    );
    return { firstSequence, lastSequence, durable, record };
  }

  /**
   * `appendNow` for a caller that only waits: a record of its own, and a
   * promise that resolves with its first sequence number once it is durable
   * per the mode, or rejects with what refused it.
   */
  append(entries: readonly WalEntryInput[]): Promise<number> {
    return new Promise((resolve, reject) => {
      const { firstSequence, lastSequence, record } = this.ownRecord(entries, this.checkedEntryBytes(entries));
      this.committer.enqueue(record, firstSequence, lastSequence, { resolve: () => resolve(firstSequence), reject });
    });
  }

  /**
   * Resolves once every record up to `sequence` is in the log files, where
   * `replay` and `readLogRange` find it (in 'none' mode this writes out what
   * is buffered, without an fdatasync); rejects if the log failed first.
   */
  whenWritten(sequence: number): Promise<void> {
    try {
      checkSequenceArgument('whenWritten', sequence);
      this.checkOpen();
      if (sequence > this.lastSequence)
        throw new ValidationError(`whenWritten(${sequence}): the last sequence number handed out is ${this.lastSequence}`);
    } catch (error) {
      return Promise.reject(error);
    }
    this.sealTurnRecord();
    return this.committer.whenWritten(sequence);
  }

  /**
   * Records whose last sequence number is at least `fromSequence`, oldest
   * first, as written to the files so far. Each can walk its entries in
   * place (`visit`), without an object per entry; `entries` builds them.
   */
  async *replay(fromSequence = 0): AsyncIterableIterator<LogRangeRecord> {
    const from = checkSequenceArgument('replay', fromSequence);
    this.checkOpen();
    // Walk by name rather than a snapshot, so a rotation during the replay is followed.
    let previous = 0;
    for (;;) {
      const files = this.writer.files;
      const index = files.findIndex((file) => file.firstSequence > previous);
      const file = files[index];
      if (file === undefined) {
        this.recovered = undefined; // a later replay reads the files as they are then
        return;
      }
      previous = file.firstSequence;
      if (file.lastSequence === undefined || file.lastSequence < from) {
        this.recovered?.delete(file.path); // not needed: let its bytes go
        continue;
      }
      for (const record of this.recordsOf(files, index)) {
        if (record.lastSeq >= from) yield record;
      }
    }
  }

  /** Deletes, durably, the files whose records all lie before `sequence`. The newest file is always kept. */
  async truncateBefore(sequence: number): Promise<void> {
    checkSequenceArgument('truncateBefore', sequence);
    this.checkWritable();
    try {
      await this.writer.deleteFilesBefore(sequence);
    } catch (error) {
      throw this.committer.fail(error);
    }
  }

  /** Starts a new file for the records appended from now on. A no-op while the newest file is empty. */
  rotate(): Promise<void> {
    return this.whenWritable(() => this.committer.exclusive(() => this.writer.rotate()));
  }

  /** Makes everything appended so far durable (written and fdatasynced), in every mode. */
  sync(): Promise<void> {
    return this.whenWritable(() => this.committer.exclusive(() => this.writer.datasync()));
  }

  /**
   * Makes everything appended durable and closes the file. Idempotent.
   * Rejects (after closing) if the log failed, since then not everything
   * acknowledged could be made durable.
   */
  close(): Promise<void> {
    this.recovered = undefined;
    if (this.closing === undefined) this.sealTurnRecord();
    this.closing ??= this.committer.drainForClose().finally(async () => {
      this.marker.close();
      await this.writer.close();
    });
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  stats(): WalStats {
    return {
      files: this.writer.files.length,
      bytes: this.writer.totalBytes,
      lastSequence: this.lastSequence,
      durableSequence: this.durableSequence,
      groupCommits: this.committer.groupCommits,
      syncs: this.writer.syncs,
      acknowledgedMarkerError: this.marker.error,
    };
  }

  /** A file's records: as open parsed them, the first time, unless appends came since; else read and checked now. */
  private recordsOf(files: readonly LogFileInfo[], index: number): readonly DecodedRecord[] {
    const file = files[index]!;
    const recovered = this.recovered?.get(file.path);
    if (recovered !== undefined) {
      this.recovered!.delete(file.path);
      return recovered;
    }
    const bytes = attempt('read', file.path, () => this.fs.readFile(file.path));
    const parsed = parseLogFileAt(bytes, files, index);
    if (parsed.end.kind === 'corrupt') throw parsed.end.error;
    return parsed.records;
  }

  private get fs(): FileSystem {
    return this.options.fs;
  }

  /**
   * The bytes the entries take in a record, header not counted, once the
   * log is known to be writable and the entries valid and small enough.
   */
  private checkedEntryBytes(entries: readonly WalEntryInput[], origin?: WriteOrigin): number {
    this.checkWritable();
    validateEntries(entries);
    let entryBytes = 0;
    for (const entry of entries) entryBytes += encodedEntryBytes(entry);
    const bytes = RECORD_HEADER_BYTES + entryBytes + originsBytes(origin === undefined ? 0 : 1);
    if (bytes > this.options.maxRecordBytes) {
      throw new ValidationError(
        `a batch of ${entries.length} entries encodes to ${bytes} bytes, more than maxRecordBytes (${this.options.maxRecordBytes}); split it or raise maxRecordBytes`,
      );
    }
    if (this.nextSequence + entries.length - 1 > Number.MAX_SAFE_INTEGER) {
      throw new ValidationError('sequence numbers are exhausted (they would pass 2^53 - 1)');
    }
    return entryBytes;
  }

  /** A record of its own, after this turn's record: its sequence numbers taken, encoded. */
  private ownRecord(
    entries: readonly WalEntryInput[],
    entryBytes: number,
    origin?: WriteOrigin,
  ): { firstSequence: number; lastSequence: number; record: Uint8Array } {
    this.sealTurnRecord();
    const firstSequence = this.takeSequences(entries.length);
    const origins = origin === undefined ? [] : [origin];
    const record = encodeRecord(firstSequence, entries, RECORD_HEADER_BYTES + entryBytes + originsBytes(origins.length), origins);
    return { firstSequence, lastSequence: this.nextSequence - 1, record };
  }

  private takeSequences(count: number): number {
    this.recovered = undefined;
    const first = this.nextSequence;
    this.nextSequence += count;
    return first;
  }

  /** A coalescing append joins this turn's record, which goes to the committer at the end of the turn. */
  private joinTurnRecord(entries: readonly WalEntryInput[], entryBytes: number, origin: WriteOrigin | undefined): Appended {
    const limit = Math.min(TURN_RECORD_BYTES, this.options.maxRecordBytes);
    if (this.turnRecord?.wouldPass(entryBytes, limit, origin) === true) this.sealTurnRecord();
    let record = this.turnRecord;
    if (record === undefined) {
      const fresh = new TurnRecord(this.nextSequence);
      record = this.turnRecord = fresh;
      queueMicrotask(() => {
        if (this.turnRecord === fresh) this.sealTurnRecord();
      });
    }
    const firstSequence = this.takeSequences(entries.length);
    record.add(entries, entryBytes, origin);
    return { firstSequence, lastSequence: this.nextSequence - 1, durable: record.durable };
  }

  /** Hands this turn's record to the group committer: before anything appended after it, and at the end of the turn. */
  private sealTurnRecord(): void {
    const record = this.turnRecord;
    if (record === undefined) return;
    this.turnRecord = undefined;
    let bytes: Uint8Array;
    try {
      bytes = record.encode();
    } catch (error) {
      record.outcome.reject(this.committer.fail(error)); // a bug, not the input: validated as it joined
      return;
    }
    this.committer.enqueue(bytes, record.firstSequence, record.lastSequence, record.outcome);
  }

  private whenWritable(run: () => Promise<void>): Promise<void> {
    try {
      this.checkWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    this.sealTurnRecord();
    return run();
  }

  private checkOpen(): void {
    if (this.closing !== undefined) throw new ClosedError(`write-ahead log ${this.directory}`);
  }

  private checkWritable(): void {
    this.checkOpen();
    const refusal = this.committer.refusal();
    if (refusal !== undefined) throw refusal;
  }
}
