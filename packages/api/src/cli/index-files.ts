import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isNotFound } from '@silt/fs';
import { Manifest } from '@silt/segments';
import { LOST_AND_FOUND_DIRECTORY, sequenceOfLogFile } from '@silt/wal';
import { IndexLayout, WAL_DIRECTORY } from '../index-layout.js';

/**
 * Read-only looks at an index directory's files for stats, verify, watch
 * and export: the manifest through its reader role (no writer lock, no
 * changes but leases) and the write-ahead log's files by name.
 */

/** Runs `read` on the manifest opened as a reader, then closes it. */
export async function withManifest<T>(directory: string, read: (manifest: Manifest) => T | Promise<T>): Promise<T> {
  const manifest = Manifest.open(new IndexLayout(directory).manifestPath, { role: 'reader' });
  try {
    return await read(manifest);
  } finally {
    manifest.close();
  }
}

export interface WalFile {
  /** `wal/<first-seq>.log`, relative to the index directory. */
  readonly name: string;
  readonly path: string;
  readonly firstSequence: number;
  readonly bytes: number;
}

/**
 * The log files, oldest first. A writer deletes covered files after each
 * flush, so a file listed may be gone a moment later; one gone before its
 * size was read is left out.
 */
export function listWalFiles(directory: string): WalFile[] {
  const { walDirectory } = new IndexLayout(directory);
  let names: string[];
  try {
    names = readdirSync(walDirectory);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  const files: WalFile[] = [];
  for (const name of names) {
    const firstSequence = sequenceOfLogFile(name);
    if (firstSequence === undefined) continue;
    const path = join(walDirectory, name);
    try {
      files.push({ name: `${WAL_DIRECTORY}/${name}`, path, firstSequence, bytes: statSync(path).size });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return files.sort((a, b) => a.firstSequence - b.firstSequence);
}

/** Files recovery and repair set aside instead of deleting them: the operator's to look at, and to remove once done. */
export interface SetAsideFiles {
  /** What a `walRecovery: 'keepValidPrefix'` open dropped from the log: `wal/lost+found/<file>`. */
  readonly droppedFromLog: ReadonlyArray<{ readonly name: string; readonly bytes: number }>;
  /** One folder per `silt repair` run: `lost+found/repair-<time>`. */
  readonly repairs: readonly string[];
}

export function listSetAside(directory: string): SetAsideFiles {
  const { walDirectory } = new IndexLayout(directory);
  const walLostAndFound = join(walDirectory, LOST_AND_FOUND_DIRECTORY);
  const droppedFromLog = namesIn(walLostAndFound).map((name) => ({
    name: `${WAL_DIRECTORY}/${LOST_AND_FOUND_DIRECTORY}/${name}`,
    bytes: statSync(join(walLostAndFound, name)).size,
  }));
  const repairs = namesIn(join(directory, LOST_AND_FOUND_DIRECTORY)).map((name) => `${LOST_AND_FOUND_DIRECTORY}/${name}`);
  return { droppedFromLog, repairs };
}

function namesIn(directory: string): string[] {
  try {
    return readdirSync(directory).sort();
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}
