import { dirname } from 'node:path';
import type { FileSystem } from '@silt/fs';
import { attempt } from '@silt/fs/internal';
import type { LogFileInfo } from './log-files.js';

/**
 * fsyncs a file through a handle of its own, first truncating it to
 * `truncateTo` when given, so a cut torn tail stays cut after a power loss.
 */
export async function syncFile(fs: FileSystem, path: string, truncateTo?: number): Promise<void> {
  const handle = attempt('open', path, () => fs.open(path, 'readWrite'));
  try {
    if (truncateTo !== undefined) attempt('truncate', path, () => handle.truncate(truncateTo));
    await attempt('fsync', path, () => handle.sync());
  } finally {
    handle.close();
  }
}

/** Unlinks log files, oldest first, and makes the deletions durable with one directory fsync. */
export async function removeFiles(fs: FileSystem, files: readonly LogFileInfo[]): Promise<void> {
  const first = files[0];
  if (first === undefined) return;
  for (const file of files) attempt('delete', file.path, () => fs.unlink(file.path));
  const directory = dirname(first.path);
  await attempt('fsync directory', directory, () => fs.syncDirectory(directory));
}
