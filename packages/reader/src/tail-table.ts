import type { Key, Value } from '@silt/segments';
import type { ScanRange } from '@silt/segments/internal';
import type { DecodedRecord } from '@silt/wal';
import type { EntrySource, Lookup, SourceEntry } from './entry-source.js';
import { firstAfterSorted, mergeSorted } from './sorted-ids.js';
import { TailKeys } from './tail-keys.js';

/**
 * Bytes of bookkeeping counted per key held, beyond its key and value
 * bytes. The same figure the writer's memtable counts per key, so the
 * table's `bytes` never exceeds what the writer's memtables counted for the
 * same writes; what the table really takes a key is measured in the README
 * ("Memory").
 */
export const TAIL_ENTRY_OVERHEAD_BYTES = 96;

const utf8 = new TextDecoder();

/** Stale places in the write order tolerated beyond one a key, before it is compacted. */
const STALE_WRITES_KEPT = 1024;

/**
 * A reader's table of the writes it tailed from the log past what its
 * generation's segments cover: the newest write per key, with the sequence
 * number that wrote it, so that a newer generation can take over exactly
 * what it covers (`prunedThrough`). It is an `EntrySource`, stacked above
 * the generation's segments: point reads through a hash index over the
 * keys' bytes (`TailKeys`), ordered reads through a list of key numbers
 * sorted lazily (new keys wait unsorted until an ordered read asks), as the
 * writer's memtable does.
 *
 * A key is a number (`TailKeys`), and what the table holds of it sits in
 * columns at that number: the sequence number of its newest write, its
 * value (a string for a value given as text, bytes otherwise, undefined for
 * a delete) and what it adds to `bytes`. Keys and values are copied out of
 * the log's buffer as they are applied. A pruned table is a new table: the
 * old one is never written again, so an iterator made on it reads what it
 * read from, with its generation.
 *
 * Pruning costs what survives it, not what the table held: the keys are
 * also listed in the order they were written, so those a generation covers
 * are a prefix of that list, passed over by a binary search. (Copying or
 * filtering every entry cost 4 to 17 ms, up to 100 ms with the garbage
 * collector, for 20,000 to 40,000 keys: one refresh a second under 20,000
 * writes a second, and a reader serves nothing meanwhile.)
 */
export class TailTable implements EntrySource {
  private readonly keys: TailKeys;
  /** By key number: the sequence number of its newest write. */
  private sequences: number[] = [];
  /** By key number: its newest value as written; undefined for a delete. */
  private readonly values: Array<Value | undefined> = [];
  /** By key number: what it adds to `bytes`. */
  private counted: number[] = [];
  /** Numbers of the keys held, in byte order, plus those added since the last ordered read. */
  private sorted: number[] = [];
  private unsorted: number[] = [];
  /**
   * Writes in sequence order, as two parallel lists: a key's number and the
   * sequence number that wrote it. A key written again appears again; the
   * earlier place is stale (its sequence is not the key's newest) and is
   * dropped when stale places outnumber the keys (`compactWriteOrder`).
   */
  private writtenKeys: number[] = [];
  private writtenSequences: number[] = [];
  private approximateBytes = 0;
  private last = 0;

  /** `room`: how many keys it is about to take over (when pruned), so its key index is made that size at once. */
  constructor(room?: number) {
    this.keys = new TailKeys(room);
  }

  /** Applies every entry of a tailed log record; records must come in sequence order. */
  applyRecord(record: DecodedRecord): void {
    let sequence = record.firstSeq;
    record.visit((kind, bytes, keyStart, keyLength, valueStart, valueLength) => {
      const key = bytes.subarray(keyStart, keyStart + keyLength);
      if (kind === 'delete') this.apply(sequence++, key, undefined, 0);
      else {
        const value = bytes.subarray(valueStart, valueStart + valueLength);
        this.apply(sequence++, key, kind === 'put-text' ? utf8.decode(value) : new Uint8Array(value), valueLength);
      }
    });
  }

  /**
   * Records one write: `key` is copied, `value` (undefined for a delete) is
   * kept as it is, so it must be the table's own; `valueBytes` is its
   * encoded size. Sequence numbers must rise.
   */
  apply(sequence: number, key: Uint8Array, value: Value | undefined, valueBytes: number): void {
    if (sequence <= this.last) throw new RangeError(`tailed write ${sequence} does not follow ${this.last}`);
    const known = this.keys.size;
    const number = this.keys.numberOf(key);
    const bytes = key.length + valueBytes + TAIL_ENTRY_OVERHEAD_BYTES;
    if (number === known) {
      this.unsorted.push(number);
      this.counted.push(0);
    }
    this.set(number, sequence, value, bytes);
    this.last = sequence;
    this.writtenKeys.push(number);
    this.writtenSequences.push(sequence);
    if (this.writtenKeys.length > 2 * this.keys.size + STALE_WRITES_KEPT) this.compactWriteOrder();
  }

