/**
 * A verified data block as handed out by a block source. `generation`
 * changes when a cache reuses the block's memory for another block, so a
 * holder that let other reads run (an iterator between two `next()` calls)
 * checks it and acquires the block again.
 */
export interface BlockRef {
  readonly bytes: Buffer;
  readonly generation: number;
}

/** Where a reader's data blocks come from: the whole file in memory, or positioned reads through a cache. */
export interface BlockSource {
  /** The block's bytes, verified (FORMAT.md, "Checksums"); throws CorruptionError or ClosedError. */
  acquire(block: number): BlockRef;
  close(): void;
}
