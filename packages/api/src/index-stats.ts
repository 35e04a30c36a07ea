import type { WalStats } from '@silt/wal';
import type { Durability } from '@silt/wal';
import type { IndexRecovery } from './recovery.js';
import type { ReadOnlyIndexStats } from '@silt/reader';

/** One live segment as `IndexStats` lists it (a segment file's own `stats()` is @silt/segments' `SegmentStats`). */
export interface LiveSegmentStats {
  readonly id: number;
  readonly entries: number;
  readonly tombstones: number;
  readonly bytes: number;
  readonly minSequence: number;
  readonly maxSequence: number;
}

/**
 * A picture of the index at one moment, for dashboards and `silt stats`:
 * the writer's (`role: 'writer'`) or a client's or reader's, told apart by
 * `role`.
 */
export type IndexStats = WriterIndexStats | ClientIndexStats;

/** What the writer actor of this process says of itself: `WriterStats`, and who it serves. */
export interface WriterIndexStats extends WriterStats {
  readonly role: 'writer';
  /** Client processes connected to this writer now. */
  readonly clients: number;
  /** Times the writer changed since this process opened the index (it took over, or reconnected). */
  readonly writerChanges: number;
}

/** A process that does not hold the writer lock: reads served here, writes forwarded (a client) or refused (a reader). */
export interface ClientIndexStats {
  readonly role: 'client' | 'reader';
  readonly directory: string;
  /** The writer's durability mode: what an acknowledged forwarded write promises. */
  readonly durability: Durability;
  /** The manifest generation this process reads, and what its segments cover. */
  readonly generation: number;
  readonly coveredSequence: number;
  /** The last sequence number whose write this process's reads see (segments plus the log's tail). */
  readonly visibleSequence: number;
  readonly segments: readonly LiveSegmentStats[];
  readonly segmentBytes: number;
  readonly accessMode: ReadOnlyIndexStats['accessMode'];
  readonly tail: ReadOnlyIndexStats['tail'];
  readonly writer: {
    /** Whether this process has a connection to the writer now (false during a failover, and for a reader). */
    readonly connected: boolean;
    /** The writer's process id, when connected. */
    readonly pid: number | undefined;
    /** Writes and commands sent or waiting to be, not yet answered. */
    readonly pendingRequests: number;
    /** Times the writer changed since this process opened the index. */
    readonly changes: number;
  };
}

/** What the writer actor knows of the index: its memtables, segments, log, flushes and merges. */
export interface WriterStats {
  readonly directory: string;
  readonly durability: Durability;
  /** The manifest generation this writer serves; other processes see it after a refresh. */
  readonly generation: number;
  /** Live segments, oldest first. */
  readonly segments: readonly LiveSegmentStats[];
  readonly segmentBytes: number;
  /** How segments are read: the `accessMode` option, except that `mmap` reads as `file` where this process cannot map files. */
  readonly accessMode: ReadOnlyIndexStats['accessMode'];
  readonly memtable: {
    /** Entries and approximate bytes in the active memtable. */
    readonly entries: number;
    readonly bytes: number;
    /** Sealed memtables waiting for (or in) a flush. */
    readonly sealed: number;
  };
  /** Last sequence number assigned, and the last one covered by segments. */
  readonly lastSequence: number;
  readonly coveredSequence: number;
  readonly flushes: number;
  readonly merges: {
    /** Merges running now (at most `mergeThreads`). */
    readonly running: number;
    /** Merges committed since open. */
    readonly completed: number;
    /** Merges that failed in their worker (nothing changed; retried later). */
    readonly failed: number;
    /** Bytes of segments merges wrote since open (write amplification = (flushed + this) / flushed). */
    readonly bytesWritten: number;
  };
  /** Writes that had to wait because flushes fell behind. */
  readonly stalledWrites: number;
  /** Writes held back because segments passed `mergePolicy.segmentCap` (see the `backpressure` event). */
  readonly backpressuredWrites: number;
  readonly wal: WalStats;
  /**
   * What opening found and did: a torn log tail cut, damaged log records dropped (`keepValidPrefix`), obsolete files removed,
   * operations replayed.
   */
  readonly recovery: IndexRecovery;
  /** Set once a write or fsync error stopped the writer. */
  readonly failed: string | undefined;
}

/** The live segments of a generation as the stats list them, and their bytes together. */
export function liveSegmentStats(segments: readonly LiveSegmentStats[]): { segments: LiveSegmentStats[]; segmentBytes: number } {
  return {
    segments: segments.map(({ id, entries, tombstones, bytes, minSequence, maxSequence }) => ({
      id,
      entries,
      tombstones,
      bytes,
      minSequence,
      maxSequence,
    })),
    segmentBytes: segments.reduce((sum, segment) => sum + segment.bytes, 0),
  };
}
