import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isNotFound, nodeFileSystem } from '@silt/fs';
import { ReadOnlyIndex, type ReadOnlyIndexOptions } from '@silt/reader';
import { IndexDamagedError, isProcessAlive, MANIFEST_FILE, WRITER_LOCK_FILE, WRITER_PID_FILE } from '@silt/segments';
import { Index, type IndexOptions, type IndexStats } from '../index.js';
import { IndexLayout, SEGMENTS_DIRECTORY, WAL_DIRECTORY } from '../index-layout.js';
import { auditMissingManifest } from '../segment-audit.js';
import { UsageError } from './cli-errors.js';
import { unlessAborted } from './interrupts.js';

/** The names an index directory holds (DESIGN.md, "On disk"), SQLite's companions of the manifest included. */
const INDEX_ENTRIES = new Set([MANIFEST_FILE, `${MANIFEST_FILE}-wal`, `${MANIFEST_FILE}-shm`, WRITER_LOCK_FILE, WRITER_PID_FILE, WAL_DIRECTORY, SEGMENTS_DIRECTORY]);

export type DirectoryKind = 'missing' | 'empty' | 'index' | 'other' | 'file';

/** What is at `directory`: nothing, an empty directory, a silt index, something else. */
export function directoryKind(directory: string): DirectoryKind {
  let entries: string[];
  try {
    if (!statSync(directory).isDirectory()) return 'file';
    entries = readdirSync(directory);
  } catch (error) {
    if (isNotFound(error)) return 'missing';
    throw error;
  }
  if (entries.length === 0) return 'empty';
  return entries.includes(MANIFEST_FILE) ? 'index' : 'other';
}

/** Whether everything in `directory` is a name silt itself writes: the test before `silt demo --fresh` deletes it. */
export function holdsOnlyIndexFiles(directory: string): boolean {
  return readdirSync(directory).every((name) => INDEX_ENTRIES.has(name));
}

/** A UsageError unless `directory` holds an index: read commands never create one. */
export function requireIndex(directory: string): void {
  const kind = directoryKind(directory);
  if (kind === 'index') return;
  refuseLostManifest(directory, kind);
  const why = {
    missing: 'the directory does not exist',
    empty: 'the directory is empty',
    other: `the directory has no ${MANIFEST_FILE}`,
    file: 'it is a file, not a directory',
  }[kind];
  throw new UsageError(`no silt index at ${directory}: ${why}`);
}

/** An index whose manifest is gone is damaged, not foreign: say so, and point to `silt repair`. */
function refuseLostManifest(directory: string, kind: DirectoryKind): void {
  const lostManifest = kind === 'other' ? auditMissingManifest(nodeFileSystem, new IndexLayout(directory)) : undefined;
  if (lostManifest !== undefined) throw new IndexDamagedError(directory, [lostManifest]);
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
 * A UsageError when `directory` holds something other than an index: a
 * mistyped path must not fill a home directory with index files.
 */
export function refuseForeignDirectory(directory: string): void {
  const kind = directoryKind(directory);
  refuseLostManifest(directory, kind);
  if (kind === 'other' || kind === 'file') {
    throw new UsageError(`${directory} is not a silt index (${kind === 'file' ? 'it is a file' : `it holds other files and no ${MANIFEST_FILE}`}); refusing to write there`);
  }
}

/**
 * The writer, for set/del/import/compact. A missing or empty directory is
 * made an index only when `create` is set. Another writer is Index.open's
 * LockError, naming its pid.
 */
export async function openWriter(directory: string, create: boolean, options: IndexOptions = {}): Promise<Index> {
  refuseForeignDirectory(directory);
  if (!create) requireIndex(directory);
  return Index.open(directory, options);
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

export interface WriterRecord {
  readonly pid: number;
  /** Whether that process is alive; a SIGKILLed writer leaves its record behind, and its lock is free. */
  readonly running: boolean;
}

/** Who `writer.pid` says holds the writer lock; read only, the lock itself is never touched. */
export function writerRecord(directory: string): WriterRecord | undefined {
  let text: string;
  try {
    text = readFileSync(join(directory, WRITER_PID_FILE), 'utf8');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  try {
    const { pid } = JSON.parse(text) as { pid?: unknown };
    return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0 ? { pid, running: isProcessAlive(pid) } : undefined;
  } catch {
    return undefined;
  }
}
