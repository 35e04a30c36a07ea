import { HASH_EMPTY_BLOCK } from './format.js';
import { finishHash, slotTag } from './key-hash.js';

/** Past this many keys a segment gets no filter: its memory (2 bytes a slot) is kept for the small segments a stack is made of. */
export const KEY_FILTER_MAX_KEYS = 1 << 16;

/**
 * Filter bits per hash slot: 21 to 43 a key, as a table is 37.5 % to 75 %
 * full. By slot, not by key, so the filters of every table of one size have
 * one shape (StackKeyFilter interleaves those). False positives measured:
 * 0.2 % at 65,000 keys in 131,072 slots, 0.4 % at 20,000 in 32,768, 1.7 %
 * at the fullest (24,500 in 32,768; 49,000 in 65,536); 12 bits a slot let
 * 3.6 % through there.
 */
const BITS_PER_SLOT = 16;
/**
 * One 128-bit block per probe: 16 bytes, which the 16-byte alignment of an
 * array's memory keeps within one cache line. A 64-byte block (one line
 * only if the array starts on one, and nothing in JavaScript can ask for
 * that) crossed two lines in most processes: gets over 50 segments ran at
 * one of two rates, 420-450 k or 620-660 k a second, by the process.
 */
export const BLOCK_WORDS = 4;
/** 5 bits of 128: as few false positives as 6 or 7, fewer than 4. */
const BITS_PER_PROBE = 5;
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
 * not hold passes 0.2-1.7 % of the time, where the 16-bit tag filter this
 * replaces let through a quarter of the keys of a 20,000-key segment (each a
 * cache miss into the slots). A get over 50 segments asks ~25 of them.
 *
 * Blocked: the bits of one probe share a 16-byte block, one cache miss.
 */
export class KeyFilter {
  private readonly groupMask: number;

  private constructor(
    /** `blocks` blocks of BLOCK_WORDS words (StackKeyFilter copies them). */
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
    const filter = new KeyFilter(new Int32Array(blocks * BLOCK_WORDS), blocks, slotCount - 1);
    filter.addRuns(slots, slotCount);
    return filter;
  }

  /** Whether the segment may hold a key of hash `hash` (false: it does not). */
  mayHold(hash: number): boolean {
    const bits = scratchBits;
    bits.place(filterKey(hash, this.slotMask), this.blocks);
    return bits.allSetIn(this.words, bits.block * BLOCK_WORDS);
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
    bits.setIn(this.words, bits.block * BLOCK_WORDS);
  }
}

/** The blocks of the filter of a hash table of mask `slotMask`: a function of the table's size alone. */
function filterBlocks(slotMask: number): number {
  return Math.max(1, ((slotMask + 1) * BITS_PER_SLOT) >>> 7);
}

/** What a filter over a hash table of mask `slotMask` files a key of hash `hash` under: its tag with its home's group. */
export function filterKey(hash: number, slotMask: number): number {
  return (((hash & slotMask) >>> GROUP_SHIFT) << 16) | slotTag(hash);
}

/**
 * Where the bits of one filter key lie: its block, and in each of the
 * block's words the bits it needs set (`BITS_PER_PROBE` in all).
 */
export class FilterBits {
  private placedBlock = 0;
  /** Per word of the block: the key's bits in it. */
  readonly need = new Int32Array(BLOCK_WORDS);

  /** Places the bits of `key` in a filter of `blocks` blocks. */
  place(key: number, blocks: number): void {
    this.placedBlock = Math.floor((finishHash(key) * blocks) / 2 ** 32);
    const need = this.need;
    need.fill(0);
    const bits = finishHash(key ^ SECOND_HASH_SEED) | 0;
    const step = (bits >>> 9) | 1;
    for (let i = 0, bit = bits; i < BITS_PER_PROBE; i++, bit = (bit + step) | 0) need[(bit >>> 5) & (BLOCK_WORDS - 1)]! |= 1 << (bit & 31);
  }

  /** The block the key's bits are in. */
  get block(): number {
    return this.placedBlock;
  }

  /** Whether every bit is set in the block whose first word is `words[first]` (BLOCK_WORDS is 4). */
  allSetIn(words: Int32Array, first: number): boolean {
    const need = this.need;
    return (
      (words[first]! & need[0]!) === need[0] &&
      (words[first + 1]! & need[1]!) === need[1] &&
      (words[first + 2]! & need[2]!) === need[2] &&
      (words[first + 3]! & need[3]!) === need[3]
    );
  }

  setIn(words: Int32Array, first: number): void {
    for (let i = 0; i < BLOCK_WORDS; i++) words[first + i]! |= this.need[i]!;
  }
}

const scratchBits = new FilterBits();
