import { MANIFEST_FILE, nodeFileSystem, parseFileName, type FileSystem, type IndexFileKind } from '@silt/fs';
import { IndexDamagedError } from '@silt/segments';
import { IndexLayout } from './index-layout.js';
import { auditMissingManifest } from './segment-audit.js';

/**
 * The entries of an index directory a tool may remove with the index
 * (DESIGN.md, "On disk"), SQLite's companions of the manifest included.
 * Not `lost+found/`: what silt set aside there is the operator's now.
 */
const INDEX_ENTRY_KINDS: ReadonlySet<IndexFileKind> = new Set<IndexFileKind>([
  'manifest',
  'manifest-journal',
  'manifest-shared-memory',
  'writer-lock',
  'writer-pid',
  'writer-socket',
  'log-directory',
  'segments-directory',
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
    foreignEntries: entries.filter((name) => !isIndexEntry(name)),
    damage: lostManifest === undefined ? undefined : new IndexDamagedError(directory, [lostManifest]),
  };
}

function isIndexEntry(name: string): boolean {
  const kind = parseFileName(name)?.kind;
  return kind !== undefined && INDEX_ENTRY_KINDS.has(kind);
}
