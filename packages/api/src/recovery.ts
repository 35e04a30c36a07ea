import { CorruptionError } from '@silt/fs';
import type { LogEntryVisitor, LogRangeRecord, RecoveryReport, WalRecord, WriteAheadLog } from '@silt/wal';
import { IndexDamagedError } from '@silt/segments';
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

/**
 * Damage found while opening, said so that the reader learns what to do:
 * nothing was changed, and `silt repair` is the way on.
 */
export function withRepairAdvice(error: unknown, directory: string): unknown {
  if (!(error instanceof CorruptionError) || error instanceof IndexDamagedError) return error;
  return new IndexDamagedError(directory, [error.message], { file: error.file, offset: error.offset, cause: error });
}

/**
 * Puts every log record not yet in a segment back into the memtable;
 * returns how many operations. Entries stay where they lie in the log
 * files' bytes (see LoggedEntries): no copy, decode or object per entry,
 * which would cost the open far more than reading the log does.
 */
export async function replayLog(wal: Pick<WriteAheadLog, 'replay'>, coveredSequence: number, memtable: Memtable): Promise<number> {
  let operations = 0;
  for await (const record of wal.replay(coveredSequence + 1)) {
    let sequence = record.firstSeq;
    visitEntries(record, (kind, bytes, keyStart, keyLength, valueStart, valueLength) => {
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

/**
 * Walks a record's entries as positions in its log file's bytes: in place
 * when the record can (`LogRangeRecord.visit`, no object per entry), else
 * from its entry objects, whose keys and values are views into the same
 * file. (The log's replay hands out entry objects today; a replay handing
 * out the records it parsed, which can walk, saves most of a replay's time.)
 */
function visitEntries(record: WalRecord, visitor: LogEntryVisitor): void {
  if (isVisitable(record)) {
    record.visit(visitor);
    return;
  }
  let file: Uint8Array | undefined;
  for (const entry of record.entries) {
    const { key } = entry;
    if (file?.buffer !== key.buffer) file = new Uint8Array(key.buffer);
    if (entry.kind === 'delete') visitor('delete', file, key.byteOffset, key.length, key.byteOffset + key.length, 0);
    else if (entry.value.buffer === key.buffer) {
      visitor(entry.valueIsText === true ? 'put-text' : 'put', file, key.byteOffset, key.length, entry.value.byteOffset, entry.value.length);
    } else {
      // Key and value in separate buffers: one of their own holding both (not the case for the log's replay).
      const both = new Uint8Array(key.length + entry.value.length);
      both.set(key);
      both.set(entry.value, key.length);
      visitor(entry.valueIsText === true ? 'put-text' : 'put', both, 0, key.length, key.length, entry.value.length);
    }
  }
}

function isVisitable(record: WalRecord): record is LogRangeRecord {
  return typeof (record as Partial<LogRangeRecord>).visit === 'function';
}
