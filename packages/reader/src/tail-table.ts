import type { Key } from '@silt/segments';
import type { ScanRange } from '@silt/segments/internal';
import type { DecodedRecord } from '@silt/wal';
import type { EntrySource, Lookup, SourceEntry } from './entry-source.js';
import { firstAfterSorted, mergeSorted } from './sorted-ids.js';
import { ASCII_TEXT, BYTES, DELETED, TailEntries, UTF8_TEXT, type EntryKind } from './tail-entries.js';

/**
 * Bytes of bookkeeping counted per key held, beyond its key and value
 * bytes. The same figure the writer's memtable counts per key, so the
 * table's `bytes` never exceeds what the writer's memtables counted for the
 * same writes; what the table really takes a key is measured in the README
 * ("Memory").
 */
export const TAIL_ENTRY_OVERHEAD_BYTES = 96;

/** A write's kind as the log has it: `put-text` is a put whose value was given as a string. */
export type EntryWriteKind = 'put' | 'put-text' | 'delete';

/** Stale places in the write order tolerated beyond one a key, before it is compacted. */
const STALE_WRITES_KEPT = 1024;

/**
 * A pruned table keeps room for what the table before it grew to, up to
 * this: a reader whose tail filled up to its limit (256 MiB by default)
 * before a generation covered it would otherwise take that much again, if
 * only in address space, for a table that may stay nearly empty.
 */
export const PRUNED_ROOM_KEPT_BYTES = 16 * 1024 * 1024;

/** What `applyRecord` needs of a record: its first sequence number and a walk over its entries. */
export type WalkableRecord = Pick<DecodedRecord, 'firstSeq' | 'visit'>;

/**
 * A reader's table of the writes it tailed from the log past what its
 * generation's segments cover: the newest write per key, with the sequence
 * number that wrote it, so that a newer generation can take over exactly
 * what it covers (`prunedThrough`). It is an `EntrySource`, stacked above
 * the generation's segments: point reads through `TailEntries` (each key's
 * newest write, key and value side by side in one buffer, behind a hash
 * index), ordered reads through a list of key numbers sorted lazily (new
 * keys wait unsorted until an ordered read asks), as the writer's memtable
 * does. Keys and values are copied out of the log's buffer as they are
 * applied. A pruned table is a new table: the old one is never written
 * again, so an iterator made on it reads what it read from, with its
 * generation.
 *
 * Pruning costs what survives it, not what the table held: the keys are
 * also listed in the order they were written, so those a generation covers
 * are a prefix of that list, passed over by a binary search. (Copying or
 * filtering every entry cost 4 to 17 ms, up to 100 ms with the garbage
 * collector, for 20,000 to 40,000 keys: one refresh a second under 20,000
 * writes a second, and a reader serves nothing meanwhile.)
 */
export class TailTable implements EntrySource {
  private readonly entries: TailEntries;
  /** By key number: the sequence number of its newest write. */
  private readonly sequences: number[] = [];
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
  private last = 0;

  /** `room`: how many keys, whose entries take how many bytes, it is about to take over (when pruned), so it is made that size at once. */
  constructor(room?: { keys: number; bytes: number }) {
    this.entries = new TailEntries(room?.keys, room?.bytes);
  }

  /** Applies every entry of a tailed log record (or one laid out as the log would: `OwnWrites`); records must come in sequence order. */
  applyRecord(record: WalkableRecord): void {
    let sequence = record.firstSeq;
    record.visit((kind, bytes, keyStart, keyLength, valueStart, valueLength) => {
      this.applyWrite(sequence++, kind, bytes, keyStart, keyLength, valueStart, valueLength);
    });
  }

