import { HASH_EMPTY_BLOCK } from './format.js';
import { finishHash, slotTag } from './key-hash.js';

/** Past this many keys a segment gets no filter: its memory (2 bytes a key) is kept for the small segments a stack is made of. */
export const KEY_FILTER_MAX_KEYS = 1 << 16;

/** Filter bits per key: ~1 % false positives at the run lengths a hash table at most 75 % full has. */
const BITS_PER_KEY = 16;
/**
 * One 128-bit block per probe: 16 bytes, which the 16-byte alignment of an
 * array's memory keeps within one cache line. A 64-byte block (one line
 * only if the array starts on one, and nothing in JavaScript can ask for
 * that) crossed two lines in most processes: gets over 50 segments ran at
 * one of two rates, 420-450 k or 620-660 k a second, by the process.
 */
const BLOCK_WORDS = 4;
/** 5 bits of 128: the fewest false positives of 4 to 7 (1.35 % at 20,000 keys, 0.84 % at 65,000). */
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
 * not hold passes ~1 % of the time (0.8-1.4 %), where the 16-bit tag filter this
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
    const blocks = Math.max(1, Math.ceil((keys * BITS_PER_KEY) / (BLOCK_WORDS * 32)));
    const filter = new KeyFilter(new Int32Array(blocks * BLOCK_WORDS), blocks, slotCount - 1);
    filter.addRuns(slots, slotCount);
    return filter;
  }

  /** Whether the segment may hold a key of hash `hash` (false: it does not). */
  mayHold(hash: number): boolean {
    return filterHolds(this.words, 0, this.blocks, this.slotMask, hash);
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

  /** Sets the bits of `(tag, group)` (`filterHolds` tests them). */
  private visit(tag: number, group: number): void {
    visitBits(this.words, 0, this.blocks, (group << 16) | tag, true);
  }
}

/**
 * Whether the filter whose `blocks` blocks start at `words[first]`, over a
 * hash table of mask `slotMask`, may hold a key of hash `hash`: the bits
 * set for its tag with its home's group.
 */
export function filterHolds(words: Int32Array, first: number, blocks: number, slotMask: number, hash: number): boolean {
  return visitBits(words, first, blocks, filterKey(hash, slotMask), false);
}

/** What a filter over a hash table of mask `slotMask` files a key of hash `hash` under: its tag with its home's group. */
export function filterKey(hash: number, slotMask: number): number {
  return (((hash & slotMask) >>> GROUP_SHIFT) << 16) | slotTag(hash);
}

/** The bits of one filter key: word offsets from a filter's first word, and the bit within each. */
export class FilterBits {
  readonly words = new Int32Array(BITS_PER_PROBE);
  readonly masks = new Int32Array(BITS_PER_PROBE);

  /** Places the bits of `key` in a filter of `blocks` blocks: one block, `BITS_PER_PROBE` positions in it. */
  place(key: number, blocks: number): void {
    const base = blockOf(key, blocks);
    const bits = finishHash(key ^ SECOND_HASH_SEED) | 0;
    const step = (bits >>> 9) | 1;
    for (let i = 0, bit = bits; i < BITS_PER_PROBE; i++, bit = (bit + step) | 0) {
      this.words[i] = base + ((bit >>> 5) & (BLOCK_WORDS - 1));
      this.masks[i] = 1 << (bit & 31);
    }
  }

  /** Whether every bit is set in the filter starting at `words[first]`. */
  allSetIn(words: Int32Array, first: number): boolean {
    for (let i = 0; i < BITS_PER_PROBE; i++) {
      if ((words[first + this.words[i]!]! & this.masks[i]!) === 0) return false;
    }
    return true;
  }

  setIn(words: Int32Array, first: number): void {
    for (let i = 0; i < BITS_PER_PROBE; i++) words[first + this.words[i]!]! |= this.masks[i]!;
  }
}

const scratchBits = new FilterBits();

function visitBits(words: Int32Array, first: number, blocks: number, key: number, set: boolean): boolean {
  scratchBits.place(key, blocks);
  if (!set) return scratchBits.allSetIn(words, first);
  scratchBits.setIn(words, first);
  return true;
}

/** The first word of the block `key` maps to, in a filter of `blocks` blocks. */
function blockOf(key: number, blocks: number): number {
  return Math.floor((finishHash(key) * blocks) / 2 ** 32) * BLOCK_WORDS;
}
