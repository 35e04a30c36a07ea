import { basename, dirname, join } from 'node:path';
import { IoError, type FileSystem } from '@silt/fs';
import { isNotFound } from '@silt/fs/internal';
import type { Manifest } from './manifest.js';
import type { SegmentRecord } from './manifest-schema.js';

/** What one collection removed. */
export interface CollectResult {
  /** Segments forgotten by the manifest (their files are gone). */
  readonly removed: number[];
  /** Bytes of the files this call deleted (a file already gone counts nothing). */
  readonly bytes: number;
}

/** The segments directory, or where segment `id`'s file lives. */
export type SegmentLocation = string | ((id: number) => string);

/**
 * Deletes the files of segments no generation in use needs, then records
 * that in the manifest. `manifest.collectable()` reclaims the leases of
 * dead reader processes first, and lists only segments removed from the
 * current generation that no live lease's generation holds. Order: unlink,
 * fsync the directory, then `markCollected`; a crash between the two only
 * means the next collection lists them again, and a missing file (ENOENT)
 * counts as deleted. A file that cannot be deleted stays listed; the first
 * such error is thrown after the others are collected.
 *
 * Segment files only go through `fs`; the manifest's own files are SQLite's
 * alone (opening and closing them here would drop its POSIX locks).
 */
export async function collectSegments(fs: FileSystem, manifest: Manifest, location: SegmentLocation): Promise<CollectResult> {
  const pathOf =
    typeof location === 'string'
      ? (segment: SegmentRecord) => join(location, basename(segment.file))
      : (segment: SegmentRecord) => location(segment.id);
  const removed: number[] = [];
  const directories = new Set<string>();
  let bytes = 0;
  let failure: IoError | undefined;
  for (const segment of manifest.collectable()) {
    const path = pathOf(segment);
    try {
      if (unlinkIfPresent(fs, path)) {
        bytes += segment.bytes;
        directories.add(dirname(path));
      }
      removed.push(segment.id);
    } catch (error) {
      failure ??= error as IoError;
    }
  }
  for (const directory of directories) {
    try {
      await fs.syncDirectory(directory);
    } catch (error) {
      // Not durable yet: leave them listed, so the next collection finishes the job.
      throw new IoError('fsync the segments directory after collecting', directory, error);
    }
  }
  if (removed.length > 0) manifest.markCollected(removed);
  if (failure !== undefined) throw failure;
  return { removed, bytes };
}

/** True if the file was there and is now unlinked; false if it was already gone. */
function unlinkIfPresent(fs: FileSystem, path: string): boolean {
  try {
    fs.unlink(path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw new IoError('remove collectable segment', path, error);
  }
}
