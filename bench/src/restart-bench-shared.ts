/**
 * What the restart bench (restart-bench.ts) and its loader process
 * (restart-bench-child.ts) share: the job, the loader's message, and the
 * workload's shape.
 */

export const RESTART_KEY_BYTES = 16;
export const RESTART_VALUE_BYTES = 100;
export const RESTART_BATCH = 1_000;
/** Batches the loader goes on writing after it reported, so the kill lands mid-load (and the log grows by at most ~1 MiB). */
export const RESTART_EXTRA_BATCHES = 8;

/** The engines a loader process can load before it is killed. */
export type LoaderEngine = 'silt' | 'classic-level';

/** What the parent asks a forked loader to do (one JSON argument). */
export interface LoaderJob {
  readonly engine: LoaderEngine;
  /** Where the index (silt) or database (classic-level) goes. */
  readonly path: string;
  /** Keys acknowledged before the loader reports; it goes on writing after that. */
  readonly keys: number;
  readonly seed: number;
  /** classic-level's write buffer: above the load, so nothing leaves its log before the kill. */
  readonly writeBufferSize: number;
}

/** The loader's one message: the last key acknowledged before it reported, which must survive the kill. */
export interface LoaderReport {
  readonly lastKey: string;
  readonly lastValue: string;
  /** Segments (silt) the loader's index held when it reported: 0, or the log was not all there was. */
  readonly segments: number;
}