  /** Applies one write, its key and value copied out of `bytes`; `sequence` must follow every write applied before. */
  applyWrite(
    sequence: number,
    kind: EntryWriteKind,
    bytes: Uint8Array,
    keyStart: number,
    keyLength: number,
    valueStart: number,
    valueLength: number,
  ): void {
    if (sequence <= this.last) throw new RangeError(`tailed write ${sequence} does not follow ${this.last}`);
    const key = bytes.subarray(keyStart, keyStart + keyLength);
    const known = this.entries.size;
    const number = this.entries.write(key, entryKind(kind, bytes, valueStart, valueLength), bytes, valueStart, valueStart + valueLength);
    if (number === known) this.unsorted.push(number);
    this.written(number, sequence);
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
    const keys = Math.min(sequences.length - first, this.entries.size);
    // Room for the keys that may survive (at the table's mean entry size), or for what this table
    // grew to, up to PRUNED_ROOM_KEPT_BYTES: the tail fills again by about as much before the next
    // generation, and a table sized for its survivors grew back half again at a time, a copy into
    // fresh memory each time (17 growths, 14 MB copied, by each read-back client of a fleet round).
    const survivorBytes = Math.ceil((this.entries.entryBytes * keys) / this.entries.size);
    const kept = Math.min(1, PRUNED_ROOM_KEPT_BYTES / this.entries.arenaBytes);
    const pruned = new TailTable({
      keys: Math.max(keys, Math.floor(this.entries.size * kept)),
      bytes: Math.max(survivorBytes, Math.floor(this.entries.arenaBytes * kept)),
    });
    for (let n = first; n < sequences.length; n++) {
      const number = this.writtenKeys[n]!;
      if (this.sequences[number] !== sequences[n]) continue; // written again later: that place is the one
      const mine = pruned.entries.copyFrom(this.entries, number);
      pruned.unsorted.push(mine);
      pruned.written(mine, sequences[n]!);
    }
    pruned.last = this.last;
    return pruned;
  }

  lookup(key: Key): Lookup | undefined {
    return this.entries.size === 0 ? undefined : this.entries.lookup(key);
  }

  /** Its entries in a resolved range, tombstones included, at most `range.limit`. */
  *entriesIn(range: ScanRange): Generator<SourceEntry, void, undefined> {
    const { lower, upper, reverse } = range;
    let remaining = range.limit;
    if (remaining <= 0 || this.entries.size === 0) return;
    const entries = this.entries;
    const numbers = this.sortedNumbers();
    const from = lower === undefined ? 0 : firstAfterSorted(numbers, (number) => entries.compareTo(number, lower.key), lower.inclusive);
    const to =
      upper === undefined ? numbers.length : firstAfterSorted(numbers, (number) => entries.compareTo(number, upper.key), !upper.inclusive);
    for (let n = 0; n < to - from; n++) {
      const number = numbers[reverse ? to - 1 - n : from + n]!;
      const found = entries.lookupNumber(number);
      const key = entries.copyOf(number);
      yield found.kind === 'put' ? { key, kind: 'put', value: found.value } : { key, kind: 'tombstone' };
      if (--remaining === 0) return;
    }
  }

  isEmpty(): boolean {
    return this.size === 0;
  }

  /** Distinct keys held, deletes included. */
  get size(): number {
    return this.entries.size;
  }

  /** Key and value bytes held, plus `TAIL_ENTRY_OVERHEAD_BYTES` a key: what `maxTailBytes` bounds. */
  get bytes(): number {
    return this.entries.keyValueBytes + this.entries.size * TAIL_ENTRY_OVERHEAD_BYTES;
  }

  /** Memory the table holds for its entries and their index, room to grow included. */
  get allocatedBytes(): number {
    return this.entries.allocatedBytes;
  }

  /** The sequence number of the last write applied (kept through pruning); 0 before any. */
  get lastSequence(): number {
    return this.last;
  }

  /** Records that key `number`'s newest write, its entry written already, is `sequence`. */
  private written(number: number, sequence: number): void {
    this.sequences[number] = sequence;
    this.last = sequence;
    this.writtenKeys.push(number);
    this.writtenSequences.push(sequence);
    if (this.writtenKeys.length > 2 * this.entries.size + STALE_WRITES_KEPT) this.compactWriteOrder();
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
      const compare = (a: number, b: number): number => this.entries.compare(a, b);
      this.unsorted.sort(compare);
      this.sorted = mergeSorted(this.sorted, this.unsorted, compare);
      this.unsorted = [];
    }
    return this.sorted;
  }
}

/** How a log entry is held: text that is all ASCII decodes as Latin-1, the cheapest decode. */
function entryKind(kind: EntryWriteKind, bytes: Uint8Array, valueStart: number, valueLength: number): EntryKind {
  if (kind === 'delete') return DELETED;
  if (kind === 'put') return BYTES;
  for (let i = valueStart; i < valueStart + valueLength; i++) if (bytes[i]! > 0x7f) return UTF8_TEXT;
  return ASCII_TEXT;
}
