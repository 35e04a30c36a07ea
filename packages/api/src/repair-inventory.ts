import { join } from 'node:path';
import { isTemporaryName, segmentIdOfFileName, sequenceOfLogFile, type FileSystem } from '@silt/fs';
import { attempt } from '@silt/fs/internal';
import { SegmentReader } from '@silt/segments';
import type { IndexLayout } from './index-layout.js';
import { listIfPresent } from './segment-audit.js';
import { scanLogFile } from '@silt/wal/internal';
import type { DamagedSegment, LogFileFacts, RepairInventory, SoundSegment } from './repair-plan.js';

/** Called after each file is read, with the bytes read so far and in all. */
export type InventoryProgress = (doneBytes: number, totalBytes: number) => void;

/**
 * Reads every segment file (each checksum verified) and every log file
 * (every intact record, past damage too: see scanLogFile) of an index,
 * trusting nothing the manifest says.
 * Reads only; names that are not silt's are left out.
 */
export async function readInventory(
  fs: FileSystem,
  layout: IndexLayout,
  progress: InventoryProgress = () => undefined,
): Promise<RepairInventory> {
  const segmentNames = listIfPresent(fs, layout.segmentsDirectory);
  const logNames = listIfPresent(fs, layout.walDirectory).filter((name) => sequenceOfLogFile(name) !== undefined);
  const sizeOf = (path: string): number => fs.stat(path).size;
  const segmentFiles = segmentNames.filter((name) => segmentIdOfFileName(name) !== undefined);
  const total =
    segmentFiles.reduce((sum, name) => sum + sizeOf(join(layout.segmentsDirectory, name)), 0) +
    logNames.reduce((sum, name) => sum + sizeOf(join(layout.walDirectory, name)), 0);
  let done = 0;
  const segments: SoundSegment[] = [];
  const damagedSegments: DamagedSegment[] = [];
  for (const name of segmentFiles) {
    const path = join(layout.segmentsDirectory, name);
    const checked = checkSegmentFile(fs, path, name, segmentIdOfFileName(name)!);
    if ('problem' in checked) damagedSegments.push(checked);
    else segments.push(checked);
    done += sizeOf(path);
    progress(done, total);
    // A large index takes a while: let a redraw and a Ctrl-C through between files.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const logFiles: LogFileFacts[] = [];
  const sorted = logNames
    .map((name) => ({ name, firstSequence: sequenceOfLogFile(name)! }))
    .sort((a, b) => a.firstSequence - b.firstSequence);
  for (const file of sorted) {
    const path = join(layout.walDirectory, file.name);
    const bytes = attempt('read', path, () => fs.readFile(path));
    logFiles.push({ name: file.name, firstSequence: file.firstSequence, bytes: bytes.length, ...scanLogFile(bytes, file.firstSequence) });
    done += bytes.length;
    progress(done, total);
  }
  return { segments, damagedSegments, temporaryFiles: segmentNames.filter(isTemporaryName), logFiles };
}

function checkSegmentFile(fs: FileSystem, path: string, name: string, id: number): SoundSegment | DamagedSegment {
  let reader: SegmentReader<Uint8Array> | undefined;
  try {
    reader = SegmentReader.open(path, { fs, access: 'file', cacheBytes: 0, keyEncoding: 'binary' });
    reader.verify();
    const stats = reader.stats();
    if (stats.minKey === undefined || stats.maxKey === undefined) return { name, id, problem: 'holds no entry' };
    return {
      name,
      id,
      minSequence: stats.minSequence,
      maxSequence: stats.maxSequence,
      entries: stats.entries,
      tombstones: stats.tombstones,
      bytes: stats.bytes,
      minKey: new Uint8Array(stats.minKey),
      maxKey: new Uint8Array(stats.maxKey),
    };
  } catch (error) {
    return { name, id, problem: error instanceof Error ? error.message : String(error) };
  } finally {
    reader?.close();
  }
}
