import { HASH_EMPTY_BLOCK } from './format.js';
import { finishHash, slotTag } from './key-hash.js';

/** Past this many keys a segment gets no filter: its memory (2 bytes a key) is kept for the small segments a stack is made of. */
export const KEY_FILTER_MAX_KEYS = 1 << 16;

/** Filter bits per key: ~1 % false positives at the run lengths a hash table at most 75 % full has. */
const BITS_PER_KEY = 16;
/** One 512-bit block (a cache line) per probe. */
const BLOCK_WORDS = 16;
const BITS_PER_PROBE = 6;
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
 * not hold passes ~1 % of the time, where the 16-bit tag filter this
 * replaces let through a quarter of the keys of a 20,000-key segment (each a
 * cache miss into the slots). A get over 50 segments asks ~25 of them.
 *
 * Blocked: the bits of one probe share a 64-byte block, one cache miss.
 */
export class KeyFilter {
  private readonly groupMask: number;

  private constructor(
    private readonly words: Int32Array,
    private readonly blocks: number,
    private readonly slotMask: number,
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
    return this.visit(slotTag(hash), (hash & this.slotMask) >>> GROUP_SHIFT, false);
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
      this.visit(tag, group, true);
    }
  }

  /**
   * The bits of `(tag, group)`: one block, `BITS_PER_PROBE` positions in it.
   * With `set`, sets them (and returns true); else whether all are set.
   */
  private visit(tag: number, group: number, set: boolean): boolean {
    const key = (group << 16) | tag;
    const base = this.blockOf(key);
    const bits = finishHash(key ^ SECOND_HASH_SEED) | 0;
    const step = (bits >>> 9) | 1;
    const words = this.words;
    for (let i = 0, bit = bits; i < BITS_PER_PROBE; i++, bit = (bit + step) | 0) {
      const word = base + ((bit >>> 5) & (BLOCK_WORDS - 1));
      const mask = 1 << (bit & 31);
      if (set) words[word]! |= mask;
      else if ((words[word]! & mask) === 0) return false;
    }
    return true;
  }

  /** The first word of the block `key` maps to. */
  private blockOf(key: number): number {
    return Math.floor((finishHash(key) * this.blocks) / 2 ** 32) * BLOCK_WORDS;
  }
}
