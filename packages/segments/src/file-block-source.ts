import { ClosedError, CorruptionError, IoError, type FileHandle } from '@silt/fs';
import { BlockCache } from './block-cache.js';
import type { BlockIndex } from './block-index.js';
import type { BlockRef, BlockSource } from './block-ref.js';
import type { BlockVerifier } from './block-verifier.js';

/**
 * `file` mode: blocks are read with positioned reads into a bounded LRU
 * cache and verified on every load, so a process can serve a segment larger
 * than its memory. A block larger than the whole cache is read, verified and
 * used without being cached.
 */
export class FileBlockSource implements BlockSource {
  private readonly cache: BlockCache;
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

  acquire(block: number): BlockRef {
    return this.cache.get(block) ?? this.load(block);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cache.clear();
    this.handle.close();
  }

  private load(block: number): BlockRef {
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
    return node ?? { bytes, generation: 0 };
  }

  private readFully(block: number, target: Buffer): void {
    const position = this.index.offset(block);
    let read: number;
    try {
      read = this.handle.read(target, position);
    } catch (error) {
      throw new IoError('read segment', this.handle.path, error);
    }
    if (read !== target.length) {
      throw new CorruptionError(this.handle.path, position + read, `data block ${block} is cut short: the file shrank after it was opened`);
    }
  }
}
