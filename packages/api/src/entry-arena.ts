/** The first block's size: a table that takes a few writes takes little memory. */
const FIRST_BLOCK_BYTES = 4 * 1024;
/** Blocks double up to this size; a larger write gets a block of its own size. */
const MAX_BLOCK_BYTES = 1024 * 1024;

/**
 * Memory for the memtable's new writes: room is handed out at the end of
 * the current block, and a block is never moved, reused or freed while the
 * arena lives (the table that owns it is dropped whole after its flush).
 * The blocks lie outside the JavaScript heap (`allocUnsafeSlow`), so
 * hundreds of thousands of keys and values cost the garbage collector
 * nothing: held as a string and an object each, they were copied from the
 * young generation to the old one and then marked at every major
 * collection for as long as the table lived.
 */
export class EntryArena {
  private block: Buffer | undefined;
  private used = 0;
  private start = 0;
  private nextBlockBytes = FIRST_BLOCK_BYTES;

  /** The block in which `length` bytes were just reserved, at `reservedAt`. */
  reserve(length: number): Buffer {
    let block = this.block;
    if (block === undefined || this.used + length > block.length) {
      block = Buffer.allocUnsafeSlow(Math.max(this.nextBlockBytes, length));
      this.nextBlockBytes = Math.min(MAX_BLOCK_BYTES, this.nextBlockBytes * 2);
      this.block = block;
      this.used = 0;
    }
    this.start = this.used;
    this.used += length;
    return block;
  }

  /** Where the last `reserve` put its bytes in the block it returned. */
  get reservedAt(): number {
    return this.start;
  }
}
