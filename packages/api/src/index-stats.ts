import type { WalStats } from '@silt/wal';
import type { Durability } from '@silt/wal';
import type { IndexRecovery } from './recovery.js';

/** One live segment as `IndexStats` lists it (a segment file's own `stats()` is @silt/segments' `SegmentStats`). */
export interface LiveSegmentStats {
  readonly id: number;
  readonly entries: number;
  readonly tombstones: number;
  readonly bytes: number;
  readonly minSequence: number;
  readonly maxSequence: number;
}

/** A picture of the index at one moment, for dashboards and `silt stats`. */
export interface IndexStats {
  readonly directory: string;
  readonly durability: Durability;
  /** The manifest generation this writer serves; other processes see it after a refresh. */
  readonly generation: number;
  /** Live segments, oldest first. */
  readonly segments: readonly LiveSegmentStats[];
  readonly segmentBytes: number;
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
