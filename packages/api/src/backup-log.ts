import { isNotFound } from '@silt/fs/internal';
import type { FileHandle, FileSystem } from '@silt/fs';
import type { AcknowledgedPosition } from '@silt/wal';
import { listLog } from '@silt/wal/internal';

/** One log file a backup copies: its name, an open handle, and how many of its bytes to take. */
export interface HeldLogFile {
  readonly name: string;
  readonly handle: FileHandle;
  readonly bytes: number;
}

/**
 * Opens the log files that hold the records after `coveredSequence` up to
 * the acknowledged position: from the file holding `coveredSequence + 1`
 * through the marker's file, cut where the marker says the acknowledged
 * bytes end (past it may be a write in progress, or the zeros written
 * ahead). Every file before the marker's is complete: the writer trims and
 * syncs a file before it starts the next.
 *
 * Open handles keep a file readable after the writer deletes it. A file
 * already gone (a flush covered it) returns undefined: the caller moves to
 * a newer generation, which covers it, and asks again.
 */
export function openLogPastGeneration(
  fs: FileSystem,
  walDirectory: string,
  coveredSequence: number,
  acknowledged: AcknowledgedPosition | undefined,
): HeldLogFile[] | undefined {
  if (acknowledged === undefined || acknowledged.sequence <= coveredSequence) return [];
  const listed = listLog(fs, walDirectory);
  const first = listed.findLastIndex((file) => file.firstSequence <= coveredSequence + 1);
  const last = listed.findIndex((file) => file.firstSequence === acknowledged.fileFirstSequence);
  if (first < 0 || last < first) return undefined;
  const held: HeldLogFile[] = [];
  try {
    for (const file of listed.slice(first, last + 1)) {
      const handle = fs.open(file.path, 'read');
      held.push({ name: file.name, handle, bytes: file === listed[last] ? acknowledged.offset : handle.size() });
    }
  } catch (error) {
    closeLogFiles(held);
    if (isNotFound(error)) return undefined;
    throw error;
  }
  return held;
}

export function closeLogFiles(files: readonly HeldLogFile[]): void {
  for (const file of files) file.handle.close();
}
