import { type Key, type Value } from '@silt/segments';
import { keyBytesOfId, keyIdOfBytes, keyIdOfString, type ScanRange } from '@silt/segments/internal';
import type { EntrySource, Lookup, SourceEntry } from '@silt/reader/internal';
import { visitEncodedRecord } from '@silt/wal/internal';
import { MemtableEntries, type LoggedKind } from './memtable-entries.js';

/** Bytes of bookkeeping per entry held (its positions), for `bytes`. */
const ENTRY_OVERHEAD_BYTES = 16;
/**
 * Bytes counted per distinct key beyond its entry, for `bytes`. A key takes
 * about 30 (hash slots at most three quarters full, the first-entry list,
 * room in the last chunks); counting 80 keeps the flush size the table of
 * JavaScript objects before it had (96 bytes a new key in all: a 64 MiB
 * table flushes ~316,000 new keys of 16 + 100 bytes), which the merge
 * policy's tiers and the read figures were measured with. Counting 30
 * flushes 1 M such keys as 3 segments, not 4, and the policy merges none of
 * them (fewer than its run length of 4): gets fell from ~2x lmdb-js to 1.1-1.2x
 * in two index bench runs.
 */
const KEY_OVERHEAD_BYTES = 80;

/** One write as the writer hands it to the memtable (the prepared operation itself). */
export interface MemtableOperation {
  readonly kind: 'put' | 'delete';
  /** The key's id (`keyIdOfBytes` of @silt/segments): a latin1 string, one char per byte, so string order is byte order. */
  readonly id: string;
  /** The value as given; absent for a delete. */
  readonly value?: Value;
  /** Bytes the value takes encoded. */
  readonly valueBytes: number;
}

/**
 * The writer's in-memory table of recent writes, newest value per key.
 * Every write is held as bytes and found through a hash table on its key
 * (MemtableEntries): an `mset` in its own log record as the log encoded it
 * (`applyRecord`), a single write copied into the table's arena (`apply`),
 * a write replayed at open where it lies in the log file's bytes
 * (`applyLogged`). So a write leaves no object behind for the garbage
 * collector. Ordered reads sort
 * lazily: keys new since the last ordered read are sorted and merged into
 * the sorted list when one asks, so a stream of writes with no range reads
 * never sorts at all.
 *
 * A write is served as soon as it is applied, before the log has it. Until
 * the log acknowledges it (`acknowledged`), it can be taken back
 * (`withdraw`): no read may see a write whose promise rejected. The table
 * keeps every entry, not only each key's newest, so what a withdrawn write
 * replaced is found again.
 */
export class Memtable implements EntrySource {
  private readonly entries = new MemtableEntries();
  /** Keys of `entries` already handed to the ordered lists. */
  private keysListed = 0;
  private sorted: string[] = [];
  private unsorted: string[] = [];
  private approximateBytes = 0;
  private firstSeq = 0;
  private lastSeq = 0;
  /** The writes the log has not acknowledged yet: how many, the sequence number of the first and its entry's number. */
  private unacknowledged = 0;
  private firstUnacknowledged = 0;
  private firstUnacknowledgedEntry = 0;

  /**
   * Records one operation the log has taken but not yet acknowledged;
   * sequence numbers must rise by one per operation. Its key and value are
   * copied: the caller may drop the operation.
   */
  apply(sequence: number, operation: MemtableOperation): void {
    this.admit(sequence);
    const { id, valueBytes } = operation;
    const isNewKey = this.entries.addWrite(id, operation.value, valueBytes); // may throw: then nothing is counted
    this.unacknowledged++;
    this.noteWrite(sequence, isNewKey, id.length, valueBytes);
  }

  /**
   * `apply` for every operation of a log record of their own, numbered
   * from `firstSequence`: they are held where they lie in `record` (the
   * append's, as the log encoded it; its entries must never change), so
   * nothing is copied. A record in a memory block it shares (a small one,
   * from Node's buffer pool) is copied whole first: holding it would keep
   * the rest of the block alive with it.
   */
  applyRecord(firstSequence: number, record: Uint8Array): void {
    // The count is the record's own: known once it is walked, and joined to the unacknowledged writes then.
    this.admit(firstSequence);
    const held = record.buffer.byteLength < 2 * record.byteLength ? record : this.entries.copyOf(record);
    let sequence = firstSequence;
    visitEncodedRecord(held, (kind, bytes, keyStart, keyLength, valueStart, valueLength) =>
      this.applyLogged(sequence++, kind, bytes, keyStart, keyLength, valueStart, valueLength),
    );
    this.unacknowledged += sequence - firstSequence;
  }

