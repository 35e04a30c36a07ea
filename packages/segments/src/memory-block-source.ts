import { ClosedError } from '@silt/fs';
import type { BlockIndex } from './block-index.js';
import type { BlockRef, BlockSource } from './block-ref.js';
import type { BlockVerifier } from './block-verifier.js';

/** `memory` mode: the whole file is one Buffer; each block is verified the first time it is used, then served as a view. */
export class MemoryBlockSource implements BlockSource {
  private refs: (BlockRef | undefined)[];
  private file: Buffer | undefined;

  constructor(
    file: Buffer,
    private readonly index: BlockIndex,
    private readonly verifier: BlockVerifier,
    private readonly name: string,
  ) {
    this.file = file;
    this.refs = new Array<BlockRef | undefined>(index.count);
  }

  acquire(block: number): BlockRef {
    return this.refs[block] ?? this.load(block);
  }

  close(): void {
    this.file = undefined;
    this.refs = [];
  }

  private load(block: number): BlockRef {
    if (this.file === undefined) throw new ClosedError(`segment reader for ${this.name}`);
    const start = this.index.offset(block);
    const bytes = this.file.subarray(start, start + this.index.length(block));
    this.verifier.verify(block, bytes);
    const ref: BlockRef = { bytes, generation: 0 };
    this.refs[block] = ref;
    return ref;
  }
}