  /**
   * This table without the writes a generation covering `covered` holds: a
   * new table, or this one if it holds none of them. The newest write of a
   * key stays if it is past `covered`; older writes of it are gone already.
   */
  prunedThrough(covered: number): TailTable {
    const sequences = this.writtenSequences;
    if (sequences.length === 0 || sequences[0]! > covered) return this;
    const first = firstAfterSorted(sequences, (sequence) => sequence - covered, false);
    const pruned = new TailTable(Math.min(sequences.length - first, this.keys.size));
    for (let n = first; n < sequences.length; n++) {
      const number = this.writtenKeys[n]!;
      if (this.sequences[number] !== sequences[n]) continue; // written again later: that place is the one
      pruned.take(this, number);
    }
    pruned.last = this.last;
    return pruned;
  }

  lookup(key: Key): Lookup | undefined {
    if (this.keys.size === 0) return undefined;
    const number = typeof key === 'string' ? this.keys.findString(key) : this.keys.findBytes(key);
    return number < 0 ? undefined : lookupOf(this.values[number]);
  }

  /** Its entries in a resolved range, tombstones included, at most `range.limit`. */
  *entriesIn(range: ScanRange): Generator<SourceEntry, void, undefined> {
    const { lower, upper, reverse } = range;
    let remaining = range.limit;
    if (remaining <= 0 || this.keys.size === 0) return;
    const numbers = this.sortedNumbers();
    const from = lower === undefined ? 0 : firstAfterSorted(numbers, (number) => this.keys.compareTo(number, lower.key), lower.inclusive);
    const to =
      upper === undefined
        ? numbers.length
        : firstAfterSorted(numbers, (number) => this.keys.compareTo(number, upper.key), !upper.inclusive);
    for (let n = 0; n < to - from; n++) {
      const number = numbers[reverse ? to - 1 - n : from + n]!;
      const found = lookupOf(this.values[number]);
      const key = this.keys.copyOf(number);
      yield found.kind === 'put' ? { key, kind: 'put', value: found.value } : { key, kind: 'tombstone' };
      if (--remaining === 0) return;
    }
  }

  /** Distinct keys held, deletes included. */
  get size(): number {
    return this.keys.size;
  }

  /** Key and value bytes held, plus `TAIL_ENTRY_OVERHEAD_BYTES` a key: what `maxTailBytes` bounds. */
  get bytes(): number {
    return this.approximateBytes;
  }

  /** The sequence number of the last write applied (kept through pruning); 0 before any. */
  get lastSequence(): number {
    return this.last;
  }

  private set(number: number, sequence: number, value: Value | undefined, bytes: number): void {
    this.sequences[number] = sequence;
    this.values[number] = value;
    this.approximateBytes += bytes - this.counted[number]!;
    this.counted[number] = bytes;
  }

  /** Adds the newest write of key `number` of `table` (a key this table does not hold), as the last written. */
  private take(table: TailTable, number: number): void {
    const mine = this.keys.addFrom(table.keys, number);
    const sequence = table.sequences[number]!;
    this.unsorted.push(mine);
    this.counted.push(0);
    this.set(mine, sequence, table.values[number], table.counted[number]!);
    this.writtenKeys.push(mine);
    this.writtenSequences.push(sequence);
  }

  /** Drops the stale places of the write order, so it stays within a small multiple of the keys held. */
  private compactWriteOrder(): void {
    const numbers: number[] = [];
    const sequences: number[] = [];
    for (let n = 0; n < this.writtenKeys.length; n++) {
      const number = this.writtenKeys[n]!;
      if (this.sequences[number] !== this.writtenSequences[n]) continue;
      numbers.push(number);
      sequences.push(this.writtenSequences[n]!);
    }
    this.writtenKeys = numbers;
    this.writtenSequences = sequences;
  }

  private sortedNumbers(): number[] {
    if (this.unsorted.length > 0) {
      this.unsorted.sort((a, b) => this.keys.compare(a, b));
      this.sorted = mergeSorted(this.sorted, this.unsorted, (a, b) => this.keys.compare(a, b));
      this.unsorted = [];
    }
    return this.sorted;
  }
}

/** Immutable, so every delete reads as this one. */
const TOMBSTONE: Lookup = { kind: 'tombstone' };

/** What the table says of a key; bytes handed out are copies, so no caller can change what it holds. */
function lookupOf(value: Value | undefined): Lookup {
  if (value === undefined) return TOMBSTONE;
  return { kind: 'put', value: typeof value === 'string' ? value : new Uint8Array(value) };
}
