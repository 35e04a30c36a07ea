import { nodeFileSystem, type FileSystem } from '@silt/fs';
import { IndexDamagedError, MANIFEST_FILE, WRITER_LOCK_FILE, WRITER_PID_FILE } from '@silt/segments';
import { IndexLayout, SEGMENTS_DIRECTORY, WAL_DIRECTORY } from './index-layout.js';
import { auditMissingManifest } from './segment-audit.js';

/** The names an index directory holds (DESIGN.md, "On disk"), SQLite's companions of the manifest included. */
const INDEX_ENTRIES: ReadonlySet<string> = new Set([
  MANIFEST_FILE,
  `${MANIFEST_FILE}-wal`,
  `${MANIFEST_FILE}-shm`,
  WRITER_LOCK_FILE,
  WRITER_PID_FILE,
  WAL_DIRECTORY,
  SEGMENTS_DIRECTORY,
]);

/**
 * What is at a path, for a tool deciding whether it may create, read or
 * remove an index there: nothing, a file, an empty directory, an index (it
 * has a manifest), or a directory of something else.
 */
export type DirectoryKind = 'missing' | 'file' | 'empty' | 'index' | 'other';

export interface DirectoryInspection {
  readonly directory: string;
  readonly kind: DirectoryKind;
  /**
   * The entries silt does not write (for `index` and `other`): a tool that
   * removes an index must find none, or it would remove someone's files.
   */
  readonly foreignEntries: readonly string[];
  /**
   * Set when the directory holds segment or log files but its manifest is
   * missing or empty: the manifest was lost, and the directory is a damaged
   * index (`silt repair`), not a foreign one. Opening it throws this error.
   */
  readonly damage: IndexDamagedError | undefined;
}

export interface InspectOptions {
  /** The file system to read through; the real one by default. */
  readonly fs?: FileSystem;
}

/** Looks at `directory` without opening anything in it or changing it. */
export function inspectDirectory(directory: string, options: InspectOptions = {}): DirectoryInspection {
  const fs = options.fs ?? nodeFileSystem;
  const none = { directory, foreignEntries: [], damage: undefined };
  if (!fs.exists(directory)) return { ...none, kind: 'missing' };
  if (!fs.stat(directory).isDirectory) return { ...none, kind: 'file' };
  const entries = fs.list(directory);
  if (entries.length === 0) return { ...none, kind: 'empty' };
  const lostManifest = auditMissingManifest(fs, new IndexLayout(directory));
  return {
    directory,
    kind: entries.includes(MANIFEST_FILE) ? 'index' : 'other',
    foreignEntries: entries.filter((name) => !INDEX_ENTRIES.has(name)),
    damage: lostManifest === undefined ? undefined : new IndexDamagedError(directory, [lostManifest]),
  };
}
