import { join } from 'node:path';
import {
  logFileName,
  makeDirectoryDurably,
  MANIFEST_FILES,
  NEW_MANIFEST_FILE,
  nodeFileSystem,
  RECOVERED_LOG_DIRECTORY,
  repairFolderName,
  SEGMENTS_DIRECTORY,
  segmentFileName,
  setAsideManifestName,
  ValidationError,
  WAL_DIRECTORY,
  type FileSystem,
} from '@silt/fs';
import { attempt } from '@silt/fs/internal';
import { WriterLock, type NewSegment } from '@silt/segments';
import { buildSegmentFromLog } from '@silt/merger';
import { resealedRecord } from '@silt/wal/internal';
import { IndexLayout } from './index-layout.js';
import { asNewSegment, writeSingleGenerationManifest } from './single-generation-manifest.js';
import { Index } from './index-handle.js';
import { readInventory, type InventoryProgress } from './repair-inventory.js';
import { planRepair, type LogSegmentPlan, type LostRange, type RepairPlan, type SetAside } from './repair-plan.js';

export interface RepairOptions {
  /** Plan and report only: nothing is written, moved or locked. */
  readonly dryRun?: boolean;
  readonly fs?: FileSystem;
  /** Called as files are read and checked. */
  readonly onProgress?: InventoryProgress;
}

/** What `repair` found, used and set aside: `silt repair --json` prints it. */
export interface RepairReport {
  readonly directory: string;
  readonly dryRun: boolean;
  /** The segment files the rebuilt manifest keeps, oldest first. */
  readonly segments: ReadonlyArray<{
    readonly file: string;
    readonly minSequence: number;
    readonly maxSequence: number;
    readonly entries: number;
  }>;
  /** Segments built from intact log records no kept segment covered, oldest first (`records`: log records each was built from). */
  readonly logSegments: ReadonlyArray<{
    readonly file: string;
    readonly minSequence: number;
    readonly maxSequence: number;
    readonly records: number;
  }>;
  /** The rebuilt manifest's covered sequence: every sequence number recovered is at most this, and the log starts after it. */
  readonly coveredSequence: number;
  /**
   * The first and last sequence numbers recovered from the log (into `logSegments`), when it held any the segments lacked; `lost`
   * names holes between.
   */
  readonly replayed: { readonly from: number; readonly to: number } | undefined;
  /** Every sequence number recovered is at most this (`coveredSequence`); `lost` says which below it are missing. */
  readonly recoveredTo: number;
  /** The highest sequence number any intact record of any file held. */
  readonly lastKnownSequence: number;
  readonly lost: readonly LostRange[];
  /** Files moved into `lostFound`, with why: every log file is (its records are in segments now). */
  readonly setAside: readonly SetAside[];
  /** The folder this run set files aside in (`lost+found/repair-<time>`), relative to the index. */
  readonly lostFound: string;
  /** The generation of the rebuilt manifest, once written (undefined on a dry run). */
  readonly generation: number | undefined;
}

/**
 * Rebuilds an index's manifest from its segment files and its log, for an
 * index that refuses to open (`IndexDamagedError`) because its manifest
 * was lost, rolled back or damaged, or files were damaged. It picks the
 * disjoint sound segments that cover the most sequence numbers and builds
 * new segments from every intact log record they do not cover, on both
 * sides of any damaged record or missing file (see planRepair). Every file
 * it does not use, the old manifest and every log file included, is moved
 * to `lost+found/repair-<time>/`: nothing is deleted or changed. Takes the
 * writer lock (`LockError` while a writer runs). Safe to run again after a
 * crash: it trusts only the files, and writes the new manifest beside the
 * old one before it swaps them.
 */
export async function repairIndex(directory: string, options: RepairOptions = {}): Promise<RepairReport> {
  if (typeof directory !== 'string' || directory.length === 0)
    throw new ValidationError(`repair needs an index directory, got ${JSON.stringify(directory)}`);
  const fs = options.fs ?? nodeFileSystem;
  const layout = new IndexLayout(directory);
  if (!fs.exists(directory)) throw new ValidationError(`${directory} does not exist`);
  const lostFound = repairFolderName(new Date());
  if (options.dryRun === true) {
    const plan = planRepair(await readInventory(fs, layout, options.onProgress));
    return reportOf(directory, plan, lostFound, true, undefined);
  }
  const lock = WriterLock.acquire(directory);
  let plan: RepairPlan;
  try {
    plan = planRepair(await readInventory(fs, layout, options.onProgress));
    await carryOut(fs, layout, plan, join(directory, lostFound));
  } finally {
    lock.release();
  }
  // The proof that the rebuilt index opens: its audit accounts for every file left.
  const index = await Index.open(directory, { fs, autoMerge: false, role: 'writer' });
  let generation: number;
  try {
    generation = index.stats().generation;
  } finally {
    await index.close();
  }
  return reportOf(directory, plan, lostFound, false, generation);
}

