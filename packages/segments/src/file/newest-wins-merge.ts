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

/**
 * A k-way merge of key-ordered cursors stacked newest first. `next()` moves
 * to each key once and returns the cursor of the newest stream holding it,
 * on that key's entry, tombstones included (a reader skips them, a merge
 * that does not reach the oldest segment must keep them); it stays there
 * until the following `next()`. Older entries of that key are skipped.
 * Readers' merged iteration and the merger's segment merge both run on it,
 * so "newest wins" is decided in one place.
 *
 * A tree of losers (Knuth's replacement selection): each inner node keeps
 * the stream that lost the match played there, the root's winner is the
 * smallest key, and among equal keys the newest stream (the lower rank)
 * wins. Moving the winner on replays only its path to the root, one key
 * compare a level: ⌈log2 k⌉ compares, where a binary heap's sift takes up
 * to two a level (a merge of 8 segments spent ~20 % of its time there).
 */
export class NewestWinsMerge<C extends MergeCursor> {
  private readonly cursors: readonly C[];
  /** Whether each stream (by rank) is on an entry; a spent stream loses every match. */
  private readonly live: Uint8Array;
  /** Inner node `n` (1 ≤ n < k) holds the rank that lost the match there; leaves are `k + rank`. */
  private readonly losers: Int32Array;
  private readonly direction: 1 | -1;
  private winner: number;
  private liveCount = 0;
  /** Whether the winner is on a key `next()` already returned. */
  private onReturnedKey = false;

  /** `cursors` newest first, not yet advanced, each ascending by key bytes, or descending when `descending`. */
  constructor(cursors: readonly C[], descending = false) {
    this.direction = descending ? -1 : 1;
    this.cursors = cursors;
    this.live = new Uint8Array(cursors.length);
    cursors.forEach((cursor, rank) => {
      if (!cursor.advance()) return;
      this.live[rank] = 1;
      this.liveCount++;
    });
    this.losers = new Int32Array(Math.max(1, cursors.length));
    this.winner = cursors.length === 0 ? -1 : this.playFrom(1);
  }

  /**
   * The one stream with entries, when no other stream has any and `next()`
   * has not been called: reading it alone is the merge, at no cost per entry
   * (a full scan after a flush: an empty memtable over one segment).
   */
  soleStream(): C | undefined {
    return this.liveCount === 1 && !this.onReturnedKey ? this.cursors[this.winner] : undefined;
  }

  /** The cursor of the newest entry of the next key, or undefined when every stream is done. */
  next(): C | undefined {
    if (this.onReturnedKey) this.skipReturnedKey();
    this.onReturnedKey = this.liveCount > 0;
    return this.onReturnedKey ? this.cursors[this.winner] : undefined;
  }

  /** Moves every cursor on the key last returned past it. */
  private skipReturnedKey(): void {
    const { keyBytes, keyStart, keyLength } = this.cursors[this.winner]!;
    this.advanceWinner();
    while (this.live[this.winner] === 1 && onKey(this.cursors[this.winner]!, keyBytes, keyStart, keyLength)) this.advanceWinner();
  }

  /** Moves the winner's cursor on (marking its stream spent at the end) and replays its path to the root. */
  private advanceWinner(): void {
    let rank = this.winner;
    if (!this.cursors[rank]!.advance()) {
      this.live[rank] = 0;
      this.liveCount--;
    }
    const losers = this.losers;
    for (let node = (rank + this.cursors.length) >> 1; node >= 1; node >>= 1) {
      const other = losers[node]!;
      if (this.beats(other, rank)) {
        losers[node] = rank;
        rank = other;
      }
    }
    this.winner = rank;
  }

  /** Plays every match below `node` (a leaf is its stream), keeping each loser; returns the winner. */
  private playFrom(node: number): number {
    const k = this.cursors.length;
    if (node >= k) return node - k;
    const left = this.playFrom(2 * node);
    const right = this.playFrom(2 * node + 1);
    const leftWins = this.beats(left, right);
    this.losers[node] = leftWins ? right : left;
    return leftWins ? left : right;
  }

  /** Whether stream `a`'s entry comes before stream `b`'s: the smaller key, or of equal keys the newer stream. */
  private beats(a: number, b: number): boolean {
    if (this.live[a] === 0) return false;
    if (this.live[b] === 0) return true;
    const x = this.cursors[a]!;
    const y = this.cursors[b]!;
    const order = compareBytes(x.keyBytes, x.keyStart, x.keyLength, y.keyBytes, y.keyStart, y.keyLength) * this.direction;
    return order < 0 || (order === 0 && a < b);
  }
}

function onKey(cursor: MergeCursor, keyBytes: Uint8Array, keyStart: number, keyLength: number): boolean {
  return cursor.keyLength === keyLength && bytesEqual(cursor.keyBytes, cursor.keyStart, keyBytes, keyStart, keyLength);
}
