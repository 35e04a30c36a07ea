import type { CorruptionError, FileSystem } from '@silt/fs';
import { isNotFound } from '@silt/fs/internal';
import type { UnsupportedWalVersionError } from './errors.js';
import { SequenceContinuity } from './log-continuity.js';
import { listLogFiles, type LogFileInfo } from './log-files.js';
import { parseLogFileAt } from './log-reader.js';

/**
 * A read-only check of a log's files, for a tool that verifies an index
 * beside its running writer (`verifyIndex` of `silt`): the same listing,
 * parser and continuity rule the log's own recovery uses, but it changes
 * nothing and goes on past damage to check every file.
 */

/** One log file as listed. */
export interface ListedLogFile {
  /** The file's name in the log directory: `0000000000000001.log`. */
  readonly name: string;
  readonly path: string;
  /** The sequence number its name promises its first record carries. */
  readonly firstSequence: number;
  readonly bytes: number;
}

/** One log file's verdict. */
export interface LogFileCheck extends ListedLogFile {
  /**
   * ok: every record's checksum and sequence numbers verify, and no sequence
   * number is missing before it. torn: the newest file ends in an unfinished
   * write (what a crash leaves; the writer cuts it off on open). damaged:
   * see `error`. gone: deleted after it was listed (a writer removes the
   * files a flush covered).
   */
  readonly status: 'ok' | 'torn' | 'damaged' | 'gone';
  /** Intact records before the end or the damage. */
  readonly records: number;
  /** Where the damage or the torn tail starts. */
  readonly offset?: number;
  /** What is damaged: a bad record, or sequence numbers missing before this file (offset 0). */
  readonly error?: CorruptionError | UnsupportedWalVersionError;
  /** Why the tail counts as torn. */
  readonly tornReason?: string;
}

/**
 * The log files in `directory`, oldest first; none when it does not exist.
 * A writer deletes covered files after a flush, so one can vanish while it
 * is listed: it is then left out (`listLogFiles`).
 */
export function listLog(fs: FileSystem, directory: string): ListedLogFile[] {
  if (!fs.exists(directory)) return [];
  return listLogFiles(fs, directory).map(({ name, path, firstSequence, bytes }) => ({ name, path, firstSequence, bytes }));
}

/**
 * Parses every file of `files` (from `listLog`), oldest first, and checks
 * that no sequence number is missing: between the files, and between
 * `coveredSequence` (what segments hold) and the oldest file. List the
 * files before reading `coveredSequence`: a writer deletes only covered
 * files, so a file listed first can never look like a gap. After a damaged
 * or vanished file, continuity is no longer judged (its end is unknown).
 */
export function checkLog(fs: FileSystem, files: readonly ListedLogFile[], coveredSequence: number): LogFileCheck[] {
  const continuity = new SequenceContinuity(coveredSequence + 1);
  let continuityKnown = true;
  const checks: LogFileCheck[] = [];
  for (const [index, file] of files.entries()) {
    let bytes: Uint8Array;
    try {
      bytes = fs.readFile(file.path);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      checks.push({ ...file, status: 'gone', records: 0 });
      continuityKnown = false;
      continue;
    }
    const info: LogFileInfo = { ...file, bytes: bytes.length, lastSequence: undefined };
    const gap = continuityKnown ? continuity.gapBefore(info) : undefined;
    const parsed = parseLogFileAt(bytes, files, index);
    const records = parsed.records.length;
    info.lastSequence = parsed.records[records - 1]?.lastSeq;
    continuity.passed(info);
    const listed = { ...file, bytes: bytes.length, records };
    if (gap !== undefined) {
      checks.push({ ...listed, status: 'damaged', offset: 0, error: gap });
    } else if (parsed.end.kind === 'clean') {
      checks.push({ ...listed, status: 'ok' });
    } else if (parsed.end.kind === 'torn') {
      checks.push({ ...listed, status: 'torn', offset: parsed.end.offset, tornReason: parsed.end.reason });
    } else {
      checks.push({ ...listed, status: 'damaged', offset: parsed.end.offset, error: parsed.end.error });
    }
    if (parsed.end.kind === 'corrupt') continuityKnown = false;
  }
  return checks;
}
