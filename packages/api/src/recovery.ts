import type { LogRangeRecord, RecoveryReport } from '@silt/wal';
import type { Memtable } from './memtable.js';

/** What opening the index found and did about it: `stats().recovery` and the `recovery` event. */
export interface IndexRecovery {
  /** What the log's recovery cut (a torn tail) or, with `walRecovery: 'keepValidPrefix'`, dropped. */
  readonly log: RecoveryReport;
  /** Files in `segments/` proven obsolete and deleted: temp files and uncommitted outputs of a crashed flush or merge. */
  readonly obsoleteSegmentFiles: readonly string[];
  /** Log operations put back into memory, to be flushed in the background. */
  readonly replayedOperations: number;
}

/** Whether anything beyond a replay is worth telling: a cut, a drop, or files removed. */
export function recoveryIsNoteworthy(recovery: IndexRecovery): boolean {
  return Object.keys(recovery.log).length > 0 || recovery.obsoleteSegmentFiles.length > 0;
}

/** Where replayed records come from: the log's `replay`, or (in tests) any source of records that walk their entries in place. */
export interface ReplaySource {
  replay(fromSequence: number): AsyncIterable<LogRangeRecord>;
}

/**
 * Puts every log record not yet in a segment back into the memtable;
 * returns how many operations. Entries stay where they lie in the log
 * files' bytes (see LoggedEntries): no copy, decode or object per entry,
 * which would cost the open far more than reading the log does.
 */
export async function replayLog(wal: ReplaySource, coveredSequence: number, memtable: Memtable): Promise<number> {
  let operations = 0;
  for await (const record of wal.replay(coveredSequence + 1)) {
    let sequence = record.firstSeq;
    record.visit((kind, bytes, keyStart, keyLength, valueStart, valueLength) => {
      // The first record replayed may begin below the covered sequence number.
      if (sequence > coveredSequence) {
        memtable.applyLogged(sequence, kind, bytes, keyStart, keyLength, valueStart, valueLength);
        operations++;
      }
      sequence++;
    });
  }
  return operations;
}
