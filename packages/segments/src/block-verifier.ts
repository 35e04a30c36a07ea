import { crc32 } from 'node:zlib';
import { CorruptionError } from '@silt/fs';
import type { BlockIndex } from './block-index.js';
import {
  ENTRY_ASCII,
  ENTRY_HEADER_BYTES,
  ENTRY_KNOWN_FLAGS,
  ENTRY_STRING,
  ENTRY_TOMBSTONE,
  MAX_VALUE_BYTES,
} from './format.js';
import { compareBytes } from './key-bytes.js';
import { readU16, readU32 } from './little-endian.js';
import type { SegmentHeader } from './segment-header.js';

/**
 * Guards every data block before any byte of it is used: the CRC each time
 * the block's bytes are read, and, the first time, the structure (FORMAT.md,
 * "Checksums"). A block whose CRC matches the one it had when its structure
 * was checked has the same bytes, so the structure is checked once per reader.
 * After this, entry parsing within the block needs no further bounds checks.
 */
export class BlockVerifier {
  private readonly structureChecked: Uint8Array;

  constructor(
    private readonly file: string,
    private readonly index: BlockIndex,
    private readonly header: SegmentHeader,
  ) {
    this.structureChecked = new Uint8Array(Math.ceil(index.count / 8));
  }

  verify(block: number, bytes: Uint8Array): void {
    if ((crc32(bytes) | 0) !== this.index.crc(block)) {
      throw new CorruptionError(this.file, this.index.offset(block), `data block ${block} checksum mismatch`);
    }
    const bit = 1 << (block & 7);
    if ((this.structureChecked[block >>> 3]! & bit) !== 0) return;
    this.checkStructure(block, bytes);
    this.structureChecked[block >>> 3]! |= bit;
  }

  private checkStructure(block: number, bytes: Uint8Array): void {
    const { multiValue, blockSize } = this.header;
    const problem = (at: number, detail: string): CorruptionError =>
      new CorruptionError(this.file, this.index.offset(block) + at, `data block ${block}: ${detail}`);
    let previousKeyStart = -1;
    let previousKeyLength = 0;
    let at = 0;
    while (at < bytes.length) {
      if (at >= blockSize) throw problem(at, `an entry starts at ${at}, past the block size ${blockSize}`);
      if (at + ENTRY_HEADER_BYTES > bytes.length) throw problem(at, 'entry header runs past the end of the block');
      const flags = bytes[at]!;
      const keyLength = readU16(bytes, at + 1);
      const valueLength = readU32(bytes, at + 3);
      checkFlags(flags, valueLength, multiValue, (detail) => problem(at, detail));
      const keyStart = at + ENTRY_HEADER_BYTES;
      const end = keyStart + keyLength + valueLength;
      if (valueLength > MAX_VALUE_BYTES || end > bytes.length) throw problem(at, 'entry runs past the end of the block');
      const order =
        previousKeyStart < 0
          ? -this.index.compareFirstKey(block, bytes, keyStart, keyLength)
          : compareBytes(bytes, keyStart, keyLength, bytes, previousKeyStart, previousKeyLength);
      if (previousKeyStart < 0 ? order !== 0 : order < 0 || (order === 0 && !multiValue)) {
        throw problem(at, previousKeyStart < 0 ? 'first key differs from the block index' : 'keys are out of order');
      }
      if ((flags & ENTRY_ASCII) !== 0 && !isAscii(bytes, keyStart + keyLength, end)) throw problem(at, 'value flagged ASCII is not');
      previousKeyStart = keyStart;
      previousKeyLength = keyLength;
      at = end;
    }
    if (block + 1 < this.index.count) {
      const order = this.index.compareFirstKey(block + 1, bytes, previousKeyStart, previousKeyLength);
      if (order < 0 || (order === 0 && !multiValue)) throw problem(at, 'last key is not below the next block\'s first key');
    }
  }
}

function checkFlags(flags: number, valueLength: number, multiValue: boolean, problem: (detail: string) => CorruptionError): void {
  if ((flags & ~ENTRY_KNOWN_FLAGS) !== 0) throw problem(`unknown entry flags 0x${flags.toString(16)}`);
  if ((flags & ENTRY_TOMBSTONE) !== 0) {
    if (flags !== ENTRY_TOMBSTONE || valueLength !== 0) throw problem('a tombstone with a value');
    if (multiValue) throw problem('a tombstone in a multi-value segment');
  } else if ((flags & ENTRY_ASCII) !== 0 && (flags & ENTRY_STRING) === 0) {
    throw problem('ASCII flag without the string flag');
  }
}

function isAscii(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}
