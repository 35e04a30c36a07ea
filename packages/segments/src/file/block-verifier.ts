import { crc32 } from '@silt/fs/internal';
import { CorruptionError } from '@silt/fs';
import type { BlockIndex } from './block-index.js';
import { ENTRY_ASCII, ENTRY_HEADER_BYTES, ENTRY_KNOWN_FLAGS, ENTRY_STRING, ENTRY_TOMBSTONE, SEGMENT_MAX_VALUE_BYTES } from './format.js';
import { AlignedWords } from './aligned-words.js';
import { compareBytes } from './key-bytes.js';
import { readU16, readU32 } from './little-endian.js';
import type { SegmentHeader } from './segment-header.js';

/**
 * Guards every data block before any byte of it is used: its CRC and its
 * structure (FORMAT.md, "Checksums"), once per reader. A segment file is
 * immutable, so a block that passed once has the same bytes when a
 * `file`-mode reader reads it again after evicting it: checking it again
 * cost a CRC of the whole block on every cache miss (0.95 µs for 4 KiB here,
 * a fifth of a random get). After this, entry parsing within the block needs
 * no further bounds checks.
 */
export class BlockVerifier {
  private readonly verified: Uint8Array;

  constructor(
    private readonly file: string,
    private readonly index: BlockIndex,
    private readonly header: SegmentHeader,
  ) {
    this.verified = new Uint8Array(Math.ceil(index.count / 8));
  }

  isVerified(block: number): boolean {
    return (this.verified[block >>> 3]! & (1 << (block & 7))) !== 0;
  }

  /** Checks `bytes` as block `block`, unless that block already passed; throws CorruptionError. */
  verify(block: number, bytes: Uint8Array): void {
    if (this.isVerified(block)) return;
    if ((crc32(bytes) | 0) !== this.index.crc(block)) {
      throw new CorruptionError(this.file, this.index.offset(block), `data block ${block} checksum mismatch`);
    }
    this.checkStructure(block, bytes);
    this.verified[block >>> 3]! |= 1 << (block & 7);
  }

  private checkStructure(block: number, bytes: Uint8Array): void {
    const { multiValue, blockSize } = this.header;
    const words = AlignedWords.over(bytes);
    let previousKeyStart = -1;
    let previousKeyLength = 0;
    let at = 0;
    while (at < bytes.length) {
      if (at >= blockSize) throw this.problem(block, at, `an entry starts at ${at}, past the block size ${blockSize}`);
      if (at + ENTRY_HEADER_BYTES > bytes.length) throw this.problem(block, at, 'entry header runs past the end of the block');
      const flags = bytes[at]!;
      const keyLength = readU16(bytes, at + 1);
      const valueLength = readU32(bytes, at + 3);
      const badFlags = flagProblem(flags, valueLength, multiValue);
      if (badFlags !== undefined) throw this.problem(block, at, badFlags);
      const keyStart = at + ENTRY_HEADER_BYTES;
      const end = keyStart + keyLength + valueLength;
      if (valueLength > SEGMENT_MAX_VALUE_BYTES || end > bytes.length)
        throw this.problem(block, at, 'entry runs past the end of the block');
      if (previousKeyStart < 0) {
        if (this.index.compareFirstKey(block, bytes, keyStart, keyLength) !== 0)
          throw this.problem(block, at, 'first key differs from the block index');
      } else {
        const order = compareBytes(bytes, keyStart, keyLength, bytes, previousKeyStart, previousKeyLength);
        if (order < 0 || (order === 0 && !multiValue)) throw this.problem(block, at, 'keys are out of order');
      }
      if ((flags & ENTRY_ASCII) !== 0 && !words.isAscii(bytes, keyStart + keyLength, end))
        throw this.problem(block, at, 'value flagged ASCII is not');
      previousKeyStart = keyStart;
      previousKeyLength = keyLength;
      at = end;
    }
    if (block + 1 < this.index.count) {
      const order = this.index.compareFirstKey(block + 1, bytes, previousKeyStart, previousKeyLength);
      if (order < 0 || (order === 0 && !multiValue)) throw this.problem(block, at, "last key is not below the next block's first key");
    }
  }

  private problem(block: number, at: number, detail: string): CorruptionError {
    return new CorruptionError(this.file, this.index.offset(block) + at, `data block ${block}: ${detail}`);
  }
}

/** What is wrong with an entry's flags (FORMAT.md, "Data section"), or undefined. */
export function flagProblem(flags: number, valueLength: number, multiValue: boolean): string | undefined {
  if ((flags & ~ENTRY_KNOWN_FLAGS) !== 0) return `unknown entry flags 0x${flags.toString(16)}`;
  if ((flags & ENTRY_TOMBSTONE) !== 0) {
    if (flags !== ENTRY_TOMBSTONE || valueLength !== 0) return 'a tombstone with a value';
    if (multiValue) return 'a tombstone in a multi-value segment';
  } else if ((flags & ENTRY_ASCII) !== 0 && (flags & ENTRY_STRING) === 0) {
    return 'ASCII flag without the string flag';
  }
  return undefined;
}
