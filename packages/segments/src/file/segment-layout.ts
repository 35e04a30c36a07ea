import { crc32 } from '@silt/fs/internal';
import { CorruptionError } from '@silt/fs';
import { BlockIndex } from './block-index.js';
import { FOOTER_BYTES, HEADER_BYTES, MAX_KEY_BYTES } from './format.js';
import { HashSectionCheck, type HashIndex } from './hash-index.js';
import { littleEndianAsInt32Array } from './little-endian.js';
import { compareBytes } from './key-bytes.js';
import { readU16 } from './little-endian.js';
import { decodeFooter, type SegmentFooter } from './segment-footer.js';
import { decodeHeader, type SegmentHeader } from './segment-header.js';

/** Reads `length` bytes at `offset` of a file already known to be that long; throws if it is not. */
export type ReadSection = (offset: number, length: number) => Uint8Array;

/** Which index sections an open reads: `'blocks'` leaves the hash section unread (a reader for scans only). */
export type IndexesRead = 'all' | 'blocks';

/** Everything a reader keeps from open: the parsed header and footer and both indexes. */
export interface SegmentLayout {
  readonly header: SegmentHeader;
  readonly footer: SegmentFooter;
  readonly blocks: BlockIndex;
  /** Undefined when the open read only the block index. */
  readonly hash: HashIndex | undefined;
  readonly minKey: Uint8Array | undefined;
  readonly maxKey: Uint8Array | undefined;
}

/**
 * Opens a segment of `fileSize` bytes: header, footer, then each index
 * section with its checksum, in that order, so every length is checked
 * against the file before it sizes a read or a loop. Data blocks are left to
 * the block source, which verifies each before use.
 */
export function readSegmentLayout(read: ReadSection, fileSize: number, file: string, indexes: IndexesRead = 'all'): SegmentLayout {
  const header = decodeHeader(read(0, Math.min(fileSize, HEADER_BYTES)), file);
  if (fileSize < HEADER_BYTES + FOOTER_BYTES) {
    throw new CorruptionError(
      file,
      fileSize,
      `the file is ${fileSize} bytes, shorter than a header and a footer (${HEADER_BYTES + FOOTER_BYTES})`,
    );
  }
  const footer = decodeFooter(read(fileSize - FOOTER_BYTES, FOOTER_BYTES), file, fileSize, header);
  const blockIndexBytes = checkedSection(read, footer.blockIndexOffset, footer.blockIndexLength, footer.blockIndexCrc, 'block index', file);
  const paddingStart = footer.blockIndexOffset + footer.blockIndexLength;
  if (read(paddingStart, footer.hashOffset - paddingStart).some((byte) => byte !== 0)) {
    throw new CorruptionError(file, paddingStart, 'padding before the hash index is not zero');
  }
  const keyRangeBytes = checkedSection(read, footer.keyRangeOffset, footer.keyRangeLength, footer.keyRangeCrc, 'key range', file);
  const blocks = BlockIndex.parse(blockIndexBytes, footer, header, file);
  const hash = indexes === 'all' ? checkHashSection(read, footer, header, blocks, file) : undefined;
  const [minKey, maxKey] = parseKeyRange(keyRangeBytes, footer, blocks, file);
  return { header, footer, blocks, hash, minKey, maxKey };
}

/**
 * Reads the hash section whole, checks its checksum and every slot, and
 * keeps it: every access mode probes it in memory (`mmap` mode through the mapping).
 */
function checkHashSection(read: ReadSection, footer: SegmentFooter, header: SegmentHeader, blocks: BlockIndex, file: string): HashIndex {
  const check = new HashSectionCheck(footer, header, blocks, file);
  const bytes = checkedSection(read, footer.hashOffset, footer.hashLength, footer.hashCrc, 'hash index', file);
  check.feed(bytes);
  return check.finish(littleEndianAsInt32Array(bytes));
}

function checkedSection(read: ReadSection, offset: number, length: number, crc: number, what: string, file: string): Uint8Array {
  const bytes = read(offset, length);
  if (crc32(bytes) !== crc) throw new CorruptionError(file, offset, `${what} checksum mismatch`);
  return bytes;
}

function parseKeyRange(
  bytes: Uint8Array,
  footer: SegmentFooter,
  blocks: BlockIndex,
  file: string,
): [Uint8Array | undefined, Uint8Array | undefined] {
  if (bytes.length === 0) return [undefined, undefined];
  const problem = (detail: string): CorruptionError => new CorruptionError(file, footer.keyRangeOffset, `key range: ${detail}`);
  if (bytes.length < 4) throw problem('too short');
  const minLength = readU16(bytes, 0);
  if (2 + minLength + 2 > bytes.length) throw problem('smallest key runs past the section');
  const maxLength = readU16(bytes, 2 + minLength);
  if (4 + minLength + maxLength !== bytes.length || maxLength > MAX_KEY_BYTES) throw problem('lengths do not add up');
  const minKey = new Uint8Array(bytes.subarray(2, 2 + minLength));
  const maxKey = new Uint8Array(bytes.subarray(4 + minLength));
  if (blocks.compareFirstKey(0, minKey, 0, minKey.length) !== 0) throw problem("smallest key is not the first block's first key");
  if (compareBytes(minKey, 0, minKey.length, maxKey, 0, maxKey.length) > 0) throw problem('smallest key is above the largest');
  return [minKey, maxKey];
}
