import { type Key, type Value } from '@silt/segments';
import { keyBytesOfId, keyIdOfBytes, keyIdOfString, type ScanRange } from '@silt/segments/internal';
import type { EntrySource, Lookup, SourceEntry } from '@silt/reader/internal';
import { LoggedEntries, type LoggedKind } from './logged-entries.js';

/** Rough bytes of bookkeeping per memtable entry (Map slot, operation object, key string), for `memtableBytes`. */
const MEMTABLE_ENTRY_OVERHEAD_BYTES = 96;

/** One write as the memtable keeps it: the caller's validated operation object itself, no copy. */
export interface MemtableOperation {
  readonly kind: 'put' | 'delete';
  /** The key's id (`keyIdOfBytes` of @silt/segments): a latin1 string, one char per byte, so string order is byte order. */
  readonly id: string;
  /** The value as given (a private copy for bytes); absent for a delete. */
  readonly value?: Value;
  /** Bytes the value takes encoded, for `memtableBytes`. */
  readonly valueBytes: number;
}

/**
 * The writer's in-memory table of recent writes, newest value per key. Point
 * reads go through a Map. Ordered reads sort lazily: new keys wait in an
 * unsorted list and are merged into the sorted list when an ordered read
 * asks, so a stream of writes with no range reads never sorts at all.
 *
 * Writes replayed from the log at open (`applyLogged`) are held apart, as
 * positions in the log files' bytes (see LoggedEntries): all of them older
 * than anything in the Map, which shadows them.
 *
 * A write is served as soon as it is applied, before the log has it. Until
 * the log acknowledges it (`acknowledged`), the table remembers what it
 * replaced, so that a write the log refused can be taken back
 * (`withdraw`): no read may see a write whose promise rejected.
 */
export class Memtable implements EntrySource {
  private readonly byId = new Map<string, MemtableOperation>();
  private logged: LoggedEntries | undefined;
  /** Keys in the Map that are also among the logged entries: counted once in `size`. */
  private shadowedKeys = 0;
  /** Logged keys already handed to the ordered lists. */
  private loggedKeysListed = 0;
  private sorted: string[] = [];
  private unsorted: string[] = [];
  private approximateBytes = 0;
  private firstSeq = 0;
  private lastSeq = 0;
  /**
   * The writes the log has not acknowledged yet, oldest first, with the
   * sequence number of the first: each one's id and the operation it
   * replaced in the Map (undefined: none). Cleared as the log acknowledges.
   */
  private unacknowledgedIds: string[] = [];
  private replaced: Array<MemtableOperation | undefined> = [];
  private firstUnacknowledged = 0;

  /**
   * Records one operation the log has taken but not yet acknowledged;
   * sequence numbers must rise by one per operation. The table keeps the
   * object: neither it nor its value may change afterwards.
   */
  apply(sequence: number, operation: MemtableOperation): void {
    if (this.unacknowledgedIds.length === 0) this.firstUnacknowledged = sequence;
    else if (sequence !== this.firstUnacknowledged + this.unacknowledgedIds.length) {
      throw new RangeError(`memtable write ${sequence} does not follow ${this.firstUnacknowledged + this.unacknowledgedIds.length - 1}`);
    }
    this.unacknowledgedIds.push(operation.id);
    this.replaced.push(this.put(sequence, operation));
  }

  /** The log acknowledged every write up to `sequence`: those can no longer be withdrawn. */
  acknowledged(sequence: number): void {
    const count = this.unacknowledgedIds.length;
    if (count === 0 || sequence < this.firstUnacknowledged) return;
    const done = Math.min(count, sequence - this.firstUnacknowledged + 1);
    if (done === count) {
      this.unacknowledgedIds = [];
      this.replaced = [];
    } else {
      this.unacknowledgedIds.splice(0, done);
      this.replaced.splice(0, done);
    }
    this.firstUnacknowledged += done;
  }

  /**
   * Takes back every write from `sequence` on, newest first, putting back
   * what each replaced: the log refused them, so no read may see them. Only
   * writes not yet acknowledged can be refused. The writer has failed by
   * then, so the table is not written again; `bytes` stays as it was.
   */
  withdraw(sequence: number): void {
    const from = Math.max(sequence, this.firstUnacknowledged);
    let n = this.unacknowledgedIds.length;
    if (n === 0 || this.firstUnacknowledged + n - 1 < from) return;
    for (n--; n >= 0 && this.firstUnacknowledged + n >= from; n--) {
      const previous = this.replaced[n];
      if (previous === undefined) this.byId.delete(this.unacknowledgedIds[n]!);
      else this.byId.set(previous.id, previous);
    }
    this.unacknowledgedIds.length = n + 1;
    this.replaced.length = n + 1;
    this.lastSeq = from - 1;
    if (this.lastSeq < this.firstSeq) this.firstSeq = this.lastSeq = 0;
    this.relistKeys();
  }

