import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError, IoError, isNotFound } from '@silt/fs';
import { SegmentReader, UnsupportedVersionError, type SegmentRecord } from '@silt/segments';
import { parseLogFile, UnsupportedWalVersionError } from '@silt/wal';
import type { WalFile } from './index-files.js';

/** One file's verdict in `silt verify`. */
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
  /** Segment entries (puts and tombstones), or log records. */
  readonly entries?: number;
  readonly records?: number;
  /** Where the damage (or the torn tail) starts, when it is known. */
  readonly offset?: number;
  readonly detail?: string;
}

/** A segment segment reads cached through this much memory: verify reads every block once. */
const VERIFY_CACHE_BYTES = 1024 * 1024;

/**
 * Checks a live segment: its size against the manifest, every block's
 * checksum and structure, the hash index and the footer's counts
 * (`SegmentReader.verify`), then the counts and sequence range against the
 * manifest's row.
 */
export function checkSegment(directory: string, segment: SegmentRecord): FileCheck {
  const base = { file: segment.file, kind: 'segment' as const, bytes: segment.bytes };
  const path = join(directory, segment.file);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    if (isNotFound(error)) return { ...base, status: 'damaged', detail: 'the file is missing; the manifest names it as live' };
    throw error;
  }
  if (size !== segment.bytes) {
    return { ...base, status: 'damaged', offset: Math.min(size, segment.bytes), detail: `the file is ${size} bytes; the manifest recorded ${segment.bytes}` };
  }
  try {
    const reader = SegmentReader.open(path, { access: 'file', cacheBytes: VERIFY_CACHE_BYTES, keyEncoding: 'binary' });
    try {
      reader.verify();
      const stats = reader.stats();
      const mismatch = manifestMismatch(segment, stats);
      if (mismatch !== undefined) return { ...base, status: 'damaged', detail: mismatch };
      return { ...base, status: 'ok', entries: stats.entries };
    } finally {
      reader.close();
    }
  } catch (error) {
    return { ...base, ...damageOf(error, path) };
  }
}

function manifestMismatch(segment: SegmentRecord, stats: { entries: number; tombstones: number; minSequence: number; maxSequence: number }): string | undefined {
  if (stats.entries !== segment.entries || stats.tombstones !== segment.tombstones) {
    return `the file holds ${stats.entries} entries (${stats.tombstones} tombstones); the manifest recorded ${segment.entries} (${segment.tombstones})`;
  }
  if (stats.minSequence < segment.minSequence || stats.maxSequence > segment.maxSequence) {
    return `the file covers sequence numbers ${stats.minSequence}–${stats.maxSequence}, outside the manifest's ${segment.minSequence}–${segment.maxSequence}`;
  }
  return undefined;
}

/**
 * Parses every log file (checksums, sequence numbers), oldest first, and
 * checks that no records are missing: between files, and between what the
 * segments cover and the oldest file. `files` must be listed before
 * `coveredSequence` was read: a writer deletes only covered files, so a
 * file listed first can never look like a gap.
 */
export function checkWal(files: readonly WalFile[], coveredSequence: number): FileCheck[] {
  const checks: FileCheck[] = [];
  let expectedFirst: number | undefined = coveredSequence + 1;
  for (const [i, file] of files.entries()) {
    const isLast = i === files.length - 1;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file.path);
    } catch (error) {
      if (!isNotFound(error)) throw new IoError('read log file', file.path, error);
      checks.push({ file: file.name, kind: 'wal', status: 'gone', bytes: file.bytes, detail: 'deleted by the writer (covered by a flush) while verify ran' });
      expectedFirst = undefined;
      continue;
    }
    const base = { file: file.name, kind: 'wal' as const, bytes: bytes.length };
    if (expectedFirst !== undefined && file.firstSequence > expectedFirst) {
      checks.push({ ...base, status: 'damaged', offset: 0, detail: `records ${expectedFirst}–${file.firstSequence - 1} are missing: no log file or segment holds them` });
    }
    const next = files[i + 1];
    const parsed = parseLogFile(bytes, { file: file.name, firstSequence: file.firstSequence, isLast, ...(next === undefined ? {} : { sequenceLimit: next.firstSequence }) });
    const records = parsed.records.length;
    const lastRecord = parsed.records[records - 1];
    // Records at or below the covered sequence are in segments: a file emptied there leaves no gap.
    expectedFirst = Math.max(coveredSequence + 1, lastRecord === undefined ? file.firstSequence : lastRecord.lastSeq + 1);
    if (parsed.end.kind === 'clean') {
      checks.push({ ...base, status: 'ok', records });
    } else if (parsed.end.kind === 'torn') {
      checks.push({ ...base, status: 'torn', records, offset: parsed.end.offset, detail: parsed.end.reason });
    } else {
      checks.push({ ...base, status: 'damaged', records, offset: parsed.end.offset, detail: detailOf(parsed.end.error, file.name) });
      expectedFirst = undefined;
    }
  }
  return checks;
}

/** A damaged file's offset and the error's words without the file name the report already shows. */
function damageOf(error: unknown, path: string): Pick<FileCheck, 'status' | 'offset' | 'detail'> {
  if (error instanceof CorruptionError) {
    return { status: 'damaged', ...(error.offset === undefined ? {} : { offset: error.offset }), detail: detailOf(error, path) };
  }
  if (error instanceof UnsupportedVersionError) return { status: 'damaged', detail: error.message };
  throw error;
}

function detailOf(error: CorruptionError | UnsupportedWalVersionError, file: string): string {
  const prefix = error instanceof CorruptionError ? `corrupt data in ${file}${error.offset === undefined ? '' : ` at offset ${error.offset}`}: ` : '';
  return prefix !== '' && error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}
