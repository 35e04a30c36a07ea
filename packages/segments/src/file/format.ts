/**
 * The numbers of FORMAT.md, in one place. Builder, reader and the tests'
 * file surgeon all take the layout from here.
 */

export const FORMAT_VERSION = 1;

/** `\x89SILTSEG`: the high first byte catches 7-bit transfers, as PNG's does. */
export const HEADER_MAGIC = Uint8Array.of(0x89, 0x53, 0x49, 0x4c, 0x54, 0x53, 0x45, 0x47);
export const HEADER_BYTES = 32;
/** Bytes 0..15 (magic, version, version CRC) keep their meaning in every version. */
export const HEADER_STABLE_BYTES = 16;
export const HEADER = {
  magic: 0,
  version: 8,
  versionCrc: 12,
  flags: 16,
  blockSize: 20,
  reserved: 24,
  headerCrc: 28,
} as const;
export const HEADER_FLAG_MULTI_VALUE = 1;

/** `SEGF`. */
export const FOOTER_MAGIC = Uint8Array.of(0x53, 0x45, 0x47, 0x46);
export const FOOTER_BYTES = 128;
export const FOOTER = {
  dataOffset: 0,
  dataLength: 8,
  blockIndexOffset: 16,
  blockIndexLength: 24,
  hashOffset: 32,
  hashLength: 40,
  keyRangeOffset: 48,
  keyRangeLength: 56,
  entryCount: 64,
  tombstoneCount: 72,
  distinctKeyCount: 80,
  minSequence: 88,
  maxSequence: 96,
  blockCount: 104,
  blockIndexCrc: 108,
  hashCrc: 112,
  keyRangeCrc: 116,
  footerCrc: 120,
  magic: 124,
} as const;

/** flags u8, key length u16, value length u32. */
export const ENTRY_HEADER_BYTES = 7;
export const ENTRY_TOMBSTONE = 1;
export const ENTRY_STRING = 2;
export const ENTRY_ASCII = 4;
export const ENTRY_KNOWN_FLAGS = ENTRY_TOMBSTONE | ENTRY_STRING | ENTRY_ASCII;

/** block length u32, block CRC u32, first key length u16. */
export const BLOCK_RECORD_FIXED_BYTES = 10;

export const HASH_SLOT_BYTES = 8;
export const HASH_EMPTY_BLOCK = 0xffffffff;
export const HASH_MIN_SLOTS = 8;
export const HASH_ALIGNMENT = 8;

export const MAX_KEY_BYTES = 65535;
/**
 * The largest value a segment file can hold: the format's limit. An index
 * takes less, its `maxValueBytes` option (16 MiB by default, at most this).
 */
export const SEGMENT_MAX_VALUE_BYTES = 256 * 1024 * 1024;
export const MIN_BLOCK_SIZE = 64;
export const MAX_BLOCK_SIZE = 65536;
export const DEFAULT_BLOCK_SIZE = 4096;
export const MAX_DISTINCT_KEYS = 2 ** 28;

/** The smallest power of two at or above `distinct × 4/3 + 1`: load at most 75 %, always an empty slot. */
export function hashSlotCountFor(distinctKeys: number): number {
  const wanted = Math.max(HASH_MIN_SLOTS, Math.ceil((distinctKeys * 4) / 3) + 1);
  let slots = HASH_MIN_SLOTS;
  while (slots < wanted) slots *= 2;
  return slots;
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
