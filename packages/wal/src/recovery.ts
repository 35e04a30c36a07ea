import { attempt, type FileSystem } from '@silt/fs';
import { UnsupportedWalVersionError } from './errors.js';
import { listLogFiles, type LogFileInfo } from './log-files.js';
import { parseLogFileAt } from './log-reader.js';
import { removeFiles, syncFile } from './durable-files.js';

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
  readonly droppedAfterCorruption?: {
    readonly file: string;
    readonly offset: number;
    readonly detail: string;
    readonly bytesRemoved: number;
    readonly filesRemoved: readonly string[];
  };
}

export interface RecoveredLog {
  readonly files: LogFileInfo[];
  readonly report: RecoveryReport;
}

/**
 * Reads every log file, oldest first, checking each record and the sequence
 * numbers across files. A torn tail of the newest file, or zeros written
 * ahead of its records, is cut off and the cut fsynced. Damage anywhere else throws CorruptionError, or with
 * `keepValidPrefix` truncates at the damage and deletes every later file,
 * durably, so the log is exactly its valid prefix.
 */
export async function recoverLog(fs: FileSystem, directory: string, recovery: 'strict' | 'keepValidPrefix'): Promise<RecoveredLog> {
  const files = attempt('list', directory, () => listLogFiles(fs, directory));
  let report: RecoveryReport = {};
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    const bytes = attempt('read', file.path, () => fs.readFile(file.path));
    const parsed = parseLogFileAt(bytes, files, i);
    file.lastSequence = parsed.records.at(-1)?.lastSeq;
    file.bytes = parsed.validLength;
    const { end } = parsed;
    if (end.kind === 'clean') {
      // Zeros written ahead of the records: cut, so only a writer's open file ever ends in them.
      if (parsed.validLength < bytes.length) await syncFile(fs, file.path, parsed.validLength);
      continue;
    }
    if (end.kind === 'torn') {
      await syncFile(fs, file.path, parsed.validLength);
      report = { ...report, tornTail: { file: file.path, offset: end.offset, bytesRemoved: bytes.length - end.offset, reason: end.reason } };
      continue;
    }
    if (recovery === 'strict' || end.error instanceof UnsupportedWalVersionError) throw end.error;
    await syncFile(fs, file.path, parsed.validLength);
    const removed = files.splice(i + 1);
    await removeFiles(fs, removed);
    report = {
      ...report,
      droppedAfterCorruption: {
        file: file.path,
        offset: end.offset,
        detail: end.error.message,
        bytesRemoved: bytes.length - parsed.validLength + removed.reduce((sum, f) => sum + f.bytes, 0),
        filesRemoved: removed.map((f) => f.path),
      },
    };
  }
  return { files, report };
}
