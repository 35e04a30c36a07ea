import { join } from 'node:path';
import { logFileName, sequenceOfLogFile, type FileSystem } from '@silt/fs';
import { isNotFound } from '@silt/fs/internal';

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
 * set aside, which is no longer part of the log. A file deleted between the
 * listing and its stat is left out, as if listed a moment later: a writer
 * deletes the files a flush covered while readers in other processes list.
 */
export function listLogFiles(fs: FileSystem, directory: string): LogFileInfo[] {
  const files: LogFileInfo[] = [];
  for (const name of fs.list(directory)) {
    const sequence = sequenceOfLogFile(name);
    if (sequence === undefined) continue;
    const size = sizeOfFile(fs, join(directory, name));
    if (size !== undefined) files.push(newLogFileInfo(directory, sequence, size));
  }
  return files.sort((a, b) => a.firstSequence - b.firstSequence);
}

/** The size of a plain file; undefined for a directory or a file that no longer exists. */
function sizeOfFile(fs: FileSystem, path: string): number | undefined {
  try {
    const stat = fs.stat(path);
    return stat.isFile ? stat.size : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