  /**
   * Puts one operation in the Map and returns the one it replaced. One map
   * lookup and one store per write: an overwrite is counted like a new write
   * (the old value's size is not subtracted), so `bytes` is what was written
   * since the table began, which also bounds the log a crash would replay.
   */
  private put(sequence: number, operation: MemtableOperation): MemtableOperation | undefined {
    const { id } = operation;
    const previous = this.byId.get(id);
    this.byId.set(id, operation);
    if (previous === undefined) {
      if (this.logged?.has(id) === true) this.shadowedKeys++;
      else {
        this.unsorted.push(id);
        this.approximateBytes += id.length + MEMTABLE_ENTRY_OVERHEAD_BYTES;
      }
    }
    this.approximateBytes += operation.valueBytes;
    this.noteSequence(sequence);
    return previous;
  }

  /** After a withdrawal: the ordered lists and the count of shadowed keys, from the Map as it is now. */
  private relistKeys(): void {
    this.sorted = [];
    this.unsorted = [];
    this.shadowedKeys = 0;
    this.loggedKeysListed = 0;
    for (const id of this.byId.keys()) {
      if (this.logged?.has(id) === true) this.shadowedKeys++;
      else this.unsorted.push(id);
    }
  }

  /**
   * Records one write read back from the log, where it lies in `bytes` (the
   * whole log file, the same object for all its entries): nothing is copied,
   * and the bytes must never change afterwards. Counted in `bytes` as
   * `apply` counts a write. Once `apply` has been called, logged writes
   * would be newer than the Map's, so they go into the Map as copies.
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
    if (this.byId.size > 0) {
      this.put(sequence, operationOf(kind, bytes, keyStart, keyLength, valueStart, valueLength));
      return;
    }
    this.logged ??= new LoggedEntries();
    if (this.logged.add(kind, bytes, keyStart, keyLength, valueStart, valueLength))
      this.approximateBytes += keyLength + MEMTABLE_ENTRY_OVERHEAD_BYTES;
    if (kind !== 'delete') this.approximateBytes += valueLength;
    this.noteSequence(sequence);
  }

  lookup(key: Key): Lookup | undefined {
    if (this.size === 0) return undefined;
    const id = typeof key === 'string' ? keyIdOfString(key) : keyIdOfBytes(key);
    const entry = this.byId.get(id);
    if (entry === undefined) return this.logged?.lookup(id);
    return entry.value !== undefined ? { kind: 'put', value: ownCopy(entry.value) } : { kind: 'tombstone' };
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
      const found = this.lookupId(id);
      if (found === undefined) continue; // withdrawn while this iterator ran
      yield found.kind === 'put' ? { key, kind: 'put', value: found.value } : { key, kind: 'tombstone' };
      if (--remaining === 0) return;
    }
  }

  /** Distinct keys held. */
  get size(): number {
    return this.byId.size + (this.logged?.distinctKeys ?? 0) - this.shadowedKeys;
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

  private noteSequence(sequence: number): void {
    if (this.firstSeq === 0) this.firstSeq = sequence;
    this.lastSeq = sequence;
  }

  /** A key the table holds, by id; values handed out are the caller's own. */
  private lookupId(id: string): Lookup | undefined {
    const entry = this.byId.get(id);
    if (entry !== undefined) return entry.value !== undefined ? { kind: 'put', value: ownCopy(entry.value) } : { kind: 'tombstone' };
    return this.logged?.lookup(id);
  }

  private sortedIds(): string[] {
    if (this.logged !== undefined && this.loggedKeysListed < this.logged.distinctKeys) {
      // Logged keys in the Map too were not listed by `apply`; these are listed once, here.
      for (const id of this.logged.ids(this.loggedKeysListed)) this.unsorted.push(id);
      this.loggedKeysListed = this.logged.distinctKeys;
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

/** A logged write as an operation of its own: the key and value copied (or decoded) out of the log's bytes. */
function operationOf(
  kind: LoggedKind,
  bytes: Uint8Array,
  keyStart: number,
  keyLength: number,
  valueStart: number,
  valueLength: number,
): MemtableOperation {
  const id = keyIdOfBytes(bytes.subarray(keyStart, keyStart + keyLength));
  if (kind === 'delete') return { kind: 'delete', id, valueBytes: 0 };
  const value = Buffer.from(bytes.buffer, bytes.byteOffset + valueStart, valueLength);
  return { kind: 'put', id, value: kind === 'put-text' ? value.toString('utf8') : new Uint8Array(value), valueBytes: valueLength };
}

/** Bytes handed out are copies, so a caller can never change what the table holds. */
function ownCopy(value: Value): Value {
  return typeof value === 'string' ? value : new Uint8Array(value);
}
