import { basename } from 'node:path';
import { LOG_ACKNOWLEDGED_FILE, type CrashSimFileSystem } from '@silt/fs';

/**
 * What a power loss could take from the log: the simulator's unsynced paths,
 * less the acknowledged marker, a hint for live readers that is never
 * fsynced by design (FORMAT.md, "The acknowledged marker").
 */
export function unsyncedLogPaths(sim: CrashSimFileSystem): string[] {
  return sim.unsyncedPaths().filter((path) => basename(path) !== LOG_ACKNOWLEDGED_FILE);
}
