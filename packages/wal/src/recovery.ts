import type { CorruptionError, FileSystem } from '@silt/fs';
import { attempt } from '@silt/fs/internal';
import { UnsupportedWalVersionError } from './errors.js';
import { SequenceContinuity } from './log-continuity.js';
import { listLogFiles, type LogFileInfo } from './log-files.js';
import { parseLogFileAt } from './log-reader.js';
import type { DecodedRecord } from './record-format.js';
import { setAsideDroppedLog, type CutFile, type SavedBytes } from './lost-and-found.js';
import { syncFile } from './durable-files.js';
import { summarizeIntactRecords } from './record-scan.js';

/**
 * What open found and repaired. A torn tail is normal after a crash; the
 * dropped part exists only with `recovery: 'keepValidPrefix'`.
 */
export interface RecoveryReport {
  readonly tornTail?: {
    readonly file: string;
    readonly offset: number;
    readonly bytesRemoved: number;
    readonly reason: string;
  };
  readonly dropped?: DroppedLog;
}

/**
 * Everything `recovery: 'keepValidPrefix'` took out of the log: it was cut
 * at the first damaged record or the first missing sequence number, and the
 * rest set aside in `lost+found/` (see `files`), not deleted.
 */
export interface DroppedLog {
  /** Why the log was cut there: the CorruptionError message `strict` would have thrown. */
  readonly reason: string;
  /** The file where the log was cut: the damaged one, or the first one after missing sequence numbers. */
  readonly file: string;
  /** Offset of the cut in `file` (0 when it is missing sequence numbers before it). */
  readonly offset: number;
  /** The first sequence number no longer in the log: the damaged record's, or the first one of the file after a gap. */
  readonly firstDroppedSequence: number;
  /** The highest sequence number an intact dropped record carries; undefined when none is intact. */
  readonly lastDroppedSequence: number | undefined;
  /** Intact records (checksum verifies) among the dropped bytes; the damaged one is not counted. */
  readonly records: number;
  /** Bytes taken out of the log, in all. */
  readonly bytes: number;
  /** Where each dropped stretch came from and where it is now, oldest first. */
  readonly files: readonly SavedBytes[];
}

export interface RecoveredLog {
  readonly files: LogFileInfo[];
  readonly report: RecoveryReport;
  /** The records of each file read (by path), as parsed: a replay right after open need not read and check them again. */
  readonly records: Map<string, readonly DecodedRecord[]>;
}

/**
 * Reads the log files, oldest first, checking each record and that the
 * sequence numbers run on without a hole from `expectedSequence` (the one
 * the caller needs next; files wholly below it are covered and not read).
 * A torn tail of the newest file, or zeros written ahead of its records, is
 * cut off and the cut fsynced. Damage or a gap throws CorruptionError, or
 * with `keepValidPrefix` ends the log there: what follows is set aside in
 * `lost+found/`, durably, and reported.
 */
export async function recoverLog(
  fs: FileSystem,
  directory: string,
  recovery: 'strict' | 'keepValidPrefix',
  expectedSequence: number | undefined,
): Promise<RecoveredLog> {
  const files = attempt('list', directory, () => listLogFiles(fs, directory));
  const continuity = new SequenceContinuity(expectedSequence);
  const records = new Map<string, readonly DecodedRecord[]>();
  let report: RecoveryReport = {};
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    const next = files[i + 1];
    if (next !== undefined && continuity.isCovered(next)) {
      noteCovered(file, next);
      continuity.skipped(file);
      continue;
    }
    const gap = continuity.gapBefore(file);
    if (gap !== undefined) {
      if (recovery === 'strict') throw gap;
      const dropped = await dropFrom(fs, directory, files, i, undefined, gap, file.firstSequence);
      return { files, report: { ...report, dropped }, records };
    }
    const bytes = attempt('read', file.path, () => fs.readFile(file.path));
    const parsed = parseLogFileAt(bytes, files, i);
    records.set(file.path, parsed.records);
    file.lastSequence = parsed.records.at(-1)?.lastSeq;
    file.bytes = parsed.validLength;
    continuity.passed(file);
    const { end } = parsed;
    if (end.kind === 'clean') {
      // Zeros written ahead of the records: cut, so only a writer's open file ever ends in them.
      if (parsed.validLength < bytes.length) await syncFile(fs, file.path, parsed.validLength);
      continue;
    }
    if (end.kind === 'torn') {
      await syncFile(fs, file.path, parsed.validLength);
      report = {
        ...report,
        tornTail: { file: file.path, offset: end.offset, bytesRemoved: bytes.length - end.offset, reason: end.reason },
      };
      continue;
    }
    if (recovery === 'strict' || end.error instanceof UnsupportedWalVersionError) throw end.error;
    const firstDropped = file.lastSequence === undefined ? file.firstSequence : file.lastSequence + 1;
    const dropped = await dropFrom(fs, directory, files, i + 1, { file, bytes, offset: end.offset }, end.error, firstDropped);
    return { files, report: { ...report, dropped }, records };
  }
  return { files, report, records };
}

/**
 * A covered file is not read. Its records all lie below the next file's
 * name, which bounds its last sequence number for replay and truncateBefore.
 */
function noteCovered(file: LogFileInfo, next: LogFileInfo): void {
  file.lastSequence = file.bytes > 0 ? next.firstSequence - 1 : undefined;
}

/**
 * Ends the log at the tail of `cut` (if given) and before `files[from]`:
 * sets both aside in lost+found and removes the later files from `files`.
 */
async function dropFrom(
  fs: FileSystem,
  directory: string,
  files: LogFileInfo[],
  from: number,
  cut: CutFile | undefined,
  error: CorruptionError,
  firstDroppedSequence: number,
): Promise<DroppedLog> {
  const later = files.slice(from);
  const intact = [cut === undefined ? undefined : summarizeIntactRecords(cut.bytes, cut.offset + 1)];
  for (const file of later) {
    const bytes = attempt('read', file.path, () => fs.readFile(file.path));
    file.bytes = bytes.length;
    intact.push(summarizeIntactRecords(bytes, 0));
  }
  const saved = await setAsideDroppedLog(fs, directory, cut, later);
  files.splice(from);
  const lastSequences = intact.flatMap((summary) => (summary?.lastSequence === undefined ? [] : [summary.lastSequence]));
  return {
    reason: error.message,
    file: error.file,
    offset: error.offset ?? 0,
    firstDroppedSequence,
    lastDroppedSequence: lastSequences.length === 0 ? undefined : Math.max(...lastSequences),
    records: intact.reduce((sum, summary) => sum + (summary?.records ?? 0), 0),
    bytes: saved.reduce((sum, piece) => sum + piece.bytes, 0),
    files: saved,
  };
}
