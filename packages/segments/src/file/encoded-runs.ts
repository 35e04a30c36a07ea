import type { BlockSource } from './block-source.js';

/**
 * A segment's data blocks, `runBytes` at a time, each run as one flat byte
 * array of its blocks back to back (FORMAT.md: the data section has no
 * gaps), so its entries follow one another to the run's end: what a native
 * merge loop walks. Blocks come from `BlockSource.ownBlocksFrom`: verified
 * (checksum and structure), and bytes of their own.
 */
export class EncodedRuns {
  private nextBlock = 0;

  constructor(
    private readonly source: BlockSource,
    private readonly blockCount: number,
    private readonly runBytes: number,
  ) {}

  /** The next run, or undefined after the last block. */
  next(): Uint8Array | undefined {
    if (this.nextBlock === this.blockCount) return undefined;
    const blocks = this.source.ownBlocksFrom(this.nextBlock, this.runBytes);
    this.nextBlock += blocks.length;
    return flatten(blocks);
  }
}

/** The blocks as one view where they lie back to back in one buffer (a run read at once), else as a copy. */
function flatten(blocks: readonly Uint8Array[]): Uint8Array {
  const first = blocks[0]!;
  let length = 0;
  let adjacent = true;
  for (const block of blocks) {
    adjacent &&= block.buffer === first.buffer && block.byteOffset === first.byteOffset + length;
    length += block.length;
  }
  return adjacent ? new Uint8Array(first.buffer, first.byteOffset, length) : Buffer.concat(blocks, length);
}
