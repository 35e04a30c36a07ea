import { CorruptionError, type FileSystem } from '@silt/fs';
import { attempt, type ScratchArena } from '@silt/fs/internal';
import { listLogFiles, type LogFileInfo } from './log-files.js';
import { parseLogFileAt } from './log-reader.js';
import type { LogRangeRecord } from './wal-entry.js';

/**
 * Reads the records covering one sequence range without opening the log for
 * writing: nothing is cut, truncated or locked, so another thread or process
 * (the flush worker) can read while the writer appends. The range must be
 * wholly written and contiguous: a missing sequence number in it (a file
 * gone, a file cut short) or damage before its end is a CorruptionError.
 * Damage past the range is left to the writer's open to judge: the newest
 * file's end may be a write still in progress.
 *
 * With `arena`, the files are read into it (see ScratchArena): the records
 * then hold slices of the arena, valid only until its next reset.
 */
export function readLogRange(
  fs: FileSystem,
  directory: string,
  fromSequence: number,
  toSequence: number,
  arena?: ScratchArena,
): LogRangeRecord[] {
  const files = listLogFiles(fs, directory);
  const first = firstFileOfRange(files, fromSequence);
  const last = lastFileOfRange(files, toSequence);
  arena?.reserve(files.slice(first, last + 1).reduce((bytes, file) => bytes + file.bytes, 0));
  const records: LogRangeRecord[] = [];
  let expected = fromSequence;
  for (let i = first; i <= last && expected <= toSequence; i++) {
    const file = files[i]!;
    const bytes = attempt('read', file.path, () => (arena === undefined ? fs.readFile(file.path) : arena.readFile(fs, file.path)));
    const parsed = parseLogFileAt(bytes, files, i);
    for (const record of parsed.records) {
      if (record.lastSeq < expected) continue;
      if (record.firstSeq > expected) {
        throw new CorruptionError(
          file.path,
          record.offset,
          `sequence numbers ${expected}–${record.firstSeq - 1} are missing from the log; the range ${fromSequence}..${toSequence} needs them`,
        );
      }
      if (record.firstSeq > toSequence) break;
      records.push(record);
      expected = record.lastSeq + 1;
    }
    if (expected <= toSequence && parsed.end.kind === 'corrupt') throw parsed.end.error;
  }
  if (expected <= toSequence) {
    throw new CorruptionError(
      directory,
      undefined,
      `the log lacks sequence numbers ${expected}..${toSequence} that the range ${fromSequence}..${toSequence} needs`,
    );
  }
  return records;
}

/** The file holding `sequence` (the last one starting at or before it), or 0. */
function firstFileOfRange(files: readonly LogFileInfo[], sequence: number): number {
  let first = 0;
  while (first + 1 < files.length && files[first + 1]!.firstSequence <= sequence) first++;
  return first;
}

/** The last file starting at or before `sequence` (-1 if none does). */
function lastFileOfRange(files: readonly LogFileInfo[], sequence: number): number {
  let last = files.length - 1;
  while (last >= 0 && files[last]!.firstSequence > sequence) last--;
  return last;
}
