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
  /** Fills `target` from the file at `position` (hash slots in `file` mode); CorruptionError if the file is shorter. */
  readAt(target: Uint8Array, position: number): void;
  close(): void;
}
