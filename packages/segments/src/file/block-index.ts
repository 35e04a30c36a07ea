import { CorruptionError } from '@silt/fs';
import { BLOCK_RECORD_FIXED_BYTES, ENTRY_HEADER_BYTES, HEADER_BYTES, MAX_KEY_BYTES, SEGMENT_MAX_VALUE_BYTES } from './format.js';
import type { GrowableBytes } from './growable-bytes.js';
import { compareBytes } from './key-bytes.js';
import { readU16, readU32, writeU16, writeU32 } from './little-endian.js';
import type { SegmentFooter } from './segment-footer.js';
import type { SegmentHeader } from './segment-header.js';

/** Appends one block record (FORMAT.md, "Block index") to the builder's index. */
export function appendBlockRecord(index: GrowableBytes, length: number, crc: number, firstKey: Uint8Array): void {
  index.reserve(BLOCK_RECORD_FIXED_BYTES + firstKey.length);
  const at = index.length;
  writeU32(index.bytes, at, length);
  writeU32(index.bytes, at + 4, crc);
  writeU16(index.bytes, at + 8, firstKey.length);
  index.bytes.set(firstKey, at + BLOCK_RECORD_FIXED_BYTES);
  index.markWritten(BLOCK_RECORD_FIXED_BYTES + firstKey.length);
}

/**
 * The ordered index, held in memory in every access mode: each block's file
 * offset, CRC and first key. Binary search over first keys finds where a
 * range starts, LevelDB-table style.
 */
export class BlockIndex {
  private constructor(
    readonly count: number,
    /** count + 1 file offsets: block b spans offsets[b] .. offsets[b + 1]. */
    private readonly offsets: Float64Array,
    private readonly crcs: Int32Array,
    private readonly keyStarts: Float64Array,
    private readonly keyLengths: Uint16Array,
    private readonly keys: Uint8Array,
  ) {}

  /** Parses and checks the (already checksummed) section. */
  static parse(section: Uint8Array, footer: SegmentFooter, header: SegmentHeader, file: string): BlockIndex {
    const count = footer.blockCount;
    const offsets = new Float64Array(count + 1);
    const crcs = new Int32Array(count);
    const keyStarts = new Float64Array(count);
    const keyLengths = new Uint16Array(count);
    const largestBlock = header.blockSize - 1 + ENTRY_HEADER_BYTES + MAX_KEY_BYTES + SEGMENT_MAX_VALUE_BYTES;
    const problem = (block: number, at: number, detail: string): CorruptionError =>
      new CorruptionError(file, footer.blockIndexOffset + at, `block index record ${block}: ${detail}`);
    let at = 0;
    let dataOffset = HEADER_BYTES;
    const dataEnd = HEADER_BYTES + footer.dataLength;
    for (let block = 0; block < count; block++) {
      if (at + BLOCK_RECORD_FIXED_BYTES > section.length) throw problem(block, at, 'runs past the end of the block index');
      const length = readU32(section, at);
      if (length < ENTRY_HEADER_BYTES || length > largestBlock || dataOffset + length > dataEnd) {
        throw problem(block, at, `block length ${length} does not fit the data section`);
      }
      const keyLength = readU16(section, at + 8);
      const keyStart = at + BLOCK_RECORD_FIXED_BYTES;
      if (keyStart + keyLength > section.length) throw problem(block, at, 'first key runs past the end of the block index');
      if (block > 0) {
        const order = compareBytes(section, keyStarts[block - 1]!, keyLengths[block - 1]!, section, keyStart, keyLength);
        if (order > 0 || (order === 0 && !header.multiValue)) throw problem(block, at, 'first keys are out of order');
      }
      offsets[block] = dataOffset;
      crcs[block] = readU32(section, at + 4) | 0;
      keyStarts[block] = keyStart;
      keyLengths[block] = keyLength;
      dataOffset += length;
      at = keyStart + keyLength;
    }
    offsets[count] = dataOffset;
    if (dataOffset !== dataEnd) throw problem(count, at, `blocks cover ${dataOffset - HEADER_BYTES} of ${footer.dataLength} data bytes`);
    if (at !== section.length) throw problem(count, at, `${section.length - at} unexplained bytes after the last record`);
    return new BlockIndex(count, offsets, crcs, keyStarts, keyLengths, section);
  }

  offset(block: number): number {
    return this.offsets[block]!;
  }

  length(block: number): number {
    return this.offsets[block + 1]! - this.offsets[block]!;
  }

  crc(block: number): number {
    return this.crcs[block]!;
  }

  /** Orders block `block`'s first key against `key[start .. start + length)`. */
  compareFirstKey(block: number, key: Uint8Array, start: number, length: number): number {
    return compareBytes(this.keys, this.keyStarts[block]!, this.keyLengths[block]!, key, start, length);
  }

  /**
   * The last block whose first key is below `key` (or at most `key` when
   * `inclusive`), or -1 if there is none: where a scan for keys at/after
   * `key` must start, and where a reverse scan for keys below/at it starts.
   */
  lastBlockBefore(key: Uint8Array, inclusive: boolean): number {
    let low = 0;
    let high = this.count - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const order = this.compareFirstKey(middle, key, 0, key.length);
      if (order < 0 || (inclusive && order === 0)) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }
}

/** The last block of the run from `first` whose blocks fit in `maxBytes` together; `first` itself when even it does not. */
export function lastBlockWithin(index: BlockIndex, first: number, maxBytes: number): number {
  const limit = index.offset(first) + maxBytes;
  let last = first;
  while (last + 1 < index.count && index.offset(last + 1) + index.length(last + 1) <= limit) last++;
  return last;
}
