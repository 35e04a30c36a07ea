import type { SegmentReader } from '@silt/segments';

interface RetiredBatch {
  /** The last generation whose snapshot read these readers. */
  readonly generation: number;
  readonly readers: readonly SegmentReader<Uint8Array>[];
}

/**
 * The segment readers a refresh no longer needs, closed once nothing can
 * read them: a range iterator made before the refresh keeps reading its own
 * snapshot (possibly across awaits), so the readers of its generation and
 * older ones stay open while it is unfinished. An iterator that is dropped
 * unfinished lets go when it is garbage-collected.
 */
export class RetiredReaders {
  /** Open iterators per generation. */
  private readonly pins = new Map<number, number>();
  private readonly waiting: RetiredBatch[] = [];
  private readonly dropped = new FinalizationRegistry<number>((generation) => this.unpin(generation));

  /** Readers last read by snapshots up to `generation`: closed now, or once no iterator of those is open. */
  retire(generation: number, readers: readonly SegmentReader<Uint8Array>[]): void {
    if (readers.length === 0) return;
    this.waiting.push({ generation, readers });
    this.closeUnpinned();
  }

  /** `iterator`, reading the snapshot of `generation`, which stays readable until it finishes. */
  pin<T>(generation: number, iterator: IterableIterator<T>): IterableIterator<T> {
    this.pins.set(generation, (this.pins.get(generation) ?? 0) + 1);
    const pinned = new PinnedIterator(iterator, () => {
      this.dropped.unregister(pinned);
      this.unpin(generation);
    });
    this.dropped.register(pinned, generation, pinned);
    return pinned;
  }

  /** On close: every reader, pinned or not. */
  closeAll(): void {
    for (const batch of this.waiting.splice(0)) for (const reader of batch.readers) reader.close();
  }

  private unpin(generation: number): void {
    const count = (this.pins.get(generation) ?? 0) - 1;
    if (count > 0) this.pins.set(generation, count);
    else this.pins.delete(generation);
    this.closeUnpinned();
  }

  private closeUnpinned(): void {
    const oldestPinned = Math.min(...this.pins.keys());
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const batch = this.waiting[i]!;
      if (batch.generation >= oldestPinned) continue;
      this.waiting.splice(i, 1);
      for (const reader of batch.readers) reader.close();
    }
  }
}

/** Calls `release` once, when the iterator is exhausted, returned early, or throws. */
class PinnedIterator<T> implements IterableIterator<T> {
  private released = false;

  constructor(
    private readonly inner: IterableIterator<T>,
    private readonly releaseOnce: () => void,
  ) {}

  next(): IteratorResult<T> {
    if (this.released) return { done: true, value: undefined };
    let result: IteratorResult<T>;
    try {
      result = this.inner.next();
    } catch (error) {
      this.release();
      throw error;
    }
    if (result.done === true) this.release();
    return result;
  }

  return(): IteratorResult<T> {
    if (!this.released) {
      try {
        this.inner.return?.();
      } finally {
        this.release();
      }
    }
    return { done: true, value: undefined };
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this;
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.releaseOnce();
  }
}
