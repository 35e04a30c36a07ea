import { loadAddon } from './addon.js';

/**
 * merge.c's call: one stretch of a k-way merge of runs of encoded segment
 * entries (FORMAT.md of @silt/segments, "Data section"), newest run first.
 * It appends the newest entry of each key to `output` (tombstones left out
 * when `dropTombstones`), closing a block once it holds `blockSize` bytes
 * or more, and returns a `MERGE_STATUS`. `state` (an Int32Array of at least
 * `MERGE_STATE.cursors + runs.length`) carries everything between calls;
 * `hashes` and `offsets` get each appended entry's key hash (key-hash.ts of
 * @silt/segments) and offset in its block; `blockEnds`, each closed
 * block's end in `output`.
 */
export type MergeEntries = (
  runs: readonly Uint8Array[],
  state: Int32Array,
  output: Uint8Array,
  hashes: Uint32Array,
  offsets: Uint32Array,
  blockEnds: Uint32Array,
  blockSize: number,
  dropTombstones: boolean,
) => number;

/** Where `mergeEntries` keeps its state (merge.c's STATE_*): Int32Array indexes. */
export const MERGE_STATE = {
  /** Bytes of `output` in use: closed blocks, then the open one. */
  outputLength: 0,
  /** Where the open block starts in `output`. */
  blockStart: 1,
  /** Closed blocks in `blockEnds`. */
  blocks: 2,
  /** Entries in `hashes` / `offsets`. */
  entries: 3,
  /** Tombstones left out (`dropTombstones`), in all. */
  dropped: 4,
  /**
   * With `input`, which run is spent; with `room`, the bytes the open block
   * needs with the next entry; with `order` or `malformed`, which run.
   */
  detail: 5,
  /** Where in `output` the last entry appended starts, or -1: the next must have a greater key. */
  lastEntry: 6,
  /** From here, one a run: where its current entry starts, or -1 when the run's input is done. */
  cursors: 16,
} as const;

/** What `mergeEntries` returns. */
export const MERGE_STATUS = {
  /** Every input is done. */
  done: 0,
  /** Run `state[detail]` is spent: give that input's next run (cursor at 0), or mark it done (-1). */
  input: 1,
  /** `output`, `hashes`/`offsets` or the block arrays are full: take the closed blocks out, or grow `output`. */
  room: 2,
  /** A run's keys do not ascend: its entry would not be above the last one appended (`state[detail]` says which run). */
  order: 3,
  /** An entry runs past the end of its run (`state[detail]` says which). */
  malformed: 4,
} as const;

/**
 * The addon's merge loop (merge.c), or undefined where the addon did not
 * load. The call throws a TypeError for arguments of the wrong types, and a
 * RangeError, before reading anything, for a state that does not describe
 * its output.
 */
export function nativeMergeEntries(): MergeEntries | undefined {
  const found = loadAddon();
  return found instanceof Error ? undefined : found.mergeEntries;
}
