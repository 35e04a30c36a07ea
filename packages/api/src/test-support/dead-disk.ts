import { FAULT_OPERATIONS, type FaultInjectingFileSystem } from '@silt/fs';

/**
 * Makes every later call through `fence` fail with EIO, for good: after a
 * simulated power cut, the process still running (the zombie) must change
 * nothing more on the disk the next life recovers from.
 */
export function failEveryCall(fence: FaultInjectingFileSystem): void {
  for (const operation of FAULT_OPERATIONS) fence.addFault({ operation, nth: 1, sticky: true, code: 'EIO' });
}
