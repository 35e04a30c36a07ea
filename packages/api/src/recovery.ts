import { CorruptionError } from '@silt/fs';
import type { RecoveryReport, WriteAheadLog } from '@silt/wal';
import { IndexDamagedError } from '@silt/segments';
import { idOf, type Memtable } from './memtable.js';

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

/**
 * Damage found while opening, said so that the reader learns what to do:
 * nothing was changed, and `silt repair` is the way on.
 */
export function withRepairAdvice(error: unknown, directory: string): unknown {
  if (!(error instanceof CorruptionError) || error instanceof IndexDamagedError) return error;
  return new IndexDamagedError(directory, [error.message], { file: error.file, offset: error.offset, cause: error });
}

/** Puts every log record not yet in a segment back into the memtable; returns how many operations. */
export async function replayLog(wal: WriteAheadLog, coveredSequence: number, memtable: Memtable): Promise<number> {
  const utf8 = new TextDecoder();
  let operations = 0;
  for await (const record of wal.replay(coveredSequence + 1)) {
    record.entries.forEach((entry, i) => {
      const sequence = record.firstSeq + i;
      if (sequence <= coveredSequence) return;
      // The id copies the key; the value is copied or decoded: replayed entries are views into whole log files.
      const id = idOf(entry.key);
      if (entry.kind === 'delete') memtable.apply(sequence, { kind: 'delete', id, valueBytes: 0 });
      else {
        const value = entry.valueIsText === true ? utf8.decode(entry.value) : new Uint8Array(entry.value);
        memtable.apply(sequence, { kind: 'put', id, value, valueBytes: entry.value.length });
      }
      operations++;
    });
  }
  return operations;
}
