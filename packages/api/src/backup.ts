import { randomBytes } from 'node:crypto';
import { basename, dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { z } from 'zod';
import {
  LOG_ACKNOWLEDGED_FILE,
  MANIFEST_FILE,
  nodeFileSystem,
  SEGMENTS_DIRECTORY,
  segmentFileName,
  SiltError,
  ValidationError,
  WAL_DIRECTORY,
  writeFileDurably,
  type FileSystem,
} from '@silt/fs';
import { attempt } from '@silt/fs/internal';
import { Manifest, ManifestNotFoundError, type Generation, type Lease } from '@silt/segments';
import { asNewSegment, writeSingleGenerationManifest } from './single-generation-manifest.js';
import { fileSystemSchema, parseWithSchema } from '@silt/segments/internal';
import { readAcknowledgedMarker, type AcknowledgedPosition } from '@silt/wal';
import { encodeAcknowledgedMarker } from '@silt/wal/internal';
import { closeLogFiles, openLogPastGeneration, type HeldLogFile } from './backup-log.js';
import { copyPrefix, linkOrCopy, removeTree } from './backup-files.js';
import { inspectDirectory } from './inspect-directory.js';
import { IndexLayout } from './index-layout.js';

/** Options of `backup`, checked with this schema. */
export const backupOptionsSchema = z.strictObject({
  /** The file system to read and write through; the real one by default (the simulated ones copy rather than link). */
  fs: fileSystemSchema.optional(),
  /**
   * Called before the first file and as bytes are copied (linked segments
   * count at once): bytes done, of the total. What it throws stops the
   * backup (its temporary directory is removed) and is thrown: a caller's
   * way to stop on Ctrl-C.
   */
  onProgress: z
    .custom<(doneBytes: number, totalBytes: number) => void>((value) => typeof value === 'function', 'onProgress must be a function')
    .optional(),
});

export type BackupOptions = z.input<typeof backupOptionsSchema>;

/** What `backup` copied: `silt backup --json` prints it. */
export interface BackupReport {
  readonly directory: string;
  readonly destination: string;
  /** The source's generation whose segments were copied (the copy's own manifest starts again at 1). */
  readonly generation: number;
  /** The sequence number its segments cover; the copied log runs on from it. */
  readonly coveredSequence: number;
  /** The last sequence number the copy holds: every write acknowledged before the backup began is at or below it. */
  readonly sequence: number;
  readonly segments: number;
  /** Of `segments`, how many were hard links rather than copies. */
  readonly linkedSegments: number;
  readonly logFiles: number;
  /** Bytes of segments and log the copy holds (linked segments included). */
  readonly bytes: number;
}

/** The destination of a backup holds something already: nothing was written. */
export class BackupDestinationError extends SiltError {
  readonly code = 'SILT_BACKUP_DESTINATION';

  constructor(
    readonly destination: string,
    why: string,
  ) {
    super(`cannot back up into ${destination}: ${why}; name a new or empty directory`);
  }
}

/** Times to move to a newer generation when the log files past ours were deleted before we opened them. */
const MAX_GENERATION_MOVES = 100;

/**
 * A consistent copy of the index in `directory`, taken beside a running
 * writer, in `destination` (which must not exist, or be an empty directory):
 *
 * 1. reads the log's acknowledged marker: every write acknowledged before
 *    the call is at or below it;
 * 2. leases the current generation, as a reader does, so no collector
 *    removes its segments meanwhile, and opens the log files holding the
 *    records past it up to the marker (an open file stays readable when a
 *    flush deletes it; one already gone moves the lease to a newer
 *    generation, which covers it);
 * 3. hard-links (or, across file systems, copies) the generation's
 *    segments and copies that stretch of the log, each file fsynced, into a
 *    temporary directory beside `destination`, then writes a manifest of
 *    that generation alone and a marker for the copied log;
 * 4. renames the temporary directory to `destination` and fsyncs its parent.
 *
 * The copy opens (`Index.open`, `ReadOnlyIndex.open`) with every write
 * acknowledged before the call, and no later write beyond the ones that
 * generation's segments or that log stretch happen to hold. A failure, or a
 * crash, leaves no `destination`: at most the temporary directory
 * (`.<name>.backup-<random>.tmp`), removed on failure, safe to delete after a crash.
 */
export async function backup(directory: string, destination: string, options: BackupOptions = {}): Promise<BackupReport> {
  const parsed = parseWithSchema(backupOptionsSchema, options, 'backup options');
  const fs = parsed.fs ?? nodeFileSystem;
  const onProgress = parsed.onProgress ?? (() => undefined);
  checkPaths(directory, destination);
  const source = inspectDirectory(directory, { fs });
  if (source.damage !== undefined) throw source.damage;
  const layout = new IndexLayout(directory);
  if (source.kind !== 'index') throw new ManifestNotFoundError(layout.manifestPath, `no index at ${directory} (${source.kind})`);
  refuseUsedDestination(fs, destination);
  // Read first: what was acknowledged before the call is at or below it, whatever happens next.
  const acknowledged = readAcknowledgedMarker(fs, layout.walDirectory);
  const manifest = Manifest.open(layout.manifestPath, { role: 'reader' });
  try {
    let lease = manifest.takeLease();
    try {
      const held = holdGeneration(fs, manifest, layout, lease, acknowledged);
      lease = held.lease;
      try {
        return await writeCopy(fs, layout, destination, manifest.nextSegmentId(), held, onProgress);
      } finally {
        closeLogFiles(held.log);
      }
    } finally {
      manifest.dropLease(lease.id);
    }
  } finally {
    manifest.close();
  }
}

function checkPaths(directory: string, destination: string): void {
  for (const [what, path] of [
    ['index directory', directory],
    ['destination', destination],
  ] as const) {
    if (typeof path !== 'string' || path.length === 0) throw new ValidationError(`backup needs a ${what}, got ${JSON.stringify(path)}`);
  }
  const inside = relative(resolve(directory), resolve(destination));
  if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) {
    throw new BackupDestinationError(destination, `it is inside the index directory ${directory}`);
  }
}

