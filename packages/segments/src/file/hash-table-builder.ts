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
   * in by home slot, region by region (`inSlotOrder`): in key order, each
   * insert lands at random in a table of tens of MiB, a cache miss apiece,
   * which cost a merge of 2 M keys ~200 ms of its ~1.8 s. Linear probing
   * fills the same slots, with the same probe lengths in total, whatever
   * the order.
   *
   * With `arena`, the table lives in it (reset here): valid until the
   * arena's next reset, so the caller writes it out before any `await`. A
   * merge's table is tens of MiB, whose fresh pages would cost more than
   * filling them (see ScratchArena).
   */
  encode(arena?: ScratchArena): Uint8Array {
    const slotCount = hashSlotCountFor(this.count);
    const mask = slotCount - 1;
    const table = emptyTable(slotCount, arena);
    for (const i of this.inSlotOrder(slotCount)) {
      const hash = this.hashes[i]! >>> 0;
      let slot = hash & mask;
      while (table[slot * 2 + 1] !== (HASH_EMPTY_BLOCK | 0)) slot = (slot + 1) & mask;
      table[slot * 2] = slotTag(hash) | (this.offsets[i]! << 16);
      table[slot * 2 + 1] = this.blocks[i]!;
    }
    return int32ArrayAsLittleEndian(table);
  }

  /**
   * Key numbers ordered by the region of the table their home slot is in
   * (a counting sort on the home slot's top 12 bits: at most 4,096 regions,
   * 8 KiB each in a table of 4 M slots), in insertion order within a region.
   */
  private inSlotOrder(slotCount: number): Int32Array {
    const slotBits = 31 - Math.clz32(slotCount);
    const shift = Math.max(0, slotBits - REGION_BITS_MAX);
    const regions = new Int32Array((slotCount >>> shift) + 1);
    const mask = slotCount - 1;
    const count = this.count;
    for (let i = 0; i < count; i++) regions[((this.hashes[i]! & mask) >>> shift) + 1]!++;
    for (let region = 1; region < regions.length; region++) regions[region]! += regions[region - 1]!;
    const order = new Int32Array(count);
    for (let i = 0; i < count; i++) order[regions[(this.hashes[i]! & mask) >>> shift]!++] = i;
    return order;
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

/** Every slot empty: tag word 0, block HASH_EMPTY_BLOCK. An arena's bytes are the last table's, so both words are written. */
function emptyTable(slotCount: number, arena: ScratchArena | undefined): Int32Array {
  let table: Int32Array;
  if (arena === undefined) table = new Int32Array(slotCount * 2);
  else {
    arena.reset();
    // Right after a reset the slice starts at the storage's first byte: aligned for 32-bit words.
    const bytes = arena.take(slotCount * 8);
    table = new Int32Array(bytes.buffer, bytes.byteOffset, slotCount * 2);
  }
  for (let slot = 0; slot < slotCount; slot++) {
    table[slot * 2] = 0;
    table[slot * 2 + 1] = HASH_EMPTY_BLOCK | 0;
  }
  return table;
}
