import { toScanRange, type Value } from '@silt/segments';
import type { EntrySource, Lookup, SourceEntry, SourceRange } from '@silt/reader';

/** Rough bytes of bookkeeping per entry (Map slot, entry object, key string), for `memtableBytes`. */
const ENTRY_OVERHEAD_BYTES = 96;

type MemEntry = SourceEntry & {
  /** The key as a latin1 string: one char per byte, so string order is byte order. */
  readonly id: string;
  /** Bytes the value takes encoded, for `memtableBytes`. */
  readonly valueBytes: number;
};

/**
 * The writer's in-memory table of recent writes, newest value per key. Point
 * reads go through a Map. Ordered reads sort lazily: new keys wait in an
 * unsorted list and are merged into the sorted list when an ordered read
 * asks, so a stream of writes with no range reads never sorts at all.
 */
export class Memtable implements EntrySource {
  private readonly byId = new Map<string, MemEntry>();
  private sorted: string[] = [];
  private unsorted: string[] = [];
  private approximateBytes = 0;
  private firstSeq = 0;
  private lastSeq = 0;
  /**
   * Resolves once the log acknowledged the newest write in this table; a
   * flush waits for it, because the flush worker reads the log files and
   * group commit writes them a turn later.
   */
  lastAppend: Promise<unknown> = Promise.resolve();

  /**
   * Records one operation: a put of `value` (kept as given, so reads return
   * the same type), or a delete when `value` is undefined. Sequence numbers
   * must rise. The caller hands over `key` and `value`: they must not change.
   * `id` may be passed when the caller has it cheaper than `idOf(key)`.
   */
  apply(sequence: number, key: Uint8Array, value: Value | undefined, valueBytes: number, id = idOf(key)): void {
    const previous = this.byId.get(id);
    const entry: MemEntry =
      value === undefined ? { id, key, kind: 'tombstone', valueBytes: 0 } : { id, key, kind: 'put', value, valueBytes };
    this.byId.set(id, entry);
    if (previous === undefined) {
      this.unsorted.push(id);
      this.approximateBytes += key.length + ENTRY_OVERHEAD_BYTES;
    } else {
      this.approximateBytes -= previous.valueBytes;
    }
    this.approximateBytes += valueBytes;
    if (this.firstSeq === 0) this.firstSeq = sequence;
    this.lastSeq = sequence;
  }

  lookup(key: Uint8Array): Lookup | undefined {
    if (this.byId.size === 0) return undefined;
    const entry = this.byId.get(idOf(key));
    if (entry === undefined) return undefined;
    return entry.kind === 'put' ? { kind: 'put', value: ownCopy(entry.value) } : { kind: 'tombstone' };
  }

  *entries(range: SourceRange): Generator<SourceEntry, void, undefined> {
    const { lower, upper, reverse } = toScanRange(range);
    const ids = this.sortedIds();
    const from = lower === undefined ? 0 : firstAfter(ids, idOf(lower.key), lower.inclusive);
    const to = upper === undefined ? ids.length : firstAfter(ids, idOf(upper.key), !upper.inclusive);
    for (let n = 0; n < to - from; n++) {
      const entry = this.byId.get(ids[reverse ? to - 1 - n : from + n]!)!;
      yield entry.kind === 'put' ? { key: entry.key, kind: 'put', value: ownCopy(entry.value) } : { key: entry.key, kind: 'tombstone' };
    }
  }

  get size(): number {
    return this.byId.size;
  }

  get bytes(): number {
    return this.approximateBytes;
  }

  /** Sequence range written into this table; [0, 0] while empty. */
  get firstSequence(): number {
    return this.firstSeq;
  }

  get lastSequence(): number {
    return this.lastSeq;
  }

  private sortedIds(): string[] {
    if (this.unsorted.length > 0) {
      // Latin1 strings compare by UTF-16 units 0..255, which is byte order.
      this.unsorted.sort();
      this.sorted = mergeSorted(this.sorted, this.unsorted);
      this.unsorted = [];
    }
    return this.sorted;
  }
}

/** The key as a latin1 string: one char per byte, so string order is byte order. */
export function idOf(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/** The first index whose id is above `id`, or at or above it when `orEqual`. */
function firstAfter(ids: readonly string[], id: string, orEqual: boolean): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (orEqual ? ids[mid]! < id : ids[mid]! <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const out = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! < b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/** Bytes handed out are copies, so a caller can never change what the table holds. */
function ownCopy(value: Value): Value {
  return typeof value === 'string' ? value : new Uint8Array(value);
}
