/**
 * Where a reader's data blocks come from: the whole file in memory, or
 * positioned reads through a cache. A block is verified (FORMAT.md,
 * "Checksums") before its bytes are first returned.
 *
 * `bytesOf(block)` returns the bytes that hold the block, from
 * `blockStart(block)` for the block's length: in memory mode the whole file
 * (no per-block object on the lookup path), in file mode the cached block.
 * They stay valid only until another block is read: a cache may reuse the
 * memory. So code that lets other reads run in between (an iterator between
 * two `next()` calls) asks again, which costs a bitmap check or a cache hit.
 */
export interface BlockSource {
  /** Throws CorruptionError for a damaged block, ClosedError after `close`. */
  bytesOf(block: number): Buffer;
  blockStart(block: number): number;
  /**
   * Bytes that hold the entry at `offset` within `block` (a verified block),
   * from `entryStart`: the block's (as `bytesOf`), or in `file` mode just the
   * entry's when the block is not cached (those may run on past the block's
   * end). An entry that runs past the block (damage) may be cut short; the
   * caller checks its lengths against the block.
   */
  entryBytes(block: number, offset: number): Buffer;
  /** Where the entry starts in the bytes the last `entryBytes` returned. */
  readonly entryStart: number;
  /**
   * Blocks from `first` on, as many as fit in `maxBytes` (at least one),
   * verified, each a view from its index 0 of bytes of their own: no cache
   * reuses them, so they stay valid for as long as they are held. For a pass
   * that hands entries on without copying them, such as a merge; in `file`
   * mode one read brings them all.
   */
  ownBlocksFrom(first: number, maxBytes: number): Buffer[];
  close(): void;
}
