import { FilterBits, filterKey, type KeyFilter } from './key-filter.js';

/** Words a stack's filters may take together (2 bytes a key): 32 MiB, 16 M keys under the per-segment cap. */
const STACK_FILTER_MAX_WORDS = 8 << 20;
/** Per position: the filter's first word (-1: no filter, may hold anything), its block count, its slot mask. */
const SHAPE_FIELDS = 3;

/**
 * The key filters of a stack of sources (newest first), copied side by side
 * into one array, so a get asks every segment's filter in one tight loop
 * before it calls a single source. A get over 50 segments asked ~25 filters
 * through each segment reader (its fields, its filter object, that
 * filter's array: a chain of loads per segment, most of them missing the
 * cache) and then probed the one or two that passed. The bits are the
 * segments' own filters' (`KeyFilter` sets them with the same `FilterBits`),
 * so the answer is the same: no key a segment holds is ever turned away.
 * Copied, not referenced: asking 50 separate arrays was slower than the
 * chain it replaced.
 *
 * Segments of one size have filters of one shape, where a key's bits lie
 * at the same offsets; they are placed once per shape, not once per segment.
 */
export class StackKeyFilter {
  private readonly bits = new FilterBits();
  private placedHash = -1;
  private placedBlocks = -1;
  private placedMask = -1;

  private constructor(
    private readonly words: Int32Array,
    private readonly shape: Int32Array,
    /** Positions in the stack. */
    readonly length: number,
  ) {}

  /**
   * The filter of a stack whose source at position `i` has `filters[i]`
   * (undefined: a source without one, asked about every key). Undefined
   * when fewer than `minimum` positions have a filter (asking the sources
   * then costs no more than copying), or the filters are too large to copy.
   */
  static of(filters: ReadonlyArray<KeyFilter | undefined>, minimum = 2): StackKeyFilter | undefined {
    let words = 0;
    let filtered = 0;
    for (const filter of filters) {
      if (filter === undefined) continue;
      words += filter.words.length;
      filtered++;
    }
    if (filtered < minimum || words > STACK_FILTER_MAX_WORDS) return undefined;
    const all = new Int32Array(words);
    const shape = new Int32Array(filters.length * SHAPE_FIELDS);
    let at = 0;
    filters.forEach((filter, position) => {
      const fields = position * SHAPE_FIELDS;
      if (filter === undefined) {
        shape[fields] = -1;
        return;
      }
      all.set(filter.words, at);
      shape[fields] = at;
      shape[fields + 1] = filter.blocks;
      shape[fields + 2] = filter.slotMask;
      at += filter.words.length;
    });
    return new StackKeyFilter(all, shape, filters.length);
  }

  /**
   * The first position from `from` on whose source may hold a key of hash
   * `hash` (a uint32), or `length` when none does.
   */
  nextHolder(from: number, hash: number): number {
    const shape = this.shape;
    for (let position = from; position < this.length; position++) {
      const fields = position * SHAPE_FIELDS;
      const first = shape[fields]!;
      if (first < 0) return position;
      const blocks = shape[fields + 1]!;
      const mask = shape[fields + 2]!;
      if (hash !== this.placedHash || blocks !== this.placedBlocks || mask !== this.placedMask) this.place(hash, blocks, mask);
      if (this.bits.allSetIn(this.words, first)) return position;
    }
    return this.length;
  }

  private place(hash: number, blocks: number, mask: number): void {
    this.bits.place(filterKey(hash, mask), blocks);
    this.placedHash = hash;
    this.placedBlocks = blocks;
    this.placedMask = mask;
  }
}
