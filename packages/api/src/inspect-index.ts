import { join } from 'node:path';
import { nodeFileSystem, WRITER_PID_FILE, LOST_AND_FOUND_DIRECTORY, WAL_DIRECTORY, type FileSystem } from '@silt/fs';
import { isNotFound } from '@silt/fs/internal';
import { isProcessAlive, Manifest, type SegmentRecord } from '@silt/segments';
import { listLog } from '@silt/wal/internal';
import { inspectDirectory, type InspectOptions } from './inspect-directory.js';
import { IndexLayout } from './index-layout.js';
import { listIfPresent } from './segment-audit.js';

/** A log file, named relative to the index directory. */
export interface InspectedLogFile {
  /** `wal/<first-sequence>.log`. */
  readonly name: string;
  readonly firstSequence: number;
  readonly bytes: number;
}

/** The process `writer.pid` names. */
export interface WriterRecord {
  readonly pid: number;
  /** Whether that process is alive; a SIGKILLed writer leaves its record behind, and its lock is free. */
  readonly running: boolean;
}

/** A reader's lease on a generation: its files are kept while the lease lives. */
export interface ReaderRecord {
  readonly pid: number;
  readonly generation: number;
  /** When the lease moved to that generation, milliseconds since the epoch. */
  readonly since: number;
}

/** Files recovery and repair set aside instead of deleting them: the operator's to look at, and to remove once done. */
export interface SetAsideFiles {
  /** What a `walRecovery: 'keepValidPrefix'` open dropped from the log: `wal/lost+found/<file>`. */
  readonly droppedFromLog: ReadonlyArray<{ readonly name: string; readonly bytes: number }>;
  /** One folder per `silt repair` run: `lost+found/repair-<time>`. */
  readonly repairs: readonly string[];
}

/** What `inspectIndex` finds: the current generation and every other file of the index, as they are now. */
export interface IndexInspection {
  readonly directory: string;
  readonly generation: number;
  /** When the generation was committed, milliseconds since the epoch. */
  readonly committedAt: number;
  /** Every log record up to this sequence number is in a segment. */
  readonly walCoveredSequence: number;
  /** Live segments, oldest first. */
  readonly segments: readonly SegmentRecord[];
  /** The log files, oldest first. */
  readonly wal: readonly InspectedLogFile[];
  /** Who `writer.pid` names; undefined when no writer ever opened the index or the file is unreadable. */
  readonly writer: WriterRecord | undefined;
  /** Reader leases of live processes. */
  readonly readers: readonly ReaderRecord[];
  readonly setAside: SetAsideFiles;
}

/**
 * Describes an index without the writer lock and without changing it
 * (LevelDB's DumpFile, for a whole directory): the current generation and
 * its segments from the manifest, opened as a reader; the log files, as the
 * log lists them; who holds the writer lock; the live readers; and what
 * recovery and repair set aside. Works beside a running writer, whose
 * next flush may change any of it a moment later. An index whose manifest
 * was lost is an `IndexDamagedError`; a directory with no index, a
 * `ManifestNotFoundError`.
 */
export async function inspectIndex(directory: string, options: InspectOptions = {}): Promise<IndexInspection> {
  const fs = options.fs ?? nodeFileSystem;
  const { damage } = inspectDirectory(directory, { fs });
  if (damage !== undefined) throw damage;
  const layout = new IndexLayout(directory);
  const wal = listLog(fs, layout.walDirectory).map(({ name, firstSequence, bytes }) => ({
    name: `${WAL_DIRECTORY}/${name}`,
    firstSequence,
    bytes,
  }));
  const { generation, leases } = await withReaderManifest(layout, (manifest) => ({
    generation: manifest.current(),
    leases: manifest.liveLeases(),
  }));
  return {
    directory,
    generation: generation.generation,
    committedAt: generation.committedAt,
    walCoveredSequence: generation.walCoveredSequence,
    segments: generation.segments,
    wal,
    writer: writerRecord(fs, directory),
    readers: leases.map(({ pid, generation: leased, since }) => ({ pid, generation: leased, since })),
    setAside: setAsideFiles(fs, layout),
  };
}

/** Runs `read` on the manifest opened as a reader (no writer lock; nothing changed), then closes it. */
export async function withReaderManifest<T>(layout: IndexLayout, read: (manifest: Manifest) => T | Promise<T>): Promise<T> {
  const manifest = Manifest.open(layout.manifestPath, { role: 'reader' });
  try {
    return await read(manifest);
  } finally {
    manifest.close();
  }
}

/** Who `writer.pid` says holds the writer lock; read only, the lock itself is never touched. */
function writerRecord(fs: FileSystem, directory: string): WriterRecord | undefined {
  let text: string;
  try {
    text = Buffer.from(fs.readFile(join(directory, WRITER_PID_FILE))).toString('utf8');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  try {
    const { pid } = JSON.parse(text) as { pid?: unknown };
    return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0 ? { pid, running: isProcessAlive(pid) } : undefined;
  } catch {
    // Half written by a writer starting now: no writer to name yet.
    return undefined;
  }
}

function setAsideFiles(fs: FileSystem, layout: IndexLayout): SetAsideFiles {
  const walLostAndFound = join(layout.walDirectory, LOST_AND_FOUND_DIRECTORY);
  const droppedFromLog = listIfPresent(fs, walLostAndFound).map((name) => ({
    name: `${WAL_DIRECTORY}/${LOST_AND_FOUND_DIRECTORY}/${name}`,
    bytes: fs.stat(join(walLostAndFound, name)).size,
  }));
  const repairs = listIfPresent(fs, join(layout.directory, LOST_AND_FOUND_DIRECTORY)).map((name) => `${LOST_AND_FOUND_DIRECTORY}/${name}`);
  return { droppedFromLog, repairs };
}
