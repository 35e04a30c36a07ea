import { join } from 'node:path';
import { logFileName, sequenceOfLogFile, type FileSystem } from '@silt/fs';

/**
 * Log files are named for the sequence number of their first record
 * (`logFileName` of @silt/fs, which names every file of an index directory),
 * zero-padded so that byte order is sequence order. The newest file is never
 * deleted, so the next sequence number can always be read back: one past its
 * last record, or its name when it is empty.
 */

/** What the log knows about one of its files. */
export interface LogFileInfo {
  readonly name: string;
  readonly path: string;
  readonly firstSequence: number;
  /**
   * The last sequence number in the file; undefined while it holds no record.
   * For a file open did not read (wholly below nextSequence), an upper bound:
   * the next file's first sequence number − 1.
   */
  lastSequence: number | undefined;
  bytes: number;
}

export function newLogFileInfo(directory: string, firstSequence: number, bytes = 0): LogFileInfo {
  const name = logFileName(firstSequence);
  return { name, path: join(directory, name), firstSequence, lastSequence: undefined, bytes };
}

/**
 * The log files in a directory, oldest first. Other names (not ours) are
 * left alone, and so are subdirectories: `lost+found/` holds what recovery
 * set aside, which is no longer part of the log.
 */
export function listLogFiles(fs: FileSystem, directory: string): LogFileInfo[] {
  const files: LogFileInfo[] = [];
  for (const name of fs.list(directory)) {
    const sequence = sequenceOfLogFile(name);
    if (sequence === undefined) continue;
    const stat = fs.stat(join(directory, name));
    if (stat.isFile) files.push(newLogFileInfo(directory, sequence, stat.size));
  }
  return files.sort((a, b) => a.firstSequence - b.firstSequence);
}
