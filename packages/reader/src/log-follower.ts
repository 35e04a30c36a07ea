import { join } from 'node:path';
import { WAL_DIRECTORY, type FileSystem } from '@silt/fs';
import { LogTail, type DecodedRecord } from '@silt/wal';
import { TailTable } from './tail-table.js';

/** Log bytes read at most per `read`, so that a reader far behind catches up a slice per event-loop turn. */
const READ_SLICE_BYTES = 1024 * 1024;

/**
 * What one `LogFollower.read` did:
 * - `read`: applied `records` acknowledged log records (possibly none);
 *   `more` when the log holds more acknowledged ones than one slice.
 * - `gone`: the log no longer holds `missing`, the next sequence number
 *   wanted: a flush covered it. A newer generation takes over from there.
 * - `overflow`: the table grew past `maxTailBytes`: tailing pauses.
 * - `paused`: tailing is paused (an overflow), until a newer generation
 *   takes over enough of the table.
 */
export type FollowOutcome =
  | { readonly kind: 'read'; readonly records: number; readonly more: boolean }
  | { readonly kind: 'gone'; readonly missing: number }
  | { readonly kind: 'overflow'; readonly bytes: number; readonly limit: number }
  | { readonly kind: 'paused' };

/** Told of each record a follower applied, with the first sequence number of its log file (`LogTail.passOver`). */
export type RecordListener = (record: DecodedRecord, fileFirstSequence: number) => void;

/**
 * A reader's following of the writer's log past its generation: a
 * `LogTail` (which hands over only what the writer acknowledged) feeding a
 * `TailTable`. The reader stacks `table` above its segments.
 *
 * Memory is bounded by `maxTailBytes`: past it, tailing pauses and the
 * table stays as it is (no value already shown is taken back: dropping the
 * table would show older values again), until newer generations have taken
 * over at least half of it; then tailing goes on from where it paused.
 */
export class LogFollower {
  private current = new TailTable();
  private readonly tail: LogTail;
  private paused = false;
  private stalledBy: string | undefined;
  private readonly recordListeners = new Set<RecordListener>();

  /** @param covered what the generation served covers: tailing starts past it. */
  constructor(
    fs: FileSystem,
    indexDirectory: string,
    covered: number,
    private readonly maxTailBytes: number,
  ) {
    this.tail = new LogTail(fs, join(indexDirectory, WAL_DIRECTORY), covered + 1);
  }

  /** The table of tailed writes, newest value per key: replaced (never changed again) when a generation takes some over. */
  get table(): TailTable {
    return this.current;
  }

  /** The last sequence number whose write reads can see: the generation's or the tail's. */
  get visibleSequence(): number {
    return this.tail.nextSequence - 1;
  }

  /**
   * Why the last read stopped short of the writer's acknowledged position,
   * if it did: a record not whole yet (for a moment), or sequence numbers
   * a damaged log lacks (until a generation covers them).
   */
  get stalled(): string | undefined {
    return this.stalledBy;
  }

  /** Whether tailing is paused by an overflow. */
  get isPaused(): boolean {
    return this.paused;
  }

  /**
   * Whether the writer's marker says it acknowledged records past those
   * applied: one small read, no record read. True when the marker cannot be
   * read, so the next `read` finds out why.
   */
  hasUnread(): boolean {
    try {
      const marker = this.tail.acknowledged();
      return marker === undefined || marker.sequence >= this.tail.nextSequence;
    } catch {
      return true;
    }
  }

  /** Applies the acknowledged records past those applied, a slice at most. Synchronous: no read sees half of a record. */
  read(): FollowOutcome {
    if (this.paused) return { kind: 'paused' };
    const table = this.current;
    const budget = Math.max(1, this.maxTailBytes - table.bytes);
    const outcome = this.tail.read(
      (record) => {
        table.applyRecord(record);
        this.handOn(record);
      },
      Math.min(READ_SLICE_BYTES, budget),
    );
    if (outcome.kind === 'gone') return outcome;
    this.stalledBy = outcome.stalled;
    if (table.bytes > this.maxTailBytes) {
      this.paused = true;
      return { kind: 'overflow', bytes: table.bytes, limit: this.maxTailBytes };
    }
    const more = outcome.stalled === undefined && this.tail.nextSequence <= outcome.acknowledged;
    return { kind: 'read', records: outcome.records, more };
  }

  /**
   * A generation covering sequence numbers up to `covered` is now served:
   * the table drops what it covers, and the log is read from past it (if
   * it had not been read that far). A paused follower goes on once at most
   * half its limit is left.
   */
  coveredBy(covered: number): void {
    this.current = this.current.prunedThrough(covered);
    this.tail.skipTo(covered + 1);
    if (this.paused && this.current.bytes <= this.maxTailBytes / 2) this.paused = false;
  }

  /**
   * Calls `listener` with each record applied from now on, synchronously,
   * while its bytes are valid (they are reused by the next read): the change
   * feed's subscriptions take them instead of reading the log a second time.
   * Returns the unsubscribe.
   */
  addRecordListener(listener: RecordListener): () => void {
    this.recordListeners.add(listener);
    return () => void this.recordListeners.delete(listener);
  }

  close(): void {
    this.recordListeners.clear();
    this.tail.close();
  }

  private handOn(record: DecodedRecord): void {
    if (this.recordListeners.size === 0) return;
    const fileFirstSequence = this.tail.openFileFirstSequence!;
    for (const listener of this.recordListeners) listener(record, fileFirstSequence);
  }
}
