import { join } from 'node:path';
import { CorruptionError, nodeFileSystem, WAL_DIRECTORY, type FileSystem } from '@silt/fs';
import { isNotFound } from '@silt/fs/internal';
import { SegmentReader, UnsupportedVersionError, type Generation, type SegmentRecord } from '@silt/segments';
import { UnsupportedWalVersionError } from '@silt/wal';
import { checkLog, listLog, type ListedLogFile, type LogFileCheck } from '@silt/wal/internal';
import { inspectDirectory } from './inspect-directory.js';
import { withReaderManifest } from './inspect-index.js';
import { IndexLayout } from './index-layout.js';

/** One file's verdict in `verifyIndex`. */
export interface FileCheck {
  /** Relative to the index directory: `segments/61.seg`, `wal/0000000000000001.log`. */
  readonly file: string;
  readonly kind: 'segment' | 'wal';
  /**
   * ok: every checksum and count verifies. damaged: it does not (see offset
   * and detail). torn: the newest log file ends in an unfinished write, which
   * a crash leaves and the writer cuts off on open (a note, not damage).
   * gone: a log file the writer deleted (covered by a flush) while verify ran.
   */
  readonly status: 'ok' | 'damaged' | 'torn' | 'gone';
  readonly bytes: number;
  /** Segment entries (puts and tombstones). */
  readonly entries?: number;
  /** Log records. */
  readonly records?: number;
  /** Where the damage (or the torn tail) starts, when it is known. */
  readonly offset?: number;
  readonly detail?: string;
}

export interface VerifyReport {
  readonly directory: string;
  /** The generation checked: the current one when the check began, leased until it ended. */
  readonly generation: number;
  readonly ok: boolean;
  /** Files with status `damaged`. */
  readonly damaged: number;
  /** The live segments, oldest first, then the log files, oldest first. */
  readonly files: readonly FileCheck[];
}

export interface VerifyOptions {
  /** The file system to read through; the real one by default. */
  readonly fs?: FileSystem;
  /**
   * Called before the first file and after each: bytes checked so far, of
   * the total. What it throws stops the check (the lease is dropped first)
   * and is thrown: a caller's way to stop on Ctrl-C.
   */
  readonly onProgress?: (checkedBytes: number, totalBytes: number, checkedFiles: number) => void;
}

/** A segment's reads cached through this much memory: verify reads every block once. */
const VERIFY_CACHE_BYTES = 1024 * 1024;

/**
 * Checks every checksum of every live segment and every log file of the
 * index in `directory` (LevelDB's `DumpFile --verify`, for a whole index),
 * beside a running writer, without the writer lock and changing nothing but
 * a reader's lease:
 *
 * - each live segment: its size against the manifest, every block's
 *   checksum and structure, the hash index and the footer's counts
 *   (`SegmentReader.verify`), then its counts and sequence range against
 *   the manifest's row;
 * - each log file, oldest first, as the log's own recovery reads it: every
 *   record's checksum and sequence numbers, and that no sequence number is
 *   missing between the files or between the segments and the oldest file.
 *
 * The generation checked is leased, as a reader's, so no collector removes
 * its files meanwhile. Damage is reported, not thrown. An index whose
 * manifest was lost is an `IndexDamagedError`; no index, a
 * `ManifestNotFoundError`.
 */
export async function verifyIndex(directory: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const fs = options.fs ?? nodeFileSystem;
  const { damage } = inspectDirectory(directory, { fs });
  if (damage !== undefined) throw damage;
  const layout = new IndexLayout(directory);
  // Listed before the generation is read: see checkLog.
  const logFiles = listLog(fs, layout.walDirectory);
  return withReaderManifest(layout, async (manifest) => {
    const lease = manifest.takeLease();
    try {
      const generation = manifest.generationAt(lease.generation);
      const files = await checkGeneration(fs, directory, generation, logFiles, options.onProgress ?? (() => undefined));
      const damaged = files.filter((file) => file.status === 'damaged').length;
      return { directory, generation: generation.generation, ok: damaged === 0, damaged, files };
    } finally {
      manifest.dropLease(lease.id);
    }
  });
}

