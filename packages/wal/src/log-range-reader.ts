import { attempt, CorruptionError, type FileSystem } from '@silt/fs';
import { listLogFiles } from './log-files.js';
import { parseLogFileAt } from './log-reader.js';
import type { LogRangeRecord } from './wal-entry.js';

/**
 * Reads the records covering one sequence range without opening the log for
 * writing: nothing is cut, truncated or locked, so another thread or process
 * (the flush worker) can read while the writer appends. The range must be
 * wholly written; a gap in it is corruption.
 */
export function readLogRange(fs: FileSystem, directory: string, fromSequence: number, toSequence: number): LogRangeRecord[] {
  const files = listLogFiles(fs, directory);
  const records: LogRangeRecord[] = [];
  let expected = fromSequence;
  for (let i = 0; i < files.length && expected <= toSequence; i++) {
    const file = files[i]!;
    const next = files[i + 1];
    if (next !== undefined && next.firstSequence <= fromSequence) continue;
    if (file.firstSequence > toSequence) break;
    const bytes = attempt('read', file.path, () => fs.readFile(file.path));
    // The newest file may end in a write still in progress: that is its end, not damage.
    const parsed = parseLogFileAt(bytes, files, i);
    if (parsed.end.kind === 'corrupt') throw parsed.end.error;
    for (const record of parsed.records) {
      if (record.lastSeq < fromSequence || record.firstSeq > toSequence) continue;
      records.push(record);
      expected = record.lastSeq + 1;
    }
  }
  if (expected <= toSequence) {
    throw new CorruptionError(directory, undefined, `the log lacks sequence numbers ${expected}..${toSequence} that the range ${fromSequence}..${toSequence} needs`);
  }
  return records;
}