function refuseUsedDestination(fs: FileSystem, destination: string): void {
  if (!fs.exists(destination)) {
    if (!fs.exists(dirname(resolve(destination)))) throw new BackupDestinationError(destination, 'its parent directory does not exist');
    return;
  }
  if (!fs.stat(destination).isDirectory) throw new BackupDestinationError(destination, 'it is a file');
  if (fs.list(destination).length > 0) throw new BackupDestinationError(destination, 'it is not empty');
}

interface HeldGeneration {
  readonly lease: Lease;
  readonly generation: Generation;
  readonly log: readonly HeldLogFile[];
  /** The marker of the copied log; undefined when no log is copied. */
  readonly marker: AcknowledgedPosition | undefined;
}

/** The leased generation and the open log files past it, moving the lease on while a flush deletes them under us. */
function holdGeneration(
  fs: FileSystem,
  manifest: Manifest,
  layout: IndexLayout,
  lease: Lease,
  acknowledged: AcknowledgedPosition | undefined,
): HeldGeneration {
  for (let moves = 0; ; moves++) {
    const generation = manifest.generationAt(lease.generation);
    const log = openLogPastGeneration(fs, layout.walDirectory, generation.walCoveredSequence, acknowledged);
    if (log !== undefined) return { lease, generation, log, marker: log.length > 0 ? acknowledged : undefined };
    if (moves >= MAX_GENERATION_MOVES) {
      throw new BackupLogMissingError(layout.walDirectory, generation.walCoveredSequence, acknowledged?.sequence ?? 0);
    }
    lease = manifest.moveLease(lease.id);
  }
}

/** The log lacks files between a generation and the acknowledged marker, and newer generations never covered them. */
export class BackupLogMissingError extends SiltError {
  readonly code = 'SILT_BACKUP_LOG_MISSING';

  constructor(walDirectory: string, covered: number, acknowledged: number) {
    super(
      `the log in ${walDirectory} does not hold the acknowledged records ${covered + 1}–${acknowledged} past the current generation; ` +
        'run `silt verify` on the index',
    );
  }
}

/** Everything goes into a temporary directory beside the destination, renamed to it once whole. */
async function writeCopy(
  fs: FileSystem,
  layout: IndexLayout,
  destination: string,
  nextSegmentId: number,
  held: HeldGeneration,
  onProgress: (doneBytes: number, totalBytes: number) => void,
): Promise<BackupReport> {
  const { generation, log, marker } = held;
  const totalBytes = generation.segments.reduce((sum, segment) => sum + segment.bytes, 0) + log.reduce((sum, file) => sum + file.bytes, 0);
  let doneBytes = 0;
  const onCopied = (bytes: number): void => {
    doneBytes += bytes;
    onProgress(doneBytes, totalBytes);
  };
  onProgress(0, totalBytes);
  const parent = dirname(resolve(destination));
  const temp = join(parent, `.${basename(resolve(destination))}.backup-${randomBytes(6).toString('hex')}.tmp`);
  let linkedSegments: number;
  try {
    linkedSegments = await fillCopy(fs, layout, temp, held, nextSegmentId, onCopied);
    attempt('rename', destination, () => fs.rename(temp, destination));
    await attempt('fsync', parent, () => fs.syncDirectory(parent));
  } catch (error) {
    removeTree(fs, temp);
    throw error;
  }
  return {
    directory: layout.directory,
    destination,
    generation: generation.generation,
    coveredSequence: generation.walCoveredSequence,
    sequence: Math.max(generation.walCoveredSequence, marker?.sequence ?? 0),
    segments: generation.segments.length,
    linkedSegments,
    logFiles: log.length,
    bytes: totalBytes,
  };
}

/** Links or copies the segments, copies the log, writes the marker and the manifest, each durable; returns the segments linked. */
async function fillCopy(
  fs: FileSystem,
  layout: IndexLayout,
  temp: string,
  { generation, log, marker }: HeldGeneration,
  nextSegmentId: number,
  onCopied: (bytes: number) => void,
): Promise<number> {
  let linked = 0;
  const wal = join(temp, WAL_DIRECTORY);
  const segments = join(temp, SEGMENTS_DIRECTORY);
  for (const path of [temp, segments, wal]) attempt('mkdir', path, () => fs.mkdir(path));
  for (const segment of generation.segments) {
    if (await linkOrCopy(fs, layout.segmentPath(segment.id), join(temp, segmentFileName(segment.id)), segment.bytes, onCopied)) linked++;
  }
  for (const file of log) await copyPrefix(fs, file.handle, join(wal, file.name), file.bytes, onCopied);
  if (marker !== undefined) await writeFileDurably(fs, join(wal, LOG_ACKNOWLEDGED_FILE), encodeAcknowledgedMarker(marker));
  for (const path of [segments, wal]) await attempt('fsync', path, () => fs.syncDirectory(path));
  // Last, so that a temporary directory without it never looks like an index.
  writeSingleGenerationManifest(
    join(temp, MANIFEST_FILE),
    generation.segments.map(asNewSegment),
    generation.walCoveredSequence,
    nextSegmentId,
  );
  await attempt('fsync', temp, () => fs.syncDirectory(temp));
  return linked;
}
