import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isTemporaryName, MANIFEST_FILE, segmentFileName } from '@silt/fs';
import { Manifest, SegmentReader } from '@silt/segments';

export interface DiskReport {
  readonly generation: number;
  readonly liveSegments: number;
  readonly walFiles: number;
}

/**
 * What must hold on disk once an index has been opened after a crash:
 * every segment the current generation names exists and verifies (every
 * block checksum, the footer, the hash index), every file in `segments/`
 * is one the manifest names, and no temp file is left anywhere.
 * Reads the real files; call it after a simulated crash has been applied.
 */
export function checkIndexFiles(directory: string): DiskReport {
  const manifest = Manifest.open(join(directory, MANIFEST_FILE), { role: 'reader' });
  try {
    const current = manifest.current();
    for (const segment of current.segments) {
      const path = join(directory, segment.file);
      if (!existsSync(path)) throw new Error(`generation ${current.generation} names ${segment.file}, which is missing`);
      const reader = SegmentReader.open(path);
      try {
        reader.verify();
      } catch (error) {
        throw new Error(`generation ${current.generation} names ${segment.file}, which fails to verify: ${String(error)}`, {
          cause: error,
        });
      } finally {
        reader.close();
      }
    }
    const named = new Set(manifest.segmentIds().map((id) => segmentFileName(id)));
    const segmentsDirectory = join(directory, 'segments');
    const orphans = readdirSync(segmentsDirectory).filter((name) => !named.has(`segments/${name}`));
    if (orphans.length > 0) throw new Error(`files in segments/ the manifest never named: ${orphans.join(', ')}`);
    const walDirectory = join(directory, 'wal');
    const walNames = existsSync(walDirectory) ? readdirSync(walDirectory) : [];
    const temps = [...readdirSync(directory), ...walNames].filter(isTemporaryName);
    if (temps.length > 0) throw new Error(`temp files left behind: ${temps.join(', ')}`);
    return { generation: current.generation, liveSegments: current.segments.length, walFiles: walNames.length };
  } finally {
    manifest.close();
  }
}
