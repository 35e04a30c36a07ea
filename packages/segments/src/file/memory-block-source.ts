import { ClosedError } from '@silt/fs';
import { lastBlockWithin, type BlockIndex } from './block-index.js';
import type { BlockSource } from './block-source.js';
import type { BlockVerifier } from './block-verifier.js';

const NO_BYTES = Buffer.alloc(0);

/** `memory` mode: the whole file is one Buffer; each block is verified the first time it is used. */
export class MemoryBlockSource implements BlockSource {
  private file: Buffer;
  private closed = false;
  private lastEntryStart = 0;

  constructor(
    file: Buffer,
    private readonly index: BlockIndex,
    private readonly verifier: BlockVerifier,
    private readonly name: string,
  ) {
    this.file = file;
  }

  bytesOf(block: number): Buffer {
    if (!this.verifier.isVerified(block)) this.verify(block);
    return this.file;
  }

  blockStart(block: number): number {
    return this.index.offset(block);
  }

  get entryStart(): number {
    return this.lastEntryStart;
  }

  ownBlocksFrom(first: number, maxBytes: number): Buffer[] {
    const views: Buffer[] = [];
    for (let block = first, last = lastBlockWithin(this.index, first, maxBytes); block <= last; block++) {
      const start = this.index.offset(block);
      views.push(this.bytesOf(block).subarray(start, start + this.index.length(block)));
    }
    return views;
  }

  entryBytes(block: number, offset: number): Buffer {
    const bytes = this.bytesOf(block);
    this.lastEntryStart = this.index.offset(block) + offset;
    return bytes;
  }

  close(): void {
    this.closed = true;
    this.file = NO_BYTES;
  }

  private verify(block: number): void {
    if (this.closed) throw new ClosedError(`segment reader for ${this.name}`);
    const start = this.index.offset(block);
    this.verifier.verify(block, this.file.subarray(start, start + this.index.length(block)));
  }
}