  /**
   * Admits write `sequence` as the next unacknowledged one: its number must
   * follow theirs, and if it is the first, its entry is the next one added
   * (marked here). The caller counts it in `unacknowledged` once its entry
   * is added, so a write refused on the way is never counted.
   */
  private admit(sequence: number): void {
    if (this.unacknowledged === 0) {
      this.firstUnacknowledged = sequence;
      this.firstUnacknowledgedEntry = this.entries.size;
    } else if (sequence !== this.firstUnacknowledged + this.unacknowledged) {
      throw new RangeError(`memtable write ${sequence} does not follow ${this.firstUnacknowledged + this.unacknowledged - 1}`);
    }
  }

  /** The log acknowledged every write up to `sequence`: those can no longer be withdrawn. */
  acknowledged(sequence: number): void {
    if (this.unacknowledged === 0 || sequence < this.firstUnacknowledged) return;
    const done = Math.min(this.unacknowledged, sequence - this.firstUnacknowledged + 1);
    this.unacknowledged -= done;
    this.firstUnacknowledged += done;
    this.firstUnacknowledgedEntry += done;
  }

  /**
   * Takes back every write from `sequence` on, as if it had never been
   * made: the log refused them, so no read may see them. Only writes not
   * yet acknowledged can be refused. The writer has failed by then, so the
   * table is not written again; `bytes` stays as it was.
   */
  withdraw(sequence: number): void {
    const from = Math.max(sequence, this.firstUnacknowledged);
    const kept = from - this.firstUnacknowledged;
    if (this.unacknowledged === 0 || kept >= this.unacknowledged) return;
    this.entries.truncate(this.firstUnacknowledgedEntry + kept);
    this.unacknowledged = kept;
    this.lastSeq = from - 1;
    if (this.lastSeq < this.firstSeq) this.firstSeq = this.lastSeq = 0;
    this.sorted = [];
    this.unsorted = [];
    this.keysListed = 0;
  }

  /**
   * Records one write read back from the log, where it lies in `bytes` (the
   * whole log file, the same object for all its entries; or a record of the
   * table's own, from `applyRecord`): nothing is copied,
   * and the bytes must never change afterwards. Counted in `bytes` as
   * `apply` counts a write.
   */
  applyLogged(
    sequence: number,
    kind: LoggedKind,
    bytes: Uint8Array,
    keyStart: number,
    keyLength: number,
    valueStart: number,
    valueLength: number,
  ): void {
    const isNew = this.entries.add(kind, bytes, keyStart, keyLength, valueStart, valueLength);
    this.noteWrite(sequence, isNew, keyLength, kind === 'delete' ? 0 : valueLength);
  }

  /**
   * Every write is counted with its key, value and bookkeeping, an overwrite
   * like a new write (its old entry stays), so `bytes` is what the table
   * holds, which also bounds the log a crash would replay.
   */
  private noteWrite(sequence: number, isNewKey: boolean, keyBytes: number, valueBytes: number): void {
    this.approximateBytes += keyBytes + valueBytes + ENTRY_OVERHEAD_BYTES + (isNewKey ? KEY_OVERHEAD_BYTES : 0);
    if (this.firstSeq === 0) this.firstSeq = sequence;
    this.lastSeq = sequence;
  }

  lookup(key: Key): Lookup | undefined {
    if (this.size === 0) return undefined;
    return this.entries.lookup(typeof key === 'string' ? keyIdOfString(key) : keyIdOfBytes(key));
  }

  /** Its entries in a resolved range (`toScanRange`), tombstones included, at most `range.limit`. */
  *entriesIn(range: ScanRange): Generator<SourceEntry, void, undefined> {
    const { lower, upper, reverse } = range;
    let remaining = range.limit;
    if (remaining <= 0) return;
    const ids = this.sortedIds();
    const from = lower === undefined ? 0 : firstAfter(ids, keyIdOfBytes(lower.key), lower.inclusive);
    const to = upper === undefined ? ids.length : firstAfter(ids, keyIdOfBytes(upper.key), !upper.inclusive);
    for (let n = 0; n < to - from; n++) {
      const id = ids[reverse ? to - 1 - n : from + n]!;
      const key = keyBytesOfId(id);
      const found = this.entries.lookup(id);
      if (found === undefined) continue; // withdrawn while this iterator ran
      yield found.kind === 'put' ? { key, kind: 'put', value: found.value } : { key, kind: 'tombstone' };
      if (--remaining === 0) return;
    }
  }

  isEmpty(): boolean {
    return this.size === 0;
  }

  /** Distinct keys held. */
  get size(): number {
    return this.entries.distinctKeys;
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
    if (this.keysListed < this.entries.distinctKeys) {
      for (const id of this.entries.ids(this.keysListed)) this.unsorted.push(id);
      this.keysListed = this.entries.distinctKeys;
    }
    if (this.unsorted.length > 0) {
      // Latin1 strings compare by UTF-16 units 0..255, which is byte order.
      this.unsorted.sort();
      this.sorted = mergeSorted(this.sorted, this.unsorted);
      this.unsorted = [];
    }
    return this.sorted;
  }
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
