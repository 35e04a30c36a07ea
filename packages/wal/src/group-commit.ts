import { IoError, SiltError, WriterFailedError, type CancelTimer, type Clock } from '@silt/fs';
import type { AcknowledgedMarkerWriter } from './acknowledged-marker.js';
import type { LogWriter } from './log-writer.js';
import type { Durability } from './wal-options.js';

/**
 * Group commit, after LevelDB's writer queue: appends only enqueue; one pump
 * takes everything queued (up to a size cap) and writes it with one write
 * call and, in 'fsync' mode, one fdatasync. Whatever is appended while that
 * write or fdatasync is in flight, or in the same event-loop turn, waits in
 * the queue and goes out together next. Rotations, syncs and close run
 * through the same queue so they see every record appended before them.
 *
 * The first I/O error is final: the records of the group that failed reject
 * with it (and are cut back out of the file, so the next open does not
 * replay them), everything queued behind rejects with WriterFailedError, and
 * so does every later call. Nothing is retried: after a failed fdatasync the
 * kernel may have dropped the pages, so a retry could acknowledge data that
 * is not on disk.
 */

/** In 'none' mode the queue is written once it holds this much. */
export const NONE_MODE_BUFFER_BYTES = 1024 * 1024;
/** The most one group writes at once, so one huge burst does not become one huge allocation. */
export const GROUP_MAX_BYTES = 4 * 1024 * 1024;

export interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

interface RecordJob {
  readonly kind: 'record';
  readonly bytes: Uint8Array;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Absent in 'none' mode, where the record was acknowledged as it was queued. */
  readonly settle: Settle<void> | undefined;
}

/** Someone waiting until the records up to `sequence` are in the files. */
interface WrittenWaiter {
  readonly sequence: number;
  readonly settle: Settle<void>;
}

interface TaskJob {
  readonly kind: 'task';
  readonly run: () => Promise<void>;
  readonly settle: Settle<void>;
}

type Job = RecordJob | TaskJob;

