import type { BlockSource } from './block-source.js';
import { entryEnd } from './entry-scan.js';
import { ENTRY_HEADER_BYTES, ENTRY_TOMBSTONE } from './format.js';
import { readU16 } from './little-endian.js';

const NO_BYTES = Buffer.alloc(0);

/**
 * A forward cursor over every entry of a segment, tombstones included, in
 * key order, as its block encodes it: the fields describe the entry it is
 * on, and `advance()` moves them on, so a pass over millions of entries
 * allocates nothing per entry (a generator's result objects cost a merge
 * ~15 % of its time). Blocks come `runBytes` at a time from
 * `BlockSource.ownBlocksFrom`: verified, and bytes of their own, so the
 * `bytes` of an entry the cursor has left stay valid while held.
 */
export class EncodedCursor {
  private entryBytes: Buffer = NO_BYTES;
  private entryAt = 0;
  private entryKeyStart = 0;
  private entryKeyLength = 0;
  private run: Buffer[] = [];
  private runIndex = 0;
  private nextBlock = 0;
  private entryEnd = 0;

  constructor(
    private readonly source: BlockSource,
    private readonly blockCount: number,
    private readonly runBytes: number,
  ) {}

  /** Bytes holding the current entry, from `at`; its key is `keyLength` bytes from `keyStart`. */
  get bytes(): Buffer {
    return this.entryBytes;
  }

  get at(): number {
    return this.entryAt;
  }

  /** The bytes holding the current entry hold its key too (`MergeCursor`). */
  get keyBytes(): Buffer {
    return this.entryBytes;
  }

  get keyStart(): number {
    return this.entryKeyStart;
  }

  get keyLength(): number {
    return this.entryKeyLength;
  }

  get tombstone(): boolean {
    return (this.entryBytes[this.entryAt]! & ENTRY_TOMBSTONE) !== 0;
  }

  /** Moves to the next entry (the first, on the first call); false past the last. */
  advance(): boolean {
    let at = this.entryEnd;
    while (at >= this.entryBytes.length) {
      if (!this.nextBlockBytes()) return false;
      at = 0;
    }
    const bytes = this.entryBytes;
    this.entryAt = at;
    this.entryKeyStart = at + ENTRY_HEADER_BYTES;
    this.entryKeyLength = readU16(bytes, at + 1);
    this.entryEnd = entryEnd(bytes, at);
    return true;
  }

  private nextBlockBytes(): boolean {
    if (this.runIndex === this.run.length) {
      if (this.nextBlock === this.blockCount) return false;
      this.run = this.source.ownBlocksFrom(this.nextBlock, this.runBytes);
      this.nextBlock += this.run.length;
      this.runIndex = 0;
    }
    this.entryBytes = this.run[this.runIndex++]!;
    return true;
  }
}
