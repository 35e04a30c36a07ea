import { FilterBits, filterKey, type KeyFilter } from './key-filter.js';

/** Words a stack's filters may take together: 32 MiB. */
const STACK_FILTER_MAX_WORDS = 8 << 20;

/**
 * The filters of a stack's segments whose hash tables have one size, so
 * their filters one shape: a key's bits lie in the same block of each.
 * Their blocks are interleaved (block 0 of every member, then block 1 …),
 * so asking all of them about a key reads one run of adjacent memory.
 */
class ShapeGroup {
  readonly bits = new FilterBits();
  /** The hash the bits were placed for, and the first word of its row of blocks. */
  private placedHash = -1;
  private placedRow = 0;
  private memberCount = 0;
  /** The group's first word in the stack's array. */
  private first = 0;

  constructor(
    readonly slotMask: number,
    readonly blocks: number,
  ) {}

  get members(): number {
    return this.memberCount;
  }

  get base(): number {
    return this.first;
  }

  /** The first word of the row of blocks `place` found. */
  get row(): number {
    return this.placedRow;
  }

  /** One more member; its place among them. */
  join(): number {
    return this.memberCount++;
  }

  /** The group's blocks start at word `base`; returns the word after them. */
  locate(base: number): number {
    this.first = base;
    return base + this.blocks * this.memberCount;
  }

  /** Places `hash`'s bits, unless they are placed already. */
  place(hash: number): void {
    if (hash === this.placedHash) return;
    this.bits.place(filterKey(hash, this.slotMask), this.blocks);
    this.placedRow = this.first + this.bits.block * this.memberCount;
    this.placedHash = hash;
  }
}

/**
 * The key filters of a stack of sources (newest first) in one array, so a
 * get asks every segment's filter in one tight loop before it calls a
 * single source. A get over 50 segments asked ~25 filters through each
 * segment reader (its fields, its filter object, that filter's array: a
 * chain of loads per segment, most of them missing the cache) and then
 * probed the one or two that passed. The bits are the segments' own
 * filters' (`KeyFilter` sets them through the same `FilterBits`), so the
 * answer is the same: no key a segment holds is ever turned away.
 *
 * Segments of one table size (a stack's flushed segments, as a rule) share a
 * shape, and their blocks (one word each) are interleaved: a key's blocks in
 * all of them lie side by side, so the loop reads adjacent memory, 200 bytes
 * for 50 segments, instead of one cache miss per segment.
 */
export class StackKeyFilter {
  private constructor(
    private readonly words: Int32Array,
    /** Per position: its shape group, undefined for a source without a filter (asked about every key). */
    private readonly groups: ReadonlyArray<ShapeGroup | undefined>,
    /** Per position: its place among its group's members. */
    private readonly member: Int32Array,
    /** Per position: where the run of positions that are consecutive members of its group, from it on, ends. */
    private readonly runEnd: Int32Array,
    /** Positions in the stack. */
    readonly length: number,
  ) {}

  /**
   * The filter of a stack whose source at position `i` has `filters[i]`
   * (undefined: a source without one). Undefined when fewer than `minimum`
   * positions have a filter (asking the sources then costs no more), or the
   * filters are too large to copy.
   */
  static of(filters: ReadonlyArray<KeyFilter | undefined>, minimum = 2): StackKeyFilter | undefined {
    const present = filters.filter((filter) => filter !== undefined);
    const words = present.reduce((total, filter) => total + filter.words.length, 0);
    if (present.length < minimum || words > STACK_FILTER_MAX_WORDS) return undefined;
    const byMask = new Map<number, ShapeGroup>();
    const member = new Int32Array(filters.length);
    const groups = filters.map((filter, position) => {
      if (filter === undefined) return undefined;
      let group = byMask.get(filter.slotMask);
      if (group === undefined) byMask.set(filter.slotMask, (group = new ShapeGroup(filter.slotMask, filter.blocks)));
      member[position] = group.join();
      return group;
    });
    let base = 0;
    for (const group of byMask.values()) base = group.locate(base);
    const all = new Int32Array(words);
    filters.forEach((filter, position) => {
      if (filter !== undefined) interleave(all, filter.words, groups[position]!, member[position]!);
    });
    return new StackKeyFilter(all, groups, member, runEnds(groups, member), filters.length);
  }

  /**
   * The first position from `from` on whose source may hold a key of hash
   * `hash` (a uint32), or `length` when none does.
   */
  nextHolder(from: number, hash: number): number {
    const words = this.words;
    let position = from;
    while (position < this.length) {
      const group = this.groups[position];
      if (group === undefined) return position;
      group.place(hash);
      const need = group.bits.need;
      // Along a run of consecutive members, their blocks for this key are consecutive too.
      const end = this.runEnd[position]!;
      for (let at = group.row + this.member[position]!; position < end; position++, at++) {
        if ((words[at]! & need) === need) return position;
      }
    }
    return this.length;
  }
}

/** For each position, the end of the run of consecutive members of one group that starts there. */
function runEnds(groups: ReadonlyArray<ShapeGroup | undefined>, member: Int32Array): Int32Array {
  const ends = new Int32Array(groups.length);
  for (let position = groups.length - 1; position >= 0; position--) {
    const next = position + 1;
    const continues = next < groups.length && groups[next] === groups[position] && member[next] === member[position]! + 1;
    ends[position] = continues ? ends[next]! : next;
  }
  return ends;
}

/** Copies a member's blocks into its group's rows. */
function interleave(all: Int32Array, words: Int32Array, group: ShapeGroup, member: number): void {
  const stride = group.members;
  for (let block = 0, to = group.base + member; block < group.blocks; block++, to += stride) all[to] = words[block]!;
}