/**
 * The order makes a crash at any point safe to repair again: segments
 * built from the log are whole (built under a temp name, fsynced, renamed)
 * before the new manifest is written, and a rerun finds them as sound
 * segments covering what they hold; the new manifest is whole (SQLite
 * commits it) before anything moves; files the plan does not use leave
 * `segments/` and `wal/` before it takes its name, so no open can see it
 * beside files it does not name.
 */
async function carryOut(fs: FileSystem, layout: IndexLayout, plan: RepairPlan, lostFound: string): Promise<void> {
  await makeDirectoryDurably(fs, join(lostFound, SEGMENTS_DIRECTORY));
  await makeDirectoryDurably(fs, join(lostFound, WAL_DIRECTORY));
  const built: NewSegment[] = [];
  // Read once each: a log file's records may go into several of these segments.
  const logFiles = new Map<string, Uint8Array>();
  for (const logSegment of plan.logSegments) built.push(await buildLogSegment(fs, layout, logSegment, lostFound, logFiles));
  const newManifest = join(lostFound, NEW_MANIFEST_FILE);
  writeManifest(newManifest, plan, built);
  for (const { file } of plan.setAside) fs.rename(join(layout.directory, file), join(lostFound, file));
  // The manifest's own files are set aside whole: the repaired index gets a new one.
  for (const name of MANIFEST_FILES) {
    const path = join(layout.directory, name);
    if (fs.exists(path)) fs.rename(path, join(lostFound, setAsideManifestName(name)));
  }
  await syncDirectories(fs, [
    layout.segmentsDirectory,
    layout.walDirectory,
    join(lostFound, SEGMENTS_DIRECTORY),
    join(lostFound, WAL_DIRECTORY),
    lostFound,
  ]);
  fs.rename(newManifest, layout.manifestPath);
  await syncDirectories(fs, [layout.directory, lostFound]);
}

/**
 * Builds one segment from intact log records, the way a flush does. The
 * records are copied, in order (re-sealed: see resealedRecord), into a log
 * file of their own under `lost+found/repair-<time>/recovered-log/<id>/`
 * (the log files they come from may hold damage before them, which a log
 * read stops at); that copy stays there, beside the originals, as the
 * record of what was recovered.
 */
async function buildLogSegment(
  fs: FileSystem,
  layout: IndexLayout,
  plan: LogSegmentPlan,
  lostFound: string,
  files: Map<string, Uint8Array>,
): Promise<NewSegment> {
  const scratch = join(lostFound, RECOVERED_LOG_DIRECTORY, String(plan.id));
  await makeDirectoryDurably(fs, scratch);
  const first = plan.records[0]!;
  const copy = fs.open(join(scratch, logFileName(first.firstSequence)), 'createNew');
  try {
    let at = 0;
    for (const record of plan.records) {
      const path = join(layout.directory, record.file);
      let bytes = files.get(path);
      if (bytes === undefined) {
        bytes = attempt('read', path, () => fs.readFile(path));
        files.set(path, bytes);
      }
      copy.write(resealedRecord(bytes.subarray(record.offset, record.offset + record.length)), at);
      at += record.length;
    }
  } finally {
    copy.close();
  }
  const result = await buildSegmentFromLog(fs, {
    walDirectory: scratch,
    fromSequence: plan.from,
    toSequence: plan.to,
    segmentPath: layout.segmentPath(plan.id),
  });
  const { bytes, entries, tombstones, minKey, maxKey, minSequence, maxSequence } = result;
  return { id: plan.id, bytes, entries, tombstones, minKey, maxKey, minSequence, maxSequence };
}

/** A manifest whose one generation holds the plan's segments and those built from the log. */
function writeManifest(path: string, plan: RepairPlan, built: readonly NewSegment[]): void {
  writeSingleGenerationManifest(path, [...plan.segments.map(asNewSegment), ...built], plan.coveredSequence, plan.nextSegmentId);
}

async function syncDirectories(fs: FileSystem, directories: readonly string[]): Promise<void> {
  for (const directory of directories) if (fs.exists(directory)) await fs.syncDirectory(directory);
}

function reportOf(directory: string, plan: RepairPlan, lostFound: string, dryRun: boolean, generation: number | undefined): RepairReport {
  const first = plan.logSegments[0];
  const last = plan.logSegments.at(-1);
  return {
    directory,
    dryRun,
    segments: plan.segments.map((segment) => ({
      file: `${SEGMENTS_DIRECTORY}/${segment.name}`,
      minSequence: segment.minSequence,
      maxSequence: segment.maxSequence,
      entries: segment.entries,
    })),
    logSegments: plan.logSegments.map((segment) => ({
      file: segmentFileName(segment.id),
      minSequence: segment.from,
      maxSequence: segment.to,
      records: segment.records.length,
    })),
    coveredSequence: plan.coveredSequence,
    replayed: first === undefined || last === undefined ? undefined : { from: first.from, to: last.to },
    recoveredTo: plan.coveredSequence,
    lastKnownSequence: plan.lastKnownSequence,
    lost: plan.lost,
    setAside: plan.setAside,
    lostFound,
    generation,
  };
}
