import { ValidationError } from '@silt/fs';

/**
 * A point where a merge stops until it is released: how a test injects a
 * fault (an abort, a removed directory) at an exact place in a running merge
 * instead of racing it by polling file sizes. The state lives in shared
 * memory, so it works the same in a worker thread and on this one.
 */
export interface MergePause {
  /** The merge stops once it has handed this many entries to its output (0: the output was created, nothing added yet). */
  readonly afterEntries: number;
  /** One Int32 on a SharedArrayBuffer: MERGE_RUNNING, then MERGE_PAUSED when the merge stops, MERGE_RELEASED to let it go on. */
  readonly state: Int32Array;
}

export const MERGE_RUNNING = 0;
export const MERGE_PAUSED = 1;
export const MERGE_RELEASED = 2;

/** Marks the merge paused, wakes whoever waits for that, and waits (without blocking the thread) until released. */
export async function pauseMerge(pause: MergePause): Promise<void> {
  Atomics.store(pause.state, 0, MERGE_PAUSED);
  Atomics.notify(pause.state, 0);
  while (Atomics.load(pause.state, 0) === MERGE_PAUSED) await Atomics.waitAsync(pause.state, 0, MERGE_PAUSED).value;
}

/** A request's pause must be a whole entry count and one Int32 of shared memory. */
export function checkMergePause(pause: unknown): void {
  if (pause === undefined) return;
  const { afterEntries, state } = (pause ?? {}) as Partial<MergePause>;
  if (!Number.isSafeInteger(afterEntries) || (afterEntries as number) < 0) {
    throw new ValidationError(`merge pause afterEntries must be a whole number of entries, got ${String(afterEntries)}`);
  }
  if (!(state instanceof Int32Array) || !(state.buffer instanceof SharedArrayBuffer) || state.length < 1) {
    throw new ValidationError('merge pause state must be an Int32Array on a SharedArrayBuffer');
  }
}
