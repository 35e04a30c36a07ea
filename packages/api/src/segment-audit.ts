import { join } from 'node:path';
import {
  isTemporaryName,
  MANIFEST_FILE,
  MANIFEST_JOURNAL_FILE,
  SEGMENTS_DIRECTORY,
  segmentIdOfFileName,
  sequenceOfLogFile,
  WAL_DIRECTORY,
  type FileSystem,
} from '@silt/fs';
import { SegmentReader, type Generation } from '@silt/segments';
import { filesNewerThanManifest } from '@silt/segments/internal';
import type { IndexLayout } from './index-layout.js';

/** What the manifest knows, as the audit needs it. */
export interface ManifestFacts {
  readonly current: Generation;
  /** Every id the manifest still names: live now, or removed and not yet collected. */
  readonly namedIds: ReadonlySet<number>;
  /** Ids at or past this one were never handed out by this manifest. */
  readonly nextSegmentId: number;
}

export interface SegmentAudit {
  /** Files in `segments/` proven to hold nothing the index needs, to delete. */
  readonly obsolete: string[];
  /** Why the manifest cannot be trusted, one line per file; empty when it accounts for everything. */
  readonly problems: string[];
}

/**
 * What the manifest promises about `segments/`, checked before the log is
 * opened (its recovery may cut or set files aside, which a refused open
 * must not do): every live segment's file is there with the size its row
 * records, and no segment file has an id the manifest never handed out
 * (then the manifest is older than its files). Returns the problems.
 */
export function auditLiveSegments(fs: FileSystem, layout: IndexLayout, manifest: ManifestFacts): string[] {
  return [
    ...missingLiveFiles(fs, layout, manifest.current),
    ...filesNewerThanManifest(fs.list(layout.segmentsDirectory), manifest.nextSegmentId),
  ];
}

/**
 * Once the log is open: which files in `segments/` the manifest does not
 * name are obsolete, in the way LevelDB keeps table files it cannot account
 * for. A file is obsolete only with proof:
 *
 * - a temp file (`*.tmp`): a build that never finished, since a segment is
 *   written under a temp name and renamed once it is whole and fsynced;
 * - a whole segment with an id the manifest handed out, whose writes the
 *   index still has elsewhere: all at or below the covered sequence (an
 *   uncommitted merge's output: its inputs are live), or all above it and
 *   still in the log (an uncommitted flush). The log's recovery checked
 *   that it holds every sequence number from the covered one + 1 to
 *   `lastLogSequence`.
 *
 * Any other unnamed segment is a problem: its writes exist nowhere else,
 * and the caller deletes nothing. Names that are not segment names are
 * someone else's and left alone.
 */
export function auditUnnamedSegments(fs: FileSystem, layout: IndexLayout, manifest: ManifestFacts, lastLogSequence: number): SegmentAudit {
  const obsolete: string[] = [];
  const problems: string[] = [];
  for (const name of fs.list(layout.segmentsDirectory)) {
    if (isTemporaryName(name)) {
      obsolete.push(name);
      continue;
    }
    const id = segmentIdOfFileName(name);
    if (id === undefined || id >= manifest.nextSegmentId || manifest.namedIds.has(id)) continue;
    const verdict = judgeUnnamed(fs, layout, id, manifest, lastLogSequence);
    if (verdict === 'obsolete') obsolete.push(name);
    else problems.push(`${SEGMENTS_DIRECTORY}/${name} ${verdict}`);
  }
  return { obsolete, problems };
}

/**
 * A writer creates the manifest before anything else, so log or segment
 * files without one mean it was lost: opening would start an empty
 * catalog beside them. An empty manifest file (0 bytes, nothing in its
 * `-wal`) is lost too: SQLite would initialise it, a change a refused open
 * must not make. Returns the problem, or undefined.
 */
export function auditMissingManifest(fs: FileSystem, layout: IndexLayout): string | undefined {
  const present = fs.exists(layout.manifestPath);
  if (present && !isEmptyManifest(fs, layout)) return undefined;
  const segments = listIfPresent(fs, layout.segmentsDirectory).filter((name) => segmentIdOfFileName(name) !== undefined);
  const logs = listIfPresent(fs, layout.walDirectory).filter((name) => sequenceOfLogFile(name) !== undefined);
  if (segments.length === 0 && logs.length === 0) return undefined;
  return `${MANIFEST_FILE} is ${present ? 'empty' : 'missing'}, but ${SEGMENTS_DIRECTORY}/ holds ${segments.length} segment file(s) and ${WAL_DIRECTORY}/ ${logs.length} log file(s)`;
}

function isEmptyManifest(fs: FileSystem, layout: IndexLayout): boolean {
  const wal = join(layout.directory, MANIFEST_JOURNAL_FILE);
  return fs.stat(layout.manifestPath).size === 0 && (!fs.exists(wal) || fs.stat(wal).size === 0);
}

/** The names in `directory`, or none when it does not exist. */
export function listIfPresent(fs: FileSystem, directory: string): string[] {
  return fs.exists(directory) ? fs.list(directory) : [];
}

/** Deletes the files an audit proved obsolete, durably. */
export async function removeObsoleteSegments(fs: FileSystem, layout: IndexLayout, obsolete: readonly string[]): Promise<void> {
  for (const name of obsolete) fs.unlink(join(layout.segmentsDirectory, name));
  if (obsolete.length > 0) await fs.syncDirectory(layout.segmentsDirectory);
}

function missingLiveFiles(fs: FileSystem, layout: IndexLayout, current: Generation): string[] {
  const problems: string[] = [];
  for (const segment of current.segments) {
    const path = layout.segmentPath(segment.id);
    if (!fs.exists(path)) problems.push(`${segment.file} is live in generation ${current.generation} but the file is missing`);
    else {
      const size = fs.stat(path).size;
      if (size !== segment.bytes) problems.push(`${segment.file} is ${size} bytes where the manifest recorded ${segment.bytes}`);
    }
  }
  return problems;
}

/** 'obsolete', or what makes the file evidence that the manifest is behind. */
function judgeUnnamed(fs: FileSystem, layout: IndexLayout, id: number, manifest: ManifestFacts, lastLogSequence: number): string {
  let range: { minSequence: number; maxSequence: number };
  try {
    using reader = SegmentReader.open(layout.segmentPath(id), { fs, access: 'file', cacheBytes: 0, keyEncoding: 'binary' });
    range = reader.stats();
  } catch (error) {
    return `is not in the manifest and cannot be read to prove it obsolete (${error instanceof Error ? error.message : String(error)})`;
  }
  const { minSequence, maxSequence } = range;
  const covered = manifest.current.walCoveredSequence;
  if (maxSequence <= covered) return 'obsolete';
  if (minSequence > covered && maxSequence <= lastLogSequence) return 'obsolete';
  const inLog = lastLogSequence > covered ? `which holds ${covered + 1}–${lastLogSequence}` : 'which holds nothing past it';
  return (
    `is not in the manifest and holds sequence numbers ${minSequence}–${maxSequence}, past what the manifest covers (${covered}) ` +
    `and not all in the log (${inLog}): its writes exist nowhere else`
  );
}
