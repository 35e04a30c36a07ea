import { join } from 'node:path';
import { isTemporaryName, type FileSystem } from '@silt/fs';
import type { WriteAheadLog } from '@silt/wal';
import type { Manifest } from '@silt/segments';
import { idOf, type Memtable } from './memtable.js';
import type { IndexLayout } from './index-layout.js';

/**
 * Removes what a crash can leave in `segments/`: temp files, and segment
 * files the manifest never named (a flush or merge that died before its
 * commit). Returns the names removed.
 */
export async function removeOrphanSegments(fs: FileSystem, layout: IndexLayout, manifest: Manifest): Promise<string[]> {
  const named = new Set(manifest.segmentIds().map((id) => layout.segmentPath(id)));
  const orphans = fs
    .list(layout.segmentsDirectory)
    .filter((name) => isTemporaryName(name) || !named.has(join(layout.segmentsDirectory, name)));
  for (const name of orphans) fs.unlink(join(layout.segmentsDirectory, name));
  if (orphans.length > 0) await fs.syncDirectory(layout.segmentsDirectory);
  return orphans;
}

/** Puts every log record not yet in a segment back into the memtable; returns how many operations. */
export async function replayLog(wal: WriteAheadLog, coveredSequence: number, memtable: Memtable): Promise<number> {
  const utf8 = new TextDecoder();
  let operations = 0;
  for await (const record of wal.replay(coveredSequence + 1)) {
    record.entries.forEach((entry, i) => {
      const sequence = record.firstSeq + i;
      if (sequence <= coveredSequence) return;
      // The id copies the key; the value is copied or decoded: replayed entries are views into whole log files.
      const id = idOf(entry.key);
      if (entry.kind === 'delete') memtable.apply(sequence, { kind: 'delete', id, valueBytes: 0 });
      else {
        const value = entry.valueIsText === true ? utf8.decode(entry.value) : new Uint8Array(entry.value);
        memtable.apply(sequence, { kind: 'put', id, value, valueBytes: entry.value.length });
      }
      operations++;
    });
  }
  return operations;
}
