import { bytesEqual, compareBytes } from './key-bytes.js';

/**
 * What the merge needs of a stream: the key of the entry it is on (as a
 * slice of `keyBytes`), and a way on. A cursor starts before its first
 * entry. The bytes of a key it has left must stay valid while held.
 */
export interface MergeCursor {
  readonly keyBytes: Uint8Array;
  readonly keyStart: number;
  readonly keyLength: number;
  /** Moves to the next entry; false past the last. */
  advance(): boolean;
}

/** What the merge needs of an entry an iterator yields: its key bytes. */
export interface KeyedEntry {
  readonly key: Uint8Array;
}

/** An iterator of keyed entries as a cursor: `entry` is the one it is on. */
export class IteratorCursor<E extends KeyedEntry> implements MergeCursor {
  readonly keyStart = 0;
  private current: E | undefined;

  constructor(private readonly iterator: Iterator<E>) {}

  /** The entry the cursor is on; only after `advance()` returned true. */
  get entry(): E {
    return this.current!;
  }

  get keyBytes(): Uint8Array {
    return this.current!.key;
  }

  get keyLength(): number {
    return this.current!.key.length;
  }

  advance(): boolean {
    const next = this.iterator.next();
    if (next.done === true) return false;
    this.current = next.value;
    return true;
  }

  /** Returns the iterator early (a generator's `finally` runs); the cursor is spent. */
  close(): void {
    this.iterator.return?.();
  }

  /**
   * The entry the cursor is on, then the rest of its stream, as a plain
   * iterator; only after `advance()` returned true, and the cursor is spent.
   * The rest passes through untouched: no cursor, no heap, no copy.
   */
  remaining(): IterableIterator<E> {
    return new ResumedIterator(this.current!, this.iterator);
  }
}

class ResumedIterator<E> implements IterableIterator<E> {
  private first: IteratorResult<E> | undefined;

  constructor(
    current: E,
    private readonly rest: Iterator<E>,
  ) {
    this.first = { done: false, value: current };
  }

  next(): IteratorResult<E> {
    const first = this.first;
    if (first === undefined) return this.rest.next();
    this.first = undefined;
    return first;
  }

  return(value?: unknown): IteratorResult<E> {
    this.first = undefined;
    return this.rest.return?.(value) ?? { done: true, value: undefined };
  }

  [Symbol.iterator](): IterableIterator<E> {
    return this;
  }
}

interface Slot<C extends MergeCursor> {
  readonly cursor: C;
  /** Position in the stack: 0 is the newest stream. */
  readonly rank: number;
}

/**
 * A k-way merge of key-ordered cursors stacked newest first. `next()` moves
 * to each key once and returns the cursor of the newest stream holding it,
 * on that key's entry, tombstones included (a reader skips them, a merge
 * that does not reach the oldest segment must keep them); it stays there
 * until the following `next()`. Older entries of that key are skipped.
 * Readers' merged iteration and the merger's segment merge both run on it,
 * so "newest wins" is decided in one place.
 *
 * A binary heap of one slot per stream, ordered by key and then by rank,
 * so among equal keys the newest stream's cursor is on top.
 */
export class NewestWinsMerge<C extends MergeCursor> {
  private readonly heap: Slot<C>[] = [];
  private readonly direction: 1 | -1;
  /** Whether the top cursor is on a key `next()` already returned. */
  private onReturnedKey = false;

  /** `cursors` newest first, not yet advanced, each ascending by key bytes, or descending when `descending`. */
  constructor(cursors: readonly C[], descending = false) {
    this.direction = descending ? -1 : 1;
    cursors.forEach((cursor, rank) => {
      if (cursor.advance()) this.heap.push({ cursor, rank });
    });
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /**
   * The one stream with entries, when no other stream has any and `next()`
   * has not been called: reading it alone is the merge, at no cost per entry
   * (a full scan after a flush: an empty memtable over one segment).
   */
  soleStream(): C | undefined {
    return this.heap.length === 1 && !this.onReturnedKey ? this.heap[0]!.cursor : undefined;
  }

  /** The cursor of the newest entry of the next key, or undefined when every stream is done. */
  next(): C | undefined {
    if (this.onReturnedKey) this.skipReturnedKey();
    const top = this.heap[0];
    this.onReturnedKey = top !== undefined;
    return top?.cursor;
  }

  /** Moves every cursor on the key last returned past it. */
  private skipReturnedKey(): void {
    const { keyBytes, keyStart, keyLength } = this.heap[0]!.cursor;
    this.advanceTop();
    for (let next = this.heap[0]; next !== undefined && onKey(next.cursor, keyBytes, keyStart, keyLength); next = this.heap[0]) {
      this.advanceTop();
    }
  }

  /** Moves the top cursor on, dropping it at its stream's end, and restores the heap. */
  private advanceTop(): void {
    const heap = this.heap;
    if (!heap[0]!.cursor.advance()) {
      const last = heap.pop()!;
      if (heap.length === 0) return;
      heap[0] = last;
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

  private precedes(a: Slot<C>, b: Slot<C>): boolean {
    const x = a.cursor;
    const y = b.cursor;
    const order = compareBytes(x.keyBytes, x.keyStart, x.keyLength, y.keyBytes, y.keyStart, y.keyLength) * this.direction;
    return order < 0 || (order === 0 && a.rank < b.rank);
  }
}

function onKey(cursor: MergeCursor, keyBytes: Uint8Array, keyStart: number, keyLength: number): boolean {
  return cursor.keyLength === keyLength && bytesEqual(cursor.keyBytes, cursor.keyStart, keyBytes, keyStart, keyLength);
}
