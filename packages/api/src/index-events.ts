import type { FlushEvent } from './flusher.js';
import type { MergeEvent } from './merge-scheduler.js';
import type { IndexRecovery } from './recovery.js';
import type { IndexRoleName } from './index-role.js';

/** Writes are being held back because segments piled up past `mergePolicy.segmentCap`. */
export interface BackpressureEvent {
  readonly segments: number;
  readonly segmentCap: number;
}

export interface IndexEvents {
  /**
   * Opening cut a torn log tail, dropped damaged log records (`walRecovery: 'keepValidPrefix'`) or removed obsolete files: what
   * `stats().recovery` says.
   */
  recovery: [IndexRecovery];
  flush: [FlushEvent];
  merge: [MergeEvent];
  backpressure: [BackpressureEvent];
  /**
   * This process's role changed: it took over as the writer when the one before it died (`'writer'`). A client that
   * reconnects to another process's writer stays a `'client'` and raises no event.
   */
  role: [IndexRoleName];
  /** A client's or reader's reads moved to a newer generation (a flush or merge committed). Never raised by the writer. */
  refresh: [generation: number];
  /** A client's or reader's reads now see every write up to `visibleSequence` (tailed from the log). Never raised by the writer. */
  tail: [visibleSequence: number];
  error: [Error];
}
