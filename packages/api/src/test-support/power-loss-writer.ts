import { FAULT_OPERATIONS, FaultInjectingFileSystem, type CrashSimFileSystem } from '@silt/fs';
import type { SeededRandom } from '@silt/fs/internal';
import { Index } from '../index-handle.js';

/**
 * A writer for power-loss tests: `fsync` mode, through a fence over the
 * simulated disk (so `failEveryCall` can cut it off once the power is
 * gone), with sizes drawn from `random`: a short refresh interval, small
 * memtables, small log files (crashes also land in log rotation and in
 * deleting covered files) and eager merges (power also goes out while
 * merges write and commit).
 */
export async function openPowerLossWriter(
  dir: string,
  sim: CrashSimFileSystem,
  random: SeededRandom,
): Promise<{ readonly index: Index; readonly fence: FaultInjectingFileSystem }> {
  const fence = new FaultInjectingFileSystem(sim);
  const index = await Index.open(dir, {
    fs: fence,
    durability: 'fsync',
    refreshIntervalMs: random.intBetween(5, 60),
    memtableBytes: random.pick([4096, 16 * 1024, 64 * 1024]),
    walFileBytes: random.pick([2048, 8192, 32 * 1024]),
    mergePolicy: { minRunLength: random.pick([2, 4]) },
  });
  return { index, fence };
}

/**
 * Makes every later call through `fence` fail with EIO, for good: after a
 * simulated power cut, the process still running (the zombie) must change
 * nothing more on the disk the next life recovers from.
 */
export function failEveryCall(fence: FaultInjectingFileSystem): void {
  for (const operation of FAULT_OPERATIONS) fence.addFault({ operation, nth: 1, sticky: true, code: 'EIO' });
}
