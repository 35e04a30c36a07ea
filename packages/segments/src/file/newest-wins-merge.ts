import { bytesEqual, compareBytes } from './key-bytes.js';

/** What the merge needs of an entry: its key bytes. */
export interface KeyedEntry {
  readonly key: Uint8Array;
}

interface Cursor<E extends KeyedEntry> {
  entry: E;
  /** Position in the stack: 0 is the newest stream. */
  readonly rank: number;
  readonly stream: Iterator<E>;
}

/**
 * A k-way merge of key-ordered entry streams stacked newest first. `next()`
 * returns each key once, as the newest stream holding it has it, tombstones
 * included (a reader skips them, a merge that does not reach the oldest
 * segment must keep them). Older entries of that key are skipped. Readers'
 * merged iteration and the merger's segment merge both run on it, so
 * "newest wins" is decided in one place.
 *
 * A binary heap of one cursor per stream, ordered by key and then by rank,
 * so among equal keys the newest stream's cursor is on top.
 */
export class NewestWinsMerge<E extends KeyedEntry> {
  private readonly heap: Cursor<E>[] = [];
  private readonly direction: 1 | -1;

  /** `streams` newest first, each ascending by key bytes, or descending when `descending`. */
  constructor(streams: readonly Iterator<E>[], descending = false) {
    this.direction = descending ? -1 : 1;
    streams.forEach((stream, rank) => {
      const first = stream.next();
      if (first.done !== true) this.heap.push({ entry: first.value, rank, stream });
    });
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** The newest entry of the next key, or undefined when every stream is done. */
  next(): E | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    const winner = top.entry;
    this.advanceTop();
    for (let next = this.heap[0]; next !== undefined && sameKey(next.entry.key, winner.key); next = this.heap[0]) this.advanceTop();
    return winner;
  }

  /** Moves the top cursor to its stream's next entry, dropping it at the stream's end, and restores the heap. */
  private advanceTop(): void {
    const heap = this.heap;
    const top = heap[0]!;
    const next = top.stream.next();
    if (next.done === true) {
      const last = heap.pop()!;
      if (heap.length === 0) return;
      heap[0] = last;
    } else {
      top.entry = next.value;
    }
    this.siftDown(0);
  }

  private siftDown(from: number): void {
    const heap = this.heap;
    const moving = heap[from]!;
    let at = from;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && this.precedes(heap[right]!, heap[left]!) ? right : left;
      if (!this.precedes(heap[child]!, moving)) break;
      heap[at] = heap[child]!;
      at = child;
    }
    heap[at] = moving;
  }

  private precedes(a: Cursor<E>, b: Cursor<E>): boolean {
    const order = compareBytes(a.entry.key, 0, a.entry.key.length, b.entry.key, 0, b.entry.key.length) * this.direction;
    return order < 0 || (order === 0 && a.rank < b.rank);
  }
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && bytesEqual(a, 0, b, 0, a.length);
}
