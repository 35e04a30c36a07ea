import { join } from 'node:path';
import { WriteAheadLog } from '@silt/wal';

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
