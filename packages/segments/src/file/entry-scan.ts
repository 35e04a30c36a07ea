import type { BlockIndex } from './block-index.js';
import type { BlockSource } from './block-source.js';
import { ENTRY_HEADER_BYTES } from './format.js';
import { compareBytes } from './key-bytes.js';
import { readU16, readU32 } from './little-endian.js';
import type { Bound } from './range-options.js';

/** Where the scan stands: valid until the scan is resumed. The same object is reused for every entry. */
export interface ScanPosition {
  bytes: Buffer;
  /** Offset of the entry within `bytes` (which may hold more than its block). */
  at: number;
  block: number;
}

export function entryEnd(bytes: Uint8Array, at: number): number {
  return at + ENTRY_HEADER_BYTES + readU16(bytes, at + 1) + readU32(bytes, at + 3);
}

function orderAgainst(bytes: Uint8Array, at: number, bound: Bound): number {
  return compareBytes(bytes, at + ENTRY_HEADER_BYTES, readU16(bytes, at + 1), bound.key, 0, bound.key.length);
}

function belowLower(bytes: Uint8Array, at: number, lower: Bound): boolean {
  const order = orderAgainst(bytes, at, lower);
  return order < 0 || (order === 0 && !lower.inclusive);
}

function aboveUpper(bytes: Uint8Array, at: number, upper: Bound): boolean {
  const order = orderAgainst(bytes, at, upper);
  return order > 0 || (order === 0 && !upper.inclusive);
}

const NO_BYTES = Buffer.alloc(0);

/**
 * A scan of a segment's entries within bounds, as a cursor: `advance()`
 * moves `position` to the next entry, so a scan allocates nothing per entry
 * (a generator's resume and result object cost a full scan ~10 % of its
 * time). It is also an iterator of that one reused position, for `for-of`.
 * Blocks are parsed in place: the verifier already checked their structure.
 * On each `advance()` the block's bytes are asked for again (see BlockSource).
 */
export abstract class EntryScan implements IterableIterator<ScanPosition> {
  /** The entry the scan is on; valid until the next `advance()`. */
  readonly position: ScanPosition = { bytes: NO_BYTES, at: 0, block: 0 };

  constructor(
    protected readonly source: BlockSource,
    protected readonly blocks: BlockIndex,
    protected readonly lower: Bound | undefined,
    protected readonly upper: Bound | undefined,
  ) {}

  /** Moves to the next entry within the bounds; false past the last. */
  abstract advance(): boolean;

  next(): IteratorResult<ScanPosition> {
    return this.advance() ? { done: false, value: this.position } : { done: true, value: undefined };
  }

  [Symbol.iterator](): IterableIterator<ScanPosition> {
    return this;
  }

  protected moveTo(bytes: Buffer, at: number, block: number): true {
    const position = this.position;
    position.bytes = bytes;
    position.at = at;
    position.block = block;
    return true;
  }
}

/**
 * Every entry (puts and tombstones) within the bounds, ascending. Starts in
 * the last block whose first key is below the lower bound (at or below it
 * for an exclusive bound), which is where the first key in range can be even
 * when a run of equal keys spans blocks.
 */
export class ForwardScan extends EntryScan {
  private block: number;
  private nextAt = 0;
  private blockEnd = 0;
  private reachedLower: boolean;

  constructor(source: BlockSource, blocks: BlockIndex, lower: Bound | undefined, upper: Bound | undefined) {
    super(source, blocks, lower, upper);
    this.block = (lower === undefined ? 0 : Math.max(0, blocks.lastBlockBefore(lower.key, !lower.inclusive))) - 1;
    this.reachedLower = lower === undefined;
  }

  advance(): boolean {
    let bytes = this.nextAt < this.blockEnd ? this.source.bytesOf(this.block) : this.enterNextBlock();
    while (bytes !== undefined) {
      const at = this.nextAt;
      if (at >= this.blockEnd) {
        bytes = this.enterNextBlock();
        continue;
      }
      this.nextAt = entryEnd(bytes, at);
      if (!this.reachedLower) {
        if (belowLower(bytes, at, this.lower!)) continue;
        this.reachedLower = true;
      }
      if (this.upper !== undefined && aboveUpper(bytes, at, this.upper)) return this.finish();
      return this.moveTo(bytes, at, this.block);
    }
    return false;
  }

  /** The next block's bytes, the scan placed at its start; undefined past the last block. */
  private enterNextBlock(): Buffer | undefined {
    if (this.block + 1 >= this.blocks.count) {
      this.finish();
      return undefined;
    }
    const block = ++this.block;
    const bytes = this.source.bytesOf(block);
    this.nextAt = this.source.blockStart(block);
    this.blockEnd = this.nextAt + this.blocks.length(block);
    return bytes;
  }

  private finish(): false {
    this.block = this.blocks.count;
    this.nextAt = this.blockEnd = 0;
    return false;
  }
}

/** Every entry within the bounds, descending: from the last block that can hold the upper bound, each block's entries backwards. */
export class BackwardScan extends EntryScan {
  private block: number;
  /** Entry offsets of the current block, ascending; the scan walks them from `nextIndex` down. */
  private starts: number[] = [];
  private nextIndex = -1;
  private reachedUpper: boolean;

  constructor(source: BlockSource, blocks: BlockIndex, lower: Bound | undefined, upper: Bound | undefined) {
    super(source, blocks, lower, upper);
    this.block = (upper === undefined ? blocks.count - 1 : blocks.lastBlockBefore(upper.key, upper.inclusive)) + 1;
    this.reachedUpper = upper === undefined;
  }

  advance(): boolean {
    let bytes = this.nextIndex >= 0 ? this.source.bytesOf(this.block) : this.enterPreviousBlock();
    while (bytes !== undefined) {
      if (this.nextIndex < 0) {
        bytes = this.enterPreviousBlock();
        continue;
      }
      const at = this.starts[this.nextIndex--]!;
      if (!this.reachedUpper) {
        if (aboveUpper(bytes, at, this.upper!)) continue;
        this.reachedUpper = true;
      }
      if (this.lower !== undefined && belowLower(bytes, at, this.lower)) return this.finish();
      return this.moveTo(bytes, at, this.block);
    }
    return false;
  }

  /** The previous block's bytes, the scan placed at its last entry; undefined before the first block. */
  private enterPreviousBlock(): Buffer | undefined {
    if (this.block <= 0) {
      this.finish();
      return undefined;
    }
    const block = --this.block;
    const bytes = this.source.bytesOf(block);
    const start = this.source.blockStart(block);
    this.starts = entryStarts(bytes, start, start + this.blocks.length(block));
    this.nextIndex = this.starts.length - 1;
    return bytes;
  }

  private finish(): false {
    this.block = 0;
    this.nextIndex = -1;
    return false;
  }
}

/** Entries within the bounds, ascending, through the one reused position. */
export function scanForward(source: BlockSource, blocks: BlockIndex, lower: Bound | undefined, upper: Bound | undefined): ForwardScan {
  return new ForwardScan(source, blocks, lower, upper);
}

/** Entries within the bounds, descending, through the one reused position. */
export function scanBackward(source: BlockSource, blocks: BlockIndex, lower: Bound | undefined, upper: Bound | undefined): BackwardScan {
  return new BackwardScan(source, blocks, lower, upper);
}

function entryStarts(bytes: Uint8Array, start: number, end: number): number[] {
  const starts: number[] = [];
  for (let at = start; at < end; at = entryEnd(bytes, at)) starts.push(at);
  return starts;
}