interface Group {
  readonly jobs: RecordJob[];
  readonly bytes: number;
  readonly rotateFirst: boolean;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class GroupCommitter {
  private acknowledged: number;
  private written: number;
  private commits = 0;
  private jobs: Job[] = [];
  private bufferedBytes = 0;
  private queuedTasks = 0;
  private writtenWaiters: WrittenWaiter[] = [];
  private running: Promise<void> | undefined;
  private failure: SiltError | undefined;
  private cancelSyncTimer: CancelTimer | undefined;
  private readonly acknowledgedListeners = new Set<(sequence: number) => void>();

  constructor(
    private readonly writer: LogWriter,
    private readonly durability: Durability,
    private readonly maxFileBytes: number,
    private readonly syncIntervalMs: number,
    private readonly clock: Clock,
    /** Names the log in WriterFailedError messages. */
    private readonly name: string,
    /** Where readers that tail the log learn how far it is acknowledged. */
    private readonly marker: AcknowledgedMarkerWriter,
  ) {
    this.acknowledged = writer.nextSequence - 1;
    this.written = this.acknowledged;
    this.publishAcknowledged();
    if (durability === 'write') this.armSyncTimer();
  }

  /**
   * Calls `listener` with the last acknowledged sequence number after each
   * group commit ('fsync' and 'write' modes), once the records are durable
   * per the mode and the marker says so, before their appends resolve.
   * Returns the unsubscribe function.
   */
  onAcknowledged(listener: (sequence: number) => void): () => void {
    this.acknowledgedListeners.add(listener);
    return () => this.acknowledgedListeners.delete(listener);
  }

  /**
   * The last sequence number acknowledged per the mode. Once the log has
   * failed it moves no more: every append above it was refused.
   */
  get durableSequence(): number {
    return this.acknowledged;
  }

  /** The last sequence number whose record is in the files (and was not refused). */
  get writtenSequence(): number {
    return this.written;
  }

  /** Group writes so far. */
  get groupCommits(): number {
    return this.commits;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** The error that will refuse the next call, if the log has failed. */
  refusal(): WriterFailedError | undefined {
    return this.failure === undefined ? undefined : new WriterFailedError(this.name, this.failure);
  }

  /**
   * Queues an encoded record; `settle` hears once it is durable per the
   * mode ('none': at once), or why it never will be. A failed log refuses it
   * through `settle`.
   */
  enqueue(bytes: Uint8Array, firstSeq: number, lastSeq: number, settle: Settle<void>): void {
    const refusal = this.refusal();
    if (refusal !== undefined) {
      settle.reject(refusal);
      return;
    }
    const buffering = this.durability === 'none';
    this.jobs.push({ kind: 'record', bytes, firstSeq, lastSeq, settle: buffering ? undefined : settle });
    this.bufferedBytes += bytes.length;
    if (buffering) {
      this.acknowledged = lastSeq;
      settle.resolve();
      if (this.bufferedBytes < NONE_MODE_BUFFER_BYTES) return;
    }
    this.kick();
  }

  /**
   * Resolves once every record up to `sequence` is in the files (in 'none'
   * mode this writes out what is buffered); rejects if the log failed before
   * it got there.
   */
  whenWritten(sequence: number): Promise<void> {
    if (sequence <= this.written) return Promise.resolve();
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    return new Promise((resolve, reject) => {
      this.writtenWaiters.push({ sequence, settle: { resolve, reject } });
      this.kick();
    });
  }

  /** Runs `run` once everything queued before it is written, with no write beside it. An error in it fails the log. */
  exclusive(run: () => Promise<void>): Promise<void> {
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    return new Promise((resolve, reject) => {
      this.jobs.push({ kind: 'task', run, settle: { resolve, reject } });
      this.queuedTasks++;
      this.kick();
    });
  }

  /** Marks the log failed; later calls are refused. */
  fail(error: unknown): SiltError {
    this.failure ??= error instanceof SiltError ? error : new IoError('write-ahead log I/O', undefined, error);
    this.stopSyncTimer();
    if (this.running === undefined) this.rejectQueued();
    return this.failure;
  }

  /**
   * Writes and syncs everything queued (in every mode) and trims the
   * newest file to its records, then waits until the
   * pump has stopped so the file can be closed under nobody. Rejects if the
   * log failed, now or before.
   */
  async drainForClose(): Promise<void> {
    this.stopSyncTimer();
    let outcome: unknown;
    try {
      await this.exclusive(() => this.writer.finish());
    } catch (error) {
      outcome = error;
    }
    while (this.running !== undefined) await this.running;
    if (outcome !== undefined) throw outcome;
    // Everything is written and synced now, in every mode: readers may tail all of it.
    this.publishAcknowledged();
  }

  /**
   * Publishes what is in the files and acknowledged: in 'none' mode only at
   * open and after a clean close, when both are the same.
   */
  private publishAcknowledged(): void {
    const position = this.writer.position;
    const sequence = Math.min(this.acknowledged, this.written);
    this.marker.publish({ sequence, fileFirstSequence: position.fileFirstSequence, offset: position.offset });
    for (const listener of this.acknowledgedListeners) listener(sequence);
  }

  private kick(): void {
    if (this.running === undefined) this.running = this.pump();
  }

  private async pump(): Promise<void> {
    try {
      await nextTurn(); // everything appended in this turn joins the first group
      while (this.failure === undefined && this.hasWorkNow()) {
        const head = this.jobs[0]!;
        if (head.kind === 'task') await this.runTask(head);
        else await this.commitGroup(this.takeGroup());
        await nextTurn(); // continuations of what just resolved append again before the next group is cut
      }
    } finally {
      this.running = undefined;
    }
    if (this.failure !== undefined) this.rejectQueued();
  }

  private hasWorkNow(): boolean {
    if (this.jobs.length === 0) return false;
    return (
      this.durability !== 'none' || this.queuedTasks > 0 || this.writtenWaiters.length > 0 || this.bufferedBytes >= NONE_MODE_BUFFER_BYTES
    );
  }

  /** The leading run of records that fits the newest file (or a fresh one), capped, at least one. */
  private takeGroup(): Group {
    const first = this.jobs[0] as RecordJob;
    const rotateFirst = this.writer.shouldRotateFor(first.bytes.length);
    const room = rotateFirst ? this.maxFileBytes : this.writer.room;
    const limit = Math.max(first.bytes.length, Math.min(GROUP_MAX_BYTES, room));
    let count = 0;
    let bytes = 0;
    for (const job of this.jobs) {
      if (job.kind !== 'record' || (count > 0 && bytes + job.bytes.length > limit)) break;
      bytes += job.bytes.length;
      count++;
    }
    const jobs = this.jobs.splice(0, count) as RecordJob[];
    this.bufferedBytes -= bytes;
    return { jobs, bytes, rotateFirst };
  }

  private async commitGroup(group: Group): Promise<void> {
    const last = group.jobs[group.jobs.length - 1]!;
    try {
      if (group.rotateFirst) await this.writer.rotate();
    } catch (error) {
      this.refuseGroup(group, error);
      return;
    }
    const mark = this.writer.mark();
    try {
      this.writer.write(
        group.jobs.map((job) => job.bytes),
        group.bytes,
        last.lastSeq,
      );
      this.commits++;
      if (this.durability === 'fsync') this.writer.datasyncNow();
    } catch (error) {
      const failure = this.fail(error);
      // Refused appends must not come back at the next open: take what reached the file out again.
      await this.writer.cutBack(mark);
      for (const job of group.jobs) job.settle?.reject(failure);
      return;
    }
    this.acknowledged = Math.max(this.acknowledged, last.lastSeq);
    this.written = last.lastSeq;
    // 'none' mode acknowledged at enqueue, before any byte was written: tailing readers see those at flushes only.
    if (this.durability !== 'none') this.publishAcknowledged();
    for (const job of group.jobs) job.settle?.resolve();
    this.wakeWrittenWaiters();
  }

  private refuseGroup(group: Group, error: unknown): void {
    const failure = this.fail(error);
    for (const job of group.jobs) job.settle?.reject(failure);
  }

  private wakeWrittenWaiters(): void {
    if (this.writtenWaiters.length === 0) return;
    const waiting = this.writtenWaiters;
    this.writtenWaiters = waiting.filter((waiter) => waiter.sequence > this.written);
    for (const waiter of waiting) if (waiter.sequence <= this.written) waiter.settle.resolve();
  }

  private async runTask(task: TaskJob): Promise<void> {
    this.jobs.shift();
    this.queuedTasks--;
    try {
      await task.run();
    } catch (error) {
      task.settle.reject(this.fail(error));
      return;
    }
    task.settle.resolve();
  }

  /** 'write' mode: fdatasync what was written every `syncIntervalMs`, on the clock. */
  private armSyncTimer(): void {
    this.cancelSyncTimer = this.clock.setTimer(this.syncIntervalMs, () => {
      if (this.failure !== undefined) return;
      this.armSyncTimer();
      this.backgroundSync();
    });
  }

  private stopSyncTimer(): void {
    this.cancelSyncTimer?.();
    this.cancelSyncTimer = undefined;
  }

  private backgroundSync(): void {
    if (this.failure !== undefined) return;
    this.writer.datasync().catch((error: unknown) => this.fail(error));
  }

  private rejectQueued(): void {
    const refusal = this.refusal();
    const jobs = this.jobs;
    const waiters = this.writtenWaiters;
    this.jobs = [];
    this.writtenWaiters = [];
    this.bufferedBytes = 0;
    this.queuedTasks = 0;
    for (const job of jobs) job.settle?.reject(refusal);
    for (const waiter of waiters) waiter.settle.reject(refusal);
  }
}
