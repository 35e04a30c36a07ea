import { endianness } from 'node:os';
import { compareBytes } from '@silt/segments/internal';

/** Groups at most this large are finished by insertion sort: cheaper than packing them. */
const INSERTION_SORT_LIMIT = 16;
/** Which 32-bit half of a little- or big-endian 64-bit lane holds the low word. */
const LOW_WORD = endianness() === 'LE' ? 0 : 1;
const HIGH_WORD = 1 - LOW_WORD;

/** Keys as slices of buffers: key `i` is `buffers[i][starts[i], starts[i] + lengths[i])`. */
export interface KeySlices {
  readonly count: number;
  readonly buffers: readonly Uint8Array[];
  readonly starts: ArrayLike<number>;
  readonly lengths: ArrayLike<number>;
}

/**
 * The stable permutation that orders the keys by their bytes: key `order[0]`
 * is the smallest, and equal keys keep their input order (so the newest of
 * a key, given last, stays last).
 *
 * A flush sorts up to millions of keys. A comparison callback per pair
 * costs ~1 µs each on V8; this is an MSD radix sort whose digit is the next
 * 4 key bytes, packed with the entry's position into one 64-bit lane and
 * ordered by the engine's native typed-array sort, so only keys that share
 * 4 bytes at a level are looked at again (random keys: almost none).
 */
export function stableByteOrder(keys: KeySlices): ByteOrder {
  const order = new Uint32Array(keys.count);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const sorting: Sorting = { keys, order, equalsNext: new Uint8Array(keys.count) };
  sortGroup(sorting, 0, order.length, 0);
  return { order, equalsNext: sorting.equalsNext };
}

/** The sorted permutation, and which neighbours in it are equal keys (found while sorting, not by comparing again). */
export interface ByteOrder {
  readonly order: Uint32Array;
  /** 1 where the key at `order[i]` equals the key at `order[i + 1]`. */
  readonly equalsNext: Uint8Array;
}

interface Sorting {
  readonly keys: KeySlices;
  readonly order: Uint32Array;
  readonly equalsNext: Uint8Array;
}

/** Sorts `order[start, end)`, whose keys all share their first `offset` bytes. */
function sortGroup(sorting: Sorting, start: number, end: number, offset: number): void {
  const { keys, order } = sorting;
  const count = end - start;
  if (count < 2) return;
  if (count <= INSERTION_SORT_LIMIT) {
    insertionSort(sorting, start, end, offset);
    return;
  }
  const lanes = new BigUint64Array(count);
  const words = new Uint32Array(lanes.buffer);
  const before = order.slice(start, end);
  for (let i = 0; i < count; i++) {
    words[2 * i + HIGH_WORD] = digitAt(keys, before[i]!, offset);
    // The position breaks ties, which keeps the sort stable.
    words[2 * i + LOW_WORD] = i;
  }
  lanes.sort();
  for (let i = 0; i < count; i++) order[start + i] = before[words[2 * i + LOW_WORD]!]!;
  for (let runStart = 0; runStart < count;) {
    const digit = words[2 * runStart + HIGH_WORD];
    let runEnd = runStart + 1;
    while (runEnd < count && words[2 * runEnd + HIGH_WORD] === digit) runEnd++;
    if (runEnd - runStart > 1) sortTies(sorting, start + runStart, start + runEnd, offset);
    runStart = runEnd;
  }
}

/**
 * Keys whose 4 bytes at `offset` (zero-padded) are equal. A key that ends
 * inside those bytes is a prefix of every longer one in the run, so the
 * ended keys come first, shortest first; the rest share `offset + 4` bytes.
 */
function sortTies(sorting: Sorting, start: number, end: number, offset: number): void {
  const { keys, order, equalsNext } = sorting;
  const next = offset + 4;
  const ended: number[] = [];
  const continuing: number[] = [];
  for (let i = start; i < end; i++) {
    const index = order[i]!;
    (keys.lengths[index]! <= next ? ended : continuing).push(index);
  }
  // Array#sort is stable: equal lengths (equal keys) keep their order.
  ended.sort((a, b) => keys.lengths[a]! - keys.lengths[b]!);
  order.set(ended, start);
  order.set(continuing, start + ended.length);
  // Ended keys of equal length have equal bytes: they are the same key.
  for (let i = 0; i + 1 < ended.length; i++) if (keys.lengths[ended[i]!] === keys.lengths[ended[i + 1]!]) equalsNext[start + i] = 1;
  sortGroup(sorting, start + ended.length, end, next);
}

/** The 4 key bytes at `offset`, zero-padded past the key's end, as one unsigned number. */
function digitAt(keys: KeySlices, index: number, offset: number): number {
  const bytes = keys.buffers[index]!;
  const length = keys.lengths[index]!;
  const at = keys.starts[index]! + offset;
  const b0 = offset < length ? bytes[at]! : 0;
  const b1 = offset + 1 < length ? bytes[at + 1]! : 0;
  const b2 = offset + 2 < length ? bytes[at + 2]! : 0;
  const b3 = offset + 3 < length ? bytes[at + 3]! : 0;
  return ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

function insertionSort(sorting: Sorting, start: number, end: number, offset: number): void {
  const { keys, order, equalsNext } = sorting;
  for (let i = start + 1; i < end; i++) {
    const index = order[i]!;
    let j = i - 1;
    // Strictly greater only: equal keys never pass each other.
    while (j >= start && compareKeysFrom(keys, order[j]!, index, offset) > 0) {
      order[j + 1] = order[j]!;
      j--;
    }
    order[j + 1] = index;
  }
  for (let i = start; i + 1 < end; i++) if (compareKeysFrom(keys, order[i]!, order[i + 1]!, offset) === 0) equalsNext[i] = 1;
}

/** Compares keys `a` and `b` from byte `offset` on (their first `offset` bytes are equal). */
export function compareKeysFrom(keys: KeySlices, a: number, b: number, offset: number): number {
  const { buffers, starts, lengths } = keys;
  return compareBytes(buffers[a]!, starts[a]! + offset, lengths[a]! - offset, buffers[b]!, starts[b]! + offset, lengths[b]! - offset);
}
