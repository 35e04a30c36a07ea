import { ClosedError, CorruptionError, type FileHandle } from '@silt/fs';
import { attempt } from '@silt/fs/internal';
import { BlockCache } from './block-cache.js';
import type { BlockIndex } from './block-index.js';
import type { BlockSource } from './block-source.js';
import type { BlockVerifier } from './block-verifier.js';

/**
 * `file` mode: blocks are read with positioned reads into a bounded LRU
 * cache and verified on every load, so a process can serve a segment larger
 * than its memory. A block larger than the whole cache is read, verified and
 * kept aside alone (the last such block only), outside the budget.
 */
export class FileBlockSource implements BlockSource {
  private readonly cache: BlockCache;
  private oversizeBlock = -1;
  private oversizeBytes: Buffer = Buffer.alloc(0);
  private closed = false;

  constructor(
    private readonly handle: FileHandle,
    private readonly index: BlockIndex,
    private readonly verifier: BlockVerifier,
    cacheBytes: number,
  ) {
    this.cache = new BlockCache(cacheBytes);
  }

  get cachedBytes(): number {
    return this.cache.usedBytes;
  }

  bytesOf(block: number): Buffer {
    const node = this.cache.get(block);
    if (node !== undefined) return node.bytes;
    return block === this.oversizeBlock ? this.oversizeBytes : this.load(block);
  }

  blockStart(): number {
    return 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cache.clear();
    this.oversizeBlock = -1;
    this.oversizeBytes = Buffer.alloc(0);
    this.handle.close();
  }

  private load(block: number): Buffer {
    if (this.closed) throw new ClosedError(`segment reader for ${this.handle.path}`);
    const length = this.index.length(block);
    const node = this.cache.claim(block, length);
    const bytes = node?.bytes ?? Buffer.allocUnsafeSlow(length);
    try {
      this.readFully(block, bytes);
      this.verifier.verify(block, bytes);
    } catch (error) {
      if (node !== undefined) this.cache.drop(block);
      throw error;
    }
    if (node === undefined) {
      this.oversizeBlock = block;
      this.oversizeBytes = bytes;
    }
    return bytes;
  }

  readAt(target: Uint8Array, position: number, what = `the section at ${position}`): void {
    if (this.closed) throw new ClosedError(`segment reader for ${this.handle.path}`);
    const { handle } = this;
    const read = attempt('read segment', handle.path, () => handle.read(target, position));
    if (read !== target.length) {
      throw new CorruptionError(this.handle.path, position + read, `${what} is cut short: the file shrank after it was opened`);
    }
  }

  private readFully(block: number, target: Buffer): void {
    this.readAt(target, this.index.offset(block), `data block ${block}`);
  }
}
