import {
  Index,
  inspectDirectory,
  ReadOnlyIndex,
  type DirectoryInspection,
  type IndexOptions,
  type IndexStats,
  type ReadOnlyIndexOptions,
} from 'silt';
import { UsageError } from './errors.js';
import { unlessAborted } from './interrupts.js';

/**
 * How commands reach an index: readers that never take the writer lock,
 * the writer for the commands that write, and the refusals that keep a
 * mistyped path from being read as an index or filled with one.
 */

/** What is at `directory`; an index whose manifest was lost is its IndexDamagedError (pointing to `silt repair`), thrown. */
export function inspectUndamaged(directory: string): DirectoryInspection {
  const inspection = inspectDirectory(directory);
  if (inspection.damage !== undefined) throw inspection.damage;
  return inspection;
}

/** A UsageError unless `directory` holds an index: read commands never create one. */
export function requireIndex(directory: string): void {
  const { kind } = inspectUndamaged(directory);
  if (kind === 'index') return;
  const why = {
    missing: 'the directory does not exist',
    empty: 'the directory is empty',
    other: 'the directory holds other files and no index manifest',
    file: 'it is a file, not a directory',
  }[kind];
  throw new UsageError(`no silt index at ${directory}: ${why}`);
}

/**
 * A UsageError when `directory` holds something other than an index: a
 * mistyped path must not fill a home directory with index files.
 */
export function refuseForeignDirectory(directory: string): void {
  const { kind } = inspectUndamaged(directory);
  if (kind === 'other' || kind === 'file') {
    throw new UsageError(
      `${directory} is not a silt index (${kind === 'file' ? 'it is a file' : 'it holds other files and no index manifest'}); refusing to write there`,
    );
  }
}

/**
 * A reader for one command: never the writer lock, so it works while an
 * application writes. File access mode reads only the blocks a command
 * touches (a `get` on a large index does not load it whole); no watch
 * unless asked, so a one-shot command serves one fixed generation.
 */
export async function openReader(directory: string, options: ReadOnlyIndexOptions = {}): Promise<ReadOnlyIndex> {
  requireIndex(directory);
  return ReadOnlyIndex.open(directory, { accessMode: 'file', watch: false, ...options });
}

/**
 * The writer, for set/del/import/compact. A missing or empty directory is
 * made an index only when `create` is set. Another writer is Index.open's (role 'writer')
 * LockError, naming its pid.
 */
export async function openWriter(directory: string, create: boolean, options: IndexOptions = {}): Promise<Index> {
  refuseForeignDirectory(directory);
  if (!create) requireIndex(directory);
  return Index.open(directory, { role: 'writer', ...options });
}

/**
 * Runs a one-shot writer's `write`, flushes (readers see it now), lets the
 * merges the policy started finish, and closes; resolves with the
 * index's stats just before it closed. Closing at once would abort those merges, so
 * repeated `silt set` calls would pile up one small segment each. A signal
 * cuts the wait short; close then aborts what runs (a merge only rewrites,
 * so nothing is lost) and flushes what was written.
 */
export async function finishWrites(index: Index, signal: AbortSignal, write: () => Promise<void>): Promise<IndexStats> {
  try {
    await write();
    await index.flush();
    await unlessAborted(index.mergesIdle(), signal);
    return index.stats();
  } finally {
    await index.close();
  }
}