/** Runs the checks of one generation, reporting progress between files. */
async function checkGeneration(
  fs: FileSystem,
  directory: string,
  generation: Generation,
  logFiles: readonly ListedLogFile[],
  onProgress: NonNullable<VerifyOptions['onProgress']>,
): Promise<FileCheck[]> {
  const totalBytes = sumOf(generation.segments.map((segment) => segment.bytes)) + sumOf(logFiles.map((file) => file.bytes));
  const files: FileCheck[] = [];
  let checkedBytes = 0;
  onProgress(checkedBytes, totalBytes, 0);
  for (const segment of generation.segments) {
    files.push(checkSegment(fs, directory, segment));
    checkedBytes += segment.bytes;
    onProgress(checkedBytes, totalBytes, files.length);
    // Let a progress display redraw and a signal arrive between files.
    await new Promise((resolve) => setImmediate(resolve));
  }
  files.push(...checkLog(fs, logFiles, generation.walCoveredSequence).map(logFileCheck));
  onProgress(totalBytes, totalBytes, files.length);
  return files;
}

function checkSegment(fs: FileSystem, directory: string, segment: SegmentRecord): FileCheck {
  const base = { file: segment.file, kind: 'segment' as const, bytes: segment.bytes };
  const path = join(directory, segment.file);
  let size: number;
  try {
    size = fs.stat(path).size;
  } catch (error) {
    if (isNotFound(error)) return { ...base, status: 'damaged', detail: 'the file is missing; the manifest names it as live' };
    throw error;
  }
  if (size !== segment.bytes) {
    return {
      ...base,
      status: 'damaged',
      offset: Math.min(size, segment.bytes),
      detail: `the file is ${size} bytes; the manifest recorded ${segment.bytes}`,
    };
  }
  try {
    using reader = SegmentReader.open(path, { fs, access: 'file', cacheBytes: VERIFY_CACHE_BYTES, keyEncoding: 'binary' });
    reader.verify();
    const stats = reader.stats();
    const mismatch = manifestMismatch(segment, stats);
    if (mismatch !== undefined) return { ...base, status: 'damaged', detail: mismatch };
    return { ...base, status: 'ok', entries: stats.entries };
  } catch (error) {
    return { ...base, ...segmentDamage(error, path) };
  }
}

function manifestMismatch(
  segment: SegmentRecord,
  stats: { entries: number; tombstones: number; minSequence: number; maxSequence: number },
): string | undefined {
  if (stats.entries !== segment.entries || stats.tombstones !== segment.tombstones) {
    return `the file holds ${stats.entries} entries (${stats.tombstones} tombstones); the manifest recorded ${segment.entries} (${segment.tombstones})`;
  }
  if (stats.minSequence < segment.minSequence || stats.maxSequence > segment.maxSequence) {
    return `the file covers sequence numbers ${stats.minSequence}–${stats.maxSequence}, outside the manifest's ${segment.minSequence}–${segment.maxSequence}`;
  }
  return undefined;
}

/** A damaged segment's offset and the error's words without the file name the report already shows; anything but damage is thrown. */
function segmentDamage(error: unknown, path: string): Pick<FileCheck, 'status' | 'offset' | 'detail'> {
  if (error instanceof CorruptionError) {
    return { status: 'damaged', ...(error.offset === undefined ? {} : { offset: error.offset }), detail: detailOf(error, path) };
  }
  if (error instanceof UnsupportedVersionError) return { status: 'damaged', detail: error.message };
  throw error;
}

function logFileCheck(check: LogFileCheck): FileCheck {
  const base = { file: `${WAL_DIRECTORY}/${check.name}`, kind: 'wal' as const, bytes: check.bytes };
  const at = check.offset === undefined ? {} : { offset: check.offset };
  switch (check.status) {
    case 'ok':
      return { ...base, status: 'ok', records: check.records };
    case 'gone':
      return { ...base, status: 'gone', detail: 'deleted by the writer (covered by a flush) while verify ran' };
    case 'torn':
      return { ...base, status: 'torn', records: check.records, ...at, detail: check.tornReason ?? 'an unfinished write' };
    default:
      return {
        ...base,
        status: 'damaged',
        records: check.records,
        ...at,
        ...(check.error === undefined ? {} : { detail: detailOf(check.error, check.path) }),
      };
  }
}

function detailOf(error: CorruptionError | UnsupportedWalVersionError, file: string): string {
  if (!(error instanceof CorruptionError)) return error.message;
  const prefix = `corrupt data in ${file}${error.offset === undefined ? '' : ` at offset ${error.offset}`}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

function sumOf(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
