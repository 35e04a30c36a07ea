import { HASH_EMPTY_BLOCK } from './format.js';
import { finishHash, slotTag } from './key-hash.js';

/** Past this many keys a segment gets no filter: its memory (4 bytes a slot) is kept for the small segments a stack is made of. */
export const KEY_FILTER_MAX_KEYS = 1 << 16;

/**
 * Filter bits per hash slot: 43 to 85 a key, as a table is 37.5 % to 75 %
 * full. By slot, not by key, so the filters of every table of one size have
 * one shape (StackKeyFilter interleaves those). Absent keys that pass,
 * measured: 0.31 % at 65,000 keys in 131,072 slots, 0.45 % at 20,000 in
 * 32,768, 0.9-1.0 % at the fullest (24,500 in 32,768; 49,000 in 65,536).
 */
const BITS_PER_SLOT = 32;
/**
 * One 32-bit word per probe. A stack of segments asks all its filters of one
 * shape about a key along one row of adjacent blocks (StackKeyFilter), so
 * the block's size is what that walk reads: 50 segments' 128-bit blocks
 * were 800 bytes a key, words are 200. At 16 bits a slot, 128-bit blocks let
 * 0.39 % of absent keys through at 20,000 keys in 32,768 slots and 32-bit
 * blocks 1.3 %; twice the bits (32 a slot) bring words to 0.45 %.
 */
const BLOCK_BITS = 32;
/** 4 bits of 32: 0.45 % at 20,000 keys in 32,768 slots; 3 let 0.46 % through, 5 0.48 %, 6 0.51 %. */
const BITS_PER_PROBE = 4;
/** Homes are filtered in groups of 8 slots: a key sits within a few slots of its home, so it enters one or two groups. */
const GROUP_SHIFT = 3;
const GROUP_OFFSET_MASK = (1 << GROUP_SHIFT) - 1;
const SECOND_HASH_SEED = 0x5bd1e995;
/** Word 1 of an empty slot, as an Int32Array reads it. */
const EMPTY = HASH_EMPTY_BLOCK | 0;

/**
 * A Bloom filter over a segment's keys, derived from its hash section when a
 * reader opens it: no format change, no key read. A key's hash fixes its tag
 * and its home slot; the slot it sits in fixes neither home exactly (linear
 * probing moved it on), but its home lies in the run of occupied slots that
 * ends at it. So each slot enters its tag with every group of 8 slots from
 * its run's start to itself, and a lookup asks for its tag with its own
 * home's group: a key the segment holds always passes, and a key it does
 * not hold passes 0.3-1.0 % of the time, where the 16-bit tag filter this
 * replaces let through a quarter of the keys of a 20,000-key segment (each a
 * cache miss into the slots). A get over 50 segments asks ~25 of them.
 *
 * Blocked: the bits of one probe share one 32-bit word, one cache miss.
 */
export class KeyFilter {
  private readonly groupMask: number;

  private constructor(
    /** `blocks` one-word blocks (StackKeyFilter copies them). */
    readonly words: Int32Array,
    readonly blocks: number,
    /** The hash table's slot mask: a key's home is `hash & slotMask`. */
    readonly slotMask: number,
  ) {
    this.groupMask = slotMask >>> GROUP_SHIFT;
  }

  /**
   * The filter of a hash table (`slots`: two words a slot, as FORMAT.md
   * lays them out) of `keys` occupied slots, or undefined when the table is
   * too large to filter, or full (a run with no start).
   */
  static ofSlots(slots: Int32Array, keys: number): KeyFilter | undefined {
    const slotCount = slots.length >>> 1;
    if (keys > KEY_FILTER_MAX_KEYS || keys >= slotCount) return undefined;
    const blocks = filterBlocks(slotCount - 1);
    const filter = new KeyFilter(new Int32Array(blocks), blocks, slotCount - 1);
    filter.addRuns(slots, slotCount);
    return filter;
  }

  /** Whether the segment may hold a key of hash `hash` (false: it does not). */
  mayHold(hash: number): boolean {
    const bits = scratchBits;
    bits.place(filterKey(hash, this.slotMask), this.blocks);
    return bits.allSetIn(this.words, bits.block);
  }

  /** Walks the table once from just past an empty slot, so every run of occupied slots is seen from its start, wrapping included. */
  private addRuns(slots: Int32Array, slotCount: number): void {
    let empty = 0;
    while (slots[empty * 2 + 1] !== EMPTY) empty++;
    let runStart = -1;
    for (let step = 1; step <= slotCount; step++) {
      const slot = (empty + step) & (slotCount - 1);
      if (slots[slot * 2 + 1] === EMPTY) {
        runStart = -1;
        continue;
      }
      if (runStart < 0) runStart = slot;
      this.addWithHomesFrom(slots[slot * 2]! & 0xffff, runStart, slot);
    }
  }

  /**
   * Adds `tag` with each group a home between `first` and `last` (a run,
   * which may wrap past the last slot) can fall in. Counted by slots, not by
   * group numbers: in a small table a wrapping run can end in the group it
   * started in, having passed through every other.
   */
  private addWithHomesFrom(tag: number, first: number, last: number): void {
    const span = (last - first) & this.slotMask;
    const crossed = Math.min(((first & GROUP_OFFSET_MASK) + span) >>> GROUP_SHIFT, this.groupMask);
    for (let i = 0, group = first >>> GROUP_SHIFT; i <= crossed; i++, group = (group + 1) & this.groupMask) {
      this.visit(tag, group);
    }
  }

  /** Sets the bits of `(tag, group)` (`mayHold` tests them). */
  private visit(tag: number, group: number): void {
    const bits = scratchBits;
    bits.place((group << 16) | tag, this.blocks);
    bits.setIn(this.words, bits.block);
  }
}

/** The blocks of the filter of a hash table of mask `slotMask`: a function of the table's size alone. */
function filterBlocks(slotMask: number): number {
  return Math.max(1, ((slotMask + 1) * BITS_PER_SLOT) / BLOCK_BITS);
}

/** What a filter over a hash table of mask `slotMask` files a key of hash `hash` under: its tag with its home's group. */
export function filterKey(hash: number, slotMask: number): number {
  return (((hash & slotMask) >>> GROUP_SHIFT) << 16) | slotTag(hash);
}

/**
 * Where the bits of one filter key lie: its block (one word of the
 * filter's array), and the bits of it the key needs set (`BITS_PER_PROBE`
 * of them, or fewer where two fall on one bit).
 */
export class FilterBits {
  private placedBlock = 0;
  private needed = 0;

  /** Places the bits of `key` in a filter of `blocks` blocks. */
  place(key: number, blocks: number): void {
    this.placedBlock = Math.floor((finishHash(key) * blocks) / 2 ** 32);
    const bits = finishHash(key ^ SECOND_HASH_SEED) | 0;
    const step = (bits >>> 9) | 1;
    let need = 0;
    for (let i = 0, bit = bits; i < BITS_PER_PROBE; i++, bit = (bit + step) | 0) need |= 1 << (bit & (BLOCK_BITS - 1));
    this.needed = need;
  }

  /** The key's bits in its block. */
  get need(): number {
    return this.needed;
  }

  /** The block the key's bits are in. */
  get block(): number {
    return this.placedBlock;
  }

  /** Whether every bit is set in block `block` of `words`. */
  allSetIn(words: Int32Array, block: number): boolean {
    return (words[block]! & this.needed) === this.needed;
  }

  setIn(words: Int32Array, block: number): void {
    words[block]! |= this.needed;
  }
}

const scratchBits = new FilterBits();
