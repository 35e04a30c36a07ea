import { crc32 } from '@silt/fs/internal';
import { CorruptionError } from '@silt/fs';
import {
  BLOCK_RECORD_FIXED_BYTES,
  ENTRY_HEADER_BYTES,
  FOOTER,
  FOOTER_BYTES,
  FOOTER_MAGIC,
  HASH_ALIGNMENT,
  HASH_MIN_SLOTS,
  HASH_SLOT_BYTES,
  HEADER_BYTES,
  MAX_DISTINCT_KEYS,
  MAX_KEY_BYTES,
  alignUp,
  hashSlotCountFor,
} from './format.js';
import { readU32, readU64, writeU32, writeU64 } from './little-endian.js';
import type { SegmentHeader } from './segment-header.js';

/** What the footer records: where each section is, the counts, the sequence range, the section CRCs. */
export interface SegmentFooter {
  readonly dataLength: number;
  readonly blockIndexOffset: number;
  readonly blockIndexLength: number;
  readonly hashOffset: number;
  readonly hashLength: number;
  readonly keyRangeOffset: number;
  readonly keyRangeLength: number;
  readonly entryCount: number;
  readonly tombstoneCount: number;
  readonly distinctKeyCount: number;
  readonly minSequence: number;
  readonly maxSequence: number;
  readonly blockCount: number;
  readonly blockIndexCrc: number;
  readonly hashCrc: number;
  readonly keyRangeCrc: number;
}

const U64_FIELDS = [
  'dataLength',
  'blockIndexOffset',
  'blockIndexLength',
  'hashOffset',
  'hashLength',
  'keyRangeOffset',
  'keyRangeLength',
  'entryCount',
  'tombstoneCount',
  'distinctKeyCount',
  'minSequence',
  'maxSequence',
] as const;
const U32_FIELDS = ['blockCount', 'blockIndexCrc', 'hashCrc', 'keyRangeCrc'] as const;

export function encodeFooter(footer: SegmentFooter): Uint8Array {
  const bytes = new Uint8Array(FOOTER_BYTES);
  writeU64(bytes, FOOTER.dataOffset, HEADER_BYTES);
  for (const field of U64_FIELDS) writeU64(bytes, FOOTER[field], footer[field]);
  for (const field of U32_FIELDS) writeU32(bytes, FOOTER[field], footer[field]);
  writeU32(bytes, FOOTER.footerCrc, crc32(bytes.subarray(0, FOOTER.footerCrc)));
  bytes.set(FOOTER_MAGIC, FOOTER.magic);
  return bytes;
}

/** Decodes the last 128 bytes and checks that they describe exactly a file of `fileSize` bytes. */
export function decodeFooter(bytes: Uint8Array, file: string, fileSize: number, header: SegmentHeader): SegmentFooter {
  const at = fileSize - FOOTER_BYTES;
  for (let i = 0; i < FOOTER_MAGIC.length; i++) {
    if (bytes[FOOTER.magic + i] !== FOOTER_MAGIC[i]) {
      throw new CorruptionError(file, at + FOOTER.magic, 'footer magic missing: the file is truncated or damaged');
    }
  }
  if (readU32(bytes, FOOTER.footerCrc) !== crc32(bytes.subarray(0, FOOTER.footerCrc))) {
    throw new CorruptionError(file, at, 'footer checksum mismatch');
  }
  const values: Record<string, number> = {};
  for (const field of U64_FIELDS) {
    const value = readU64(bytes, FOOTER[field]);
    if (!Number.isSafeInteger(value)) throw new CorruptionError(file, at + FOOTER[field], `footer field ${field} is beyond 2^53`);
    values[field] = value;
  }
  for (const field of U32_FIELDS) values[field] = readU32(bytes, FOOTER[field]);
  const footer = values as unknown as SegmentFooter;
  if (readU64(bytes, FOOTER.dataOffset) !== HEADER_BYTES) {
    throw new CorruptionError(file, at + FOOTER.dataOffset, `data offset is not ${HEADER_BYTES}`);
  }
  checkLayout(footer, file, fileSize);
  checkCounts(footer, file, header);
  return footer;
}

function checkLayout(f: SegmentFooter, file: string, fileSize: number): void {
  const problem = (detail: string): CorruptionError => new CorruptionError(file, fileSize - FOOTER_BYTES, `footer: ${detail}`);
  if (f.blockIndexOffset !== HEADER_BYTES + f.dataLength) throw problem('block index does not follow the data section');
  if (f.hashOffset !== alignUp(f.blockIndexOffset + f.blockIndexLength, HASH_ALIGNMENT))
    throw problem('hash index does not follow the block index');
  if (f.keyRangeOffset !== f.hashOffset + f.hashLength) throw problem('key range does not follow the hash index');
  if (f.keyRangeOffset + f.keyRangeLength + FOOTER_BYTES !== fileSize) {
    throw problem(`sections end at ${f.keyRangeOffset + f.keyRangeLength + FOOTER_BYTES}, but the file is ${fileSize} bytes`);
  }
  const slots = f.hashLength / HASH_SLOT_BYTES;
  if (!Number.isInteger(slots) || slots < HASH_MIN_SLOTS || slots > hashSlotCountFor(MAX_DISTINCT_KEYS) || (slots & (slots - 1)) !== 0) {
    throw problem(`hash index length ${f.hashLength} is not a power-of-two number of ${HASH_SLOT_BYTES}-byte slots`);
  }
  if (f.keyRangeLength > 2 * (2 + MAX_KEY_BYTES)) throw problem(`key range length ${f.keyRangeLength} is too long`);
}

function checkCounts(f: SegmentFooter, file: string, header: SegmentHeader): void {
  const problem = (detail: string): CorruptionError => new CorruptionError(file, undefined, `footer: ${detail}`);
  const empty = f.entryCount === 0;
  if (
    empty !== (f.blockCount === 0) ||
    empty !== (f.dataLength === 0) ||
    empty !== (f.keyRangeLength === 0) ||
    empty !== (f.distinctKeyCount === 0)
  ) {
    throw problem('entry, block, key and data counts disagree about whether the segment is empty');
  }
  if (f.entryCount > f.dataLength / ENTRY_HEADER_BYTES) throw problem(`${f.entryCount} entries cannot fit ${f.dataLength} data bytes`);
  if (f.blockCount > f.entryCount) throw problem(`${f.blockCount} blocks for ${f.entryCount} entries`);
  if (f.blockIndexLength < f.blockCount * BLOCK_RECORD_FIXED_BYTES) throw problem(`block index too short for ${f.blockCount} blocks`);
  if (f.tombstoneCount > f.entryCount) throw problem(`${f.tombstoneCount} tombstones among ${f.entryCount} entries`);
  if (f.distinctKeyCount > f.entryCount || f.distinctKeyCount >= f.hashLength / HASH_SLOT_BYTES) {
    throw problem(`${f.distinctKeyCount} distinct keys do not fit ${f.entryCount} entries and ${f.hashLength / HASH_SLOT_BYTES} slots`);
  }
  if (!header.multiValue && f.distinctKeyCount !== f.entryCount) throw problem('a single-value segment has repeated keys');
  if (header.multiValue && f.tombstoneCount !== 0) throw problem('a multi-value segment has tombstones');
  if (f.minSequence > f.maxSequence) throw problem(`sequence range ${f.minSequence}..${f.maxSequence} is reversed`);
}
