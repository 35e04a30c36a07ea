import { dirname, join } from 'node:path';
import { attempt, makeDirectoryDurably, nodeFileSystem, ValidationError, type FileSystem } from '@silt/fs';
import { Manifest, MANIFEST_FILE, WriterLock } from '@silt/segments';
// The log's recovery sets dropped bytes aside in a folder of the same name: one word for both.
import { LOST_AND_FOUND_DIRECTORY } from '@silt/wal';
import { IndexLayout } from './index-layout.js';
import { Index } from './index-writer.js';
import { readInventory, type InventoryProgress } from './repair-inventory.js';
import { planRepair, type LostRange, type RepairPlan, type SetAside } from './repair-plan.js';


/** The manifest's own files, set aside whole: the repaired index gets a new one. */
const MANIFEST_FILES = [MANIFEST_FILE, `${MANIFEST_FILE}-wal`, `${MANIFEST_FILE}-shm`];

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
  /** The segments of the rebuilt manifest, oldest first. */
  readonly segments: ReadonlyArray<{ readonly file: string; readonly minSequence: number; readonly maxSequence: number; readonly entries: number }>;
  /** Sequence numbers in those segments: up to here. */
  readonly coveredSequence: number;
  /** The log replayed past them, when it held anything. */
  readonly replayed: { readonly from: number; readonly to: number } | undefined;
  /** Every sequence number recovered is at most this; `lost` says which below it are missing. */
  readonly recoveredTo: number;
  /** The highest sequence number any file held. */
  readonly lastKnownSequence: number;
  readonly lost: readonly LostRange[];
  /** Files moved (or, for a cut log file, copied) into `lostFound`, with why. */
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
 * disjoint sound segments that cover the most sequence numbers, keeps the
 * log that continues them without a break, and replays it. Every file it
 * does not use, the old manifest included, is moved to
 * `lost+found/repair-<time>/`: nothing is deleted. Takes the writer lock
 * (`LockError` while a writer runs). Safe to run again after a crash: it
 * trusts only the files, and writes the new manifest beside the old one
 * before it swaps them.
 */
export async function repairIndex(directory: string, options: RepairOptions = {}): Promise<RepairReport> {
  if (typeof directory !== 'string' || directory.length === 0) throw new ValidationError(`repair needs an index directory, got ${JSON.stringify(directory)}`);
  const fs = options.fs ?? nodeFileSystem;
  const layout = new IndexLayout(directory);
  if (!fs.exists(directory)) throw new ValidationError(`${directory} does not exist`);
  const lostFound = join(LOST_AND_FOUND_DIRECTORY, `repair-${new Date().toISOString().replace(/[:.]/g, '-')}`);
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
  // The log past the segments goes back in through the writer's own recovery, and into a segment.
  const index = await Index.open(directory, { fs });
  let generation: number;
  try {
    await index.flush();
    generation = index.stats().generation;
  } finally {
    await index.close();
  }
  return reportOf(directory, plan, lostFound, false, generation);
}

/**
 * The order makes a crash at any point safe to repair again: the new
 * manifest is whole (SQLite commits it) before anything moves; files the
 * plan does not use leave `segments/` and `wal/` before it takes its name,
 * so no open can see it beside files it does not name.
 */
async function carryOut(fs: FileSystem, layout: IndexLayout, plan: RepairPlan, lostFound: string): Promise<void> {
  await makeDirectoryDurably(fs, join(lostFound, 'segments'));
  await makeDirectoryDurably(fs, join(lostFound, 'wal'));
  const newManifest = join(lostFound, `new-${MANIFEST_FILE}`);
  writeManifest(newManifest, plan);
  if (plan.truncate !== undefined) await cutLogFile(fs, layout, plan.truncate, lostFound);
  for (const { file } of plan.setAside) fs.rename(join(layout.directory, file), join(lostFound, file));
  for (const name of MANIFEST_FILES) {
    const path = join(layout.directory, name);
    if (fs.exists(path)) fs.rename(path, join(lostFound, `old-${name}`));
  }
  await syncDirectories(fs, [layout.segmentsDirectory, layout.walDirectory, join(lostFound, 'segments'), join(lostFound, 'wal'), lostFound]);
  fs.rename(newManifest, layout.manifestPath);
  await syncDirectories(fs, [layout.directory, lostFound]);
}

/** A manifest whose one generation holds the plan's segments; SQLite makes the commit durable. */
function writeManifest(path: string, plan: RepairPlan): void {
  const manifest = Manifest.open(path);
  try {
    for (let allocated = 1; allocated < plan.nextSegmentId; ) {
      const count = Math.min(1_000_000, plan.nextSegmentId - allocated);
      manifest.allocateSegmentIds(count);
      allocated += count;
    }
    manifest.commit({
      add: plan.segments.map(({ id, minSequence, maxSequence, minKey, maxKey, bytes, entries, tombstones }) => ({
        id,
        minSequence,
        maxSequence,
        minKey,
        maxKey,
        bytes,
        entries,
        tombstones,
      })),
      walCoveredSequence: plan.coveredSequence,
    });
  } finally {
    // The last connection's close checkpoints: the main file alone then holds the commit.
    manifest.close();
  }
}

/** Saves the whole log file in lost+found, durably, then cuts it to its valid records. */
async function cutLogFile(fs: FileSystem, layout: IndexLayout, cut: NonNullable<RepairPlan['truncate']>, lostFound: string): Promise<void> {
  const path = join(layout.directory, cut.file);
  const bytes = attempt('read', path, () => fs.readFile(path));
  const copy = fs.open(join(lostFound, cut.file), 'createNew');
  try {
    copy.write(bytes, 0);
    await copy.sync();
  } finally {
    copy.close();
  }
  await fs.syncDirectory(dirname(join(lostFound, cut.file)));
  const handle = fs.open(path, 'readWrite');
  try {
    handle.truncate(cut.validLength);
    await handle.sync();
  } finally {
    handle.close();
  }
}

async function syncDirectories(fs: FileSystem, directories: readonly string[]): Promise<void> {
  for (const directory of directories) if (fs.exists(directory)) await fs.syncDirectory(directory);
}

function reportOf(directory: string, plan: RepairPlan, lostFound: string, dryRun: boolean, generation: number | undefined): RepairReport {
  const truncated = plan.truncate === undefined ? [] : [{ file: plan.truncate.file, why: `copied whole, then ${plan.truncate.why}` }];
  return {
    directory,
    dryRun,
    segments: plan.segments.map((segment) => ({ file: `segments/${segment.name}`, minSequence: segment.minSequence, maxSequence: segment.maxSequence, entries: segment.entries })),
    coveredSequence: plan.coveredSequence,
    replayed: plan.replay,
    recoveredTo: plan.replay?.to ?? plan.coveredSequence,
    lastKnownSequence: plan.lastKnownSequence,
    lost: plan.lost,
    setAside: [...plan.setAside, ...truncated],
    lostFound,
    generation,
  };
}
