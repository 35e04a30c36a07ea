import { ClosedError } from '@silt/fs';
import type { BlockIndex } from './block-index.js';
import type { BlockSource } from './block-source.js';
import type { BlockVerifier } from './block-verifier.js';

const NO_BYTES = Buffer.alloc(0);

/** `memory` mode: the whole file is one Buffer; each block is verified the first time it is used. */
export class MemoryBlockSource implements BlockSource {
  private file: Buffer;
  private verified: Uint8Array;
  private closed = false;

  constructor(
    file: Buffer,
    private readonly index: BlockIndex,
    private readonly verifier: BlockVerifier,
    private readonly name: string,
  ) {
    this.file = file;
    this.verified = new Uint8Array(index.count);
  }

  bytesOf(block: number): Buffer {
    if (this.verified[block] === 0) this.verify(block);
    return this.file;
  }

  blockStart(block: number): number {
    return this.index.offset(block);
  }

  readAt(target: Uint8Array, position: number): void {
    target.set(this.file.subarray(position, position + target.length));
  }

  close(): void {
    this.closed = true;
    this.file = NO_BYTES;
    this.verified = new Uint8Array(this.index.count);
  }

  private verify(block: number): void {
    if (this.closed) throw new ClosedError(`segment reader for ${this.name}`);
    const start = this.index.offset(block);
    this.verifier.verify(block, this.file.subarray(start, start + this.index.length(block)));
    this.verified[block] = 1;
  }
}
