import type { ScratchArena } from '@silt/fs/internal';
import { HASH_EMPTY_BLOCK, hashSlotCountFor } from './format.js';
import { slotTag } from './key-hash.js';
import { int32ArrayAsLittleEndian } from './little-endian.js';

/** At most 2^12 regions: small enough that a region's slots stay in cache while its keys go in. */
const REGION_BITS_MAX = 12;

/**
 * The builder's per-key bookkeeping (10 bytes a distinct key) and, at the
 * end, the CDB-style open-addressing table of FORMAT.md built from it.
 */
export class HashTableBuilder {
  private hashes: Int32Array;
  private blocks: Int32Array;
  private offsets: Uint16Array;
  private count = 0;

  /** `expectedKeys`: room for that many keys at once, so a build of known size never grows (and copies) its arrays. */
  constructor(expectedKeys = 1024) {
    const capacity = Math.max(16, expectedKeys);
    this.hashes = new Int32Array(capacity);
    this.blocks = new Int32Array(capacity);
    this.offsets = new Uint16Array(capacity);
  }

  get keyCount(): number {
    return this.count;
  }

  record(hash: number, block: number, offsetInBlock: number): void {
    if (this.count === this.hashes.length) this.grow();
    this.hashes[this.count] = hash;
    this.blocks[this.count] = block;
    this.offsets[this.count] = offsetInBlock;
    this.count++;
  }

  /**
   * The table's bytes, little-endian, ready to append to the file. Keys go
   * in by home slot, region by region: in key order, each insert lands at
   * random in a table of tens of MiB, a cache miss apiece, which cost a
   * merge of 2 M keys ~200 ms of its ~1.8 s. Linear probing fills the same
   * slots, with the same probe lengths in total, whatever the order.
   *
   * With `arena`, the table (and the keys' slot words, sorted by region)
   * live in it (reset here): valid until the arena's next reset, so the
   * caller writes the table out before any `await`. A merge's table is tens
   * of MiB, whose fresh pages would cost more than filling them (see
   * ScratchArena).
   */
  encode(arena?: ScratchArena): Uint8Array {
    const slotCount = hashSlotCountFor(this.count);
    const mask = slotCount - 1;
    arena?.reset();
    // One take for both: two would grow a smaller arena twice, leaving fresh pages behind at the first growth.
    const words = int32Words(slotCount * 2 + this.count * 3, arena);
    const table = emptyTable(words.subarray(0, slotCount * 2));
    const sorted = words.subarray(slotCount * 2);
    this.sortBySlotRegion(slotCount, sorted);
    for (let at = 0, end = this.count * 3; at < end; at += 3) {
      let slot = sorted[at]! & mask;
      while (table[slot * 2 + 1] !== (HASH_EMPTY_BLOCK | 0)) slot = (slot + 1) & mask;
      table[slot * 2] = sorted[at + 1]!;
      table[slot * 2 + 1] = sorted[at + 2]!;
    }
    return int32ArrayAsLittleEndian(table);
  }

  /**
   * Writes into `sorted` every key as three words (hash, the slot's tag
   * word, the slot's block word), ordered by the region of the table its home slot is in: a
   * counting sort on the home slot's top 12 bits (at most 4,096 regions,
   * 8 KiB each in a table of 4 M slots), in insertion order within a region.
   * The words are moved here, in one pass in insertion order, so the pass
   * that fills the table reads them in order: reading them through a
   * permutation cost a cache miss a word (`encode` of 1.65 M keys in a
   * micro-benchmark: ~122 ms before, ~37 ms after).
   */
  private sortBySlotRegion(slotCount: number, sorted: Int32Array): void {
    const slotBits = 31 - Math.clz32(slotCount);
    const shift = Math.max(0, slotBits - REGION_BITS_MAX);
    const regions = new Int32Array((slotCount >>> shift) + 1);
    const mask = slotCount - 1;
    const count = this.count;
    const hashes = this.hashes;
    for (let i = 0; i < count; i++) regions[((hashes[i]! & mask) >>> shift) + 1]!++;
    for (let region = 1; region < regions.length; region++) regions[region]! += regions[region - 1]!;
    for (let i = 0; i < count; i++) {
      const hash = hashes[i]!;
      const at = regions[(hash & mask) >>> shift]!++ * 3;
      sorted[at] = hash;
      sorted[at + 1] = slotTag(hash) | (this.offsets[i]! << 16);
      sorted[at + 2] = this.blocks[i]!;
    }
  }

  private grow(): void {
    const size = this.hashes.length * 2;
    const hashes = new Int32Array(size);
    hashes.set(this.hashes);
    const blocks = new Int32Array(size);
    blocks.set(this.blocks);
    const offsets = new Uint16Array(size);
    offsets.set(this.offsets);
    this.hashes = hashes;
    this.blocks = blocks;
    this.offsets = offsets;
  }
}

/**
 * Every slot empty: tag word 0, block HASH_EMPTY_BLOCK. An arena's bytes are
 * the last table's, so both words are written, by one native fill of the
 * slot's 64-bit pattern (4 M slots, warm: ~1 ms against ~4 ms for a loop of
 * word stores).
 */
function emptyTable(table: Int32Array): Int32Array {
  new BigInt64Array(table.buffer, table.byteOffset, table.length / 2).fill(EMPTY_SLOT);
  return table;
}

/** An empty slot's two words read as one 64-bit word in this host's byte order. */
const EMPTY_SLOT = new BigInt64Array(new Int32Array([0, HASH_EMPTY_BLOCK | 0]).buffer)[0]!;

/**
 * `length` words, from `arena` when given. Taken right after the reset, they
 * start at the storage's first byte: 8-byte aligned, as the table's 64-bit
 * fill needs.
 */
function int32Words(length: number, arena: ScratchArena | undefined): Int32Array {
  if (arena === undefined) return new Int32Array(length);
  const bytes = arena.take(length * 4);
  return new Int32Array(bytes.buffer, bytes.byteOffset, length);
}
