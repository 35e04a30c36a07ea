import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sequenceOfLogFile } from '@silt/fs';
import { parseLogFile, WriteAheadLog } from '@silt/wal';

/**
 * Writes `pairs` to an index's log as one record after sequence `after`,
 * with no writer running: what a writer killed before its flush leaves.
 * Returns the last sequence number written.
 */
export async function appendToLog(indexDirectory: string, after: number, pairs: ReadonlyArray<readonly [string, string]>): Promise<number> {
  const wal = await WriteAheadLog.open(join(indexDirectory, 'wal'), { nextSequence: after + 1 });
  try {
    await wal.append(pairs.map(([key, value]) => ({ kind: 'put', key, value })));
    return wal.lastSequence;
  } finally {
    await wal.close();
  }
}

/**
 * Flips a byte inside the `nth` record of the index's newest log file, so
 * that valid records follow the damage: what a disk, not a crash, does.
 * Returns the file and the record's offset.
 */
export function damageLogRecord(indexDirectory: string, nth: number): { file: string; offset: number } {
  const walDirectory = join(indexDirectory, 'wal');
  const newest = readdirSync(walDirectory)
    .filter((name) => sequenceOfLogFile(name) !== undefined)
    .sort()
    .at(-1)!;
  const file = join(walDirectory, newest);
  const bytes = readFileSync(file);
  const record = parseLogFile(bytes, { file, firstSequence: sequenceOfLogFile(newest)!, isLast: true }).records[nth];
  if (record === undefined) throw new Error(`${file} has no record #${nth}`);
  bytes[record.offset + Math.floor(record.length / 2)]! ^= 0x5a;
  writeFileSync(file, bytes);
  return { file, offset: record.offset };
}
