import { HASH_EMPTY_BLOCK, hashSlotCountFor } from './format.js';
import { slotTag } from './key-hash.js';
import { int32ArrayAsLittleEndian } from './little-endian.js';

/**
 * The builder's per-key bookkeeping (10 bytes a distinct key) and, at the
 * end, the CDB-style open-addressing table of FORMAT.md built from it.
 */
export class HashTableBuilder {
  private hashes = new Int32Array(1024);
  private blocks = new Int32Array(1024);
  private offsets = new Uint16Array(1024);
  private count = 0;

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

  /** The table's bytes, little-endian, ready to append to the file. */
  encode(): Uint8Array {
    const slotCount = hashSlotCountFor(this.count);
    const mask = slotCount - 1;
    const table = new Int32Array(slotCount * 2);
    for (let slot = 0; slot < slotCount; slot++) table[slot * 2 + 1] = HASH_EMPTY_BLOCK | 0;
    for (let i = 0; i < this.count; i++) {
      const hash = this.hashes[i]! >>> 0;
      let slot = hash & mask;
      while (table[slot * 2 + 1] !== (HASH_EMPTY_BLOCK | 0)) slot = (slot + 1) & mask;
      table[slot * 2] = slotTag(hash) | (this.offsets[i]! << 16);
      table[slot * 2 + 1] = this.blocks[i]!;
    }
    return int32ArrayAsLittleEndian(table);
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
