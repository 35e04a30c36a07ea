import { join } from 'node:path';
import { droppedTailName, LOST_AND_FOUND_DIRECTORY, makeDirectoryDurably, type FileSystem } from '@silt/fs';
import { attempt } from '@silt/fs/internal';
import { syncFile } from './durable-files.js';
import type { LogFileInfo } from './log-files.js';

/**
 * What `recovery: 'keepValidPrefix'` drops is taken out of the log but never
 * destroyed: the cut-off tail of a damaged file is copied, and later files
 * are moved, into `lost+found/` beside the log files, where nothing reads or
 * deletes them. Someone can still inspect or salvage them; the log itself is
 * exactly its valid prefix.
 */

/** A stretch of log bytes set aside. */
export interface SavedBytes {
  /** The log file the bytes came from. */
  readonly file: string;
  /** Where in that file they started (0 for a whole file). */
  readonly offset: number;
  readonly bytes: number;
  /** Where they are now, in `lost+found/`. */
  readonly savedAs: string;
}

/** The damaged file whose bytes from `offset` on are dropped. */
export interface CutFile {
  readonly file: LogFileInfo;
  readonly bytes: Uint8Array;
  readonly offset: number;
}

/**
 * Sets aside the tail of `cut` (if any) and every file of `later`, durably,
 * in an order that loses nothing at any crash: the tail is written and
 * fsynced (file and directory) before the damaged file is truncated, and
 * the later files are moved newest first (so a crash midway leaves a log
 * that still ends in a gap, which the next open cuts again), then both
 * directories are fsynced. Returns what went where, oldest first.
 */
export async function setAsideDroppedLog(
  fs: FileSystem,
  directory: string,
  cut: CutFile | undefined,
  later: readonly LogFileInfo[],
): Promise<SavedBytes[]> {
  const lostAndFound = join(directory, LOST_AND_FOUND_DIRECTORY);
  await attempt('create directory', lostAndFound, () => makeDirectoryDurably(fs, lostAndFound));
  const saved: SavedBytes[] = [];
  if (cut !== undefined) saved.push(await setAsideTail(fs, lostAndFound, cut));
  const moved: SavedBytes[] = [];
  for (const file of [...later].reverse()) {
    const savedAs = join(lostAndFound, freeName(fs, lostAndFound, file.name));
    attempt('rename', file.path, () => fs.rename(file.path, savedAs));
    moved.unshift({ file: file.path, offset: 0, bytes: file.bytes, savedAs });
  }
  if (moved.length > 0) {
    await attempt('fsync directory', lostAndFound, () => fs.syncDirectory(lostAndFound));
    await attempt('fsync directory', directory, () => fs.syncDirectory(directory));
  }
  return [...saved, ...moved];
}

async function setAsideTail(fs: FileSystem, lostAndFound: string, cut: CutFile): Promise<SavedBytes> {
  const tail = cut.bytes.subarray(cut.offset);
  const savedAs = join(lostAndFound, freeName(fs, lostAndFound, droppedTailName(cut.file.name, cut.offset)));
  const handle = attempt('create', savedAs, () => fs.open(savedAs, 'createNew'));
  try {
    attempt('write', savedAs, () => handle.write(tail, 0));
    await attempt('fsync', savedAs, () => handle.sync());
  } finally {
    handle.close();
  }
  await attempt('fsync directory', lostAndFound, () => fs.syncDirectory(lostAndFound));
  await syncFile(fs, cut.file.path, cut.offset);
  return { file: cut.file.path, offset: cut.offset, bytes: tail.length, savedAs };
}

/** `name`, or `name.2`, `name.3`, … when an earlier recovery already set aside bytes under it. */
function freeName(fs: FileSystem, directory: string, name: string): string {
  let candidate = name;
  for (let n = 2; attempt('stat', directory, () => fs.exists(join(directory, candidate))); n++) candidate = `${name}.${n}`;
  return candidate;
}
