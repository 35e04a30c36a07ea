import type { EntrySource, SourceEntry, SourceRange } from './entry-source.js';
import { compareKeys } from './key-bytes.js';

interface Cursor {
  entry: SourceEntry;
  /** Position in the stack: 0 is the newest source. */
  readonly rank: number;
  readonly iterator: Iterator<SourceEntry>;
}

/**
 * A k-way merge of sources stacked newest first: yields each key once, as
 * the newest source that holds it says (tombstones included, so callers can
 * both skip them and carry them through a merge).
 */
export function* mergeSources(sources: readonly EntrySource[], range: SourceRange): Generator<SourceEntry, void, undefined> {
  const direction = range.reverse === true ? -1 : 1;
  const before = (a: Cursor, b: Cursor): boolean => {
    const order = compareKeys(a.entry.key, b.entry.key) * direction;
    return order < 0 || (order === 0 && a.rank < b.rank);
  };
  const heap = new CursorHeap(before);
  sources.forEach((source, rank) => {
    const iterator = source.entries(range);
    const first = iterator.next();
    if (first.done !== true) heap.push({ entry: first.value, rank, iterator });
  });
  while (heap.size > 0) {
    const winner = heap.peek();
    const entry = winner.entry;
    advance(heap);
    // Older sources holding the same key are shadowed: skip them.
    while (heap.size > 0 && compareKeys(heap.peek().entry.key, entry.key) === 0) advance(heap);
    yield entry;
  }
}

function advance(heap: CursorHeap): void {
  const top = heap.peek();
  const next = top.iterator.next();
  if (next.done === true) {
    heap.pop();
  } else {
    top.entry = next.value;
    heap.siftDownTop();
  }
}

/** A binary min-heap of cursors under a strict order. */
class CursorHeap {
  private readonly items: Cursor[] = [];

  constructor(private readonly before: (a: Cursor, b: Cursor) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): Cursor {
    return this.items[0]!;
  }

  push(cursor: Cursor): void {
    const items = this.items;
    items.push(cursor);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): void {
    const last = this.items.pop()!;
    if (this.items.length === 0) return;
    this.items[0] = last;
    this.siftDownTop();
  }

  siftDownTop(): void {
    const items = this.items;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let best = i;
      if (left < items.length && this.before(items[left]!, items[best]!)) best = left;
      if (right < items.length && this.before(items[right]!, items[best]!)) best = right;
      if (best === i) return;
      [items[i], items[best]] = [items[best]!, items[i]!];
      i = best;
    }
  }
}
