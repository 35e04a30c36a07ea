import type { Key, Value } from '@silt/segments';
import { keyBytesOfId, keyIdOfBytes, keyIdOfString, type ScanRange } from '@silt/segments/internal';
import type { DecodedRecord } from '@silt/wal';
import type { EntrySource, Lookup, SourceEntry } from './entry-source.js';
import { firstIdAfter, mergeSortedIds } from './sorted-ids.js';

/**
 * Bytes of bookkeeping counted per key held, beyond its key and value
 * bytes: the Map slot, the entry object, the key's string and the value's
 * object. The same figure the writer's memtable counts per key, so the
 * table's `bytes` never exceeds what the writer's memtables counted for the
 * same writes (README, "Memory").
 */
export const TAIL_ENTRY_OVERHEAD_BYTES = 96;

/** The newest write of one key the table holds. */
interface TailEntry {
  /** The sequence number of the write. */
  readonly sequence: number;
  /** As written: a string for a value given as text, bytes otherwise; undefined for a delete. */
  readonly value: Value | undefined;
  /** What the entry adds to `bytes`. */
  readonly bytes: number;
}

const utf8 = new TextDecoder();

/** Stale places in the write order tolerated beyond one a key, before it is compacted. */
const STALE_WRITES_KEPT = 1024;

/**
 * A reader's table of the writes it tailed from the log past what its
 * generation's segments cover: the newest write per key, with the sequence
 * number that wrote it, so that a newer generation can take over exactly
 * what it covers (`prunedThrough`). It is an `EntrySource`, stacked above
 * the generation's segments: point reads through a Map, ordered reads
 * through a key list sorted lazily (new keys wait unsorted until an ordered
 * read asks), as the writer's memtable does.
 *
 * Keys and values are copied out of the log's buffer as they are applied.
 * A pruned table is a new table: the old one is never written again, so an
 * iterator made on it reads what it read from, with its generation.
 *
 * Pruning costs what survives it, not what the table held: the keys are
 * also listed in the order they were written, so those a generation covers
 * are a prefix of that list, passed over by a binary search. (Copying or
 * filtering every entry cost 4 to 17 ms, up to 100 ms with the garbage
 * collector, for 20,000 to 40,000 keys: one refresh a second under 20,000
 * writes a second, and a reader serves nothing meanwhile.)
 */
export class TailTable implements EntrySource {
  private readonly byId = new Map<string, TailEntry>();
  /** Ids of the keys held, in byte order, plus those added since the last ordered read. */
  private sorted: string[] = [];
  private unsorted: string[] = [];
  /**
   * Writes in sequence order, as two parallel lists: a key's id and the
   * sequence number that wrote it. A key written again appears again; the
   * earlier place is stale (its sequence is not the key's entry's) and is
   * dropped when stale places outnumber the keys (`compactWriteOrder`).
   */
  private writtenIds: string[] = [];
  private writtenSequences: number[] = [];
  private approximateBytes = 0;
  private last = 0;

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
    const id = keyIdOfBytes(key);
    const bytes = key.length + valueBytes + TAIL_ENTRY_OVERHEAD_BYTES;
    const previous = this.byId.get(id);
    this.byId.set(id, { sequence, value, bytes });
    if (previous === undefined) this.unsorted.push(id);
    this.approximateBytes += bytes - (previous?.bytes ?? 0);
    this.last = sequence;
    this.writtenIds.push(id);
    this.writtenSequences.push(sequence);
    if (this.writtenIds.length > 2 * this.byId.size + STALE_WRITES_KEPT) this.compactWriteOrder();
  }

  /**
   * This table without the writes a generation covering `covered` holds: a
   * new table, or this one if it holds none of them. The newest write of a
   * key stays if it is past `covered`; older writes of it are gone already.
   */
  prunedThrough(covered: number): TailTable {
    const sequences = this.writtenSequences;
    if (sequences.length === 0 || sequences[0]! > covered) return this;
    const pruned = new TailTable();
    for (let n = firstAbove(sequences, covered); n < sequences.length; n++) {
      const id = this.writtenIds[n]!;
      const entry = this.byId.get(id)!;
      if (entry.sequence !== sequences[n]) continue; // written again later: that place is the one
      pruned.byId.set(id, entry);
      pruned.unsorted.push(id);
      pruned.writtenIds.push(id);
      pruned.writtenSequences.push(entry.sequence);
      pruned.approximateBytes += entry.bytes;
    }
    pruned.last = this.last;
    return pruned;
  }

  lookup(key: Key): Lookup | undefined {
    if (this.byId.size === 0) return undefined;
    return lookupOf(this.byId.get(typeof key === 'string' ? keyIdOfString(key) : keyIdOfBytes(key)));
  }

  /** Its entries in a resolved range, tombstones included, at most `range.limit`. */
  *entriesIn(range: ScanRange): Generator<SourceEntry, void, undefined> {
    const { lower, upper, reverse } = range;
    let remaining = range.limit;
    if (remaining <= 0 || this.byId.size === 0) return;
    const ids = this.sortedIds();
    const from = lower === undefined ? 0 : firstIdAfter(ids, keyIdOfBytes(lower.key), lower.inclusive);
    const to = upper === undefined ? ids.length : firstIdAfter(ids, keyIdOfBytes(upper.key), !upper.inclusive);
    for (let n = 0; n < to - from; n++) {
      const id = ids[reverse ? to - 1 - n : from + n]!;
      const found = lookupOf(this.byId.get(id));
      if (found === undefined) continue;
      yield found.kind === 'put'
        ? { key: keyBytesOfId(id), kind: 'put', value: found.value }
        : { key: keyBytesOfId(id), kind: 'tombstone' };
      if (--remaining === 0) return;
    }
  }

  /** Distinct keys held, deletes included. */
  get size(): number {
    return this.byId.size;
  }

  /** Key and value bytes held, plus `TAIL_ENTRY_OVERHEAD_BYTES` a key: what `maxTailBytes` bounds. */
  get bytes(): number {
    return this.approximateBytes;
  }

  /** The sequence number of the last write applied (kept through pruning); 0 before any. */
  get lastSequence(): number {
    return this.last;
  }

  /** Drops the stale places of the write order, so it stays within a small multiple of the keys held. */
  private compactWriteOrder(): void {
    const ids: string[] = [];
    const sequences: number[] = [];
    for (let n = 0; n < this.writtenIds.length; n++) {
      const id = this.writtenIds[n]!;
      if (this.byId.get(id)!.sequence !== this.writtenSequences[n]) continue;
      ids.push(id);
      sequences.push(this.writtenSequences[n]!);
    }
    this.writtenIds = ids;
    this.writtenSequences = sequences;
  }

  private sortedIds(): string[] {
    if (this.unsorted.length > 0) {
      // Ids are latin1 strings, one char per byte: string order is byte order.
      this.unsorted.sort();
      this.sorted = mergeSortedIds(this.sorted, this.unsorted);
      this.unsorted = [];
    }
    return this.sorted;
  }
}

/** What the table says of a key; bytes handed out are copies, so no caller can change what it holds. */
function lookupOf(entry: TailEntry | undefined): Lookup | undefined {
  if (entry === undefined) return undefined;
  const value = entry.value;
  if (value === undefined) return { kind: 'tombstone' };
  return { kind: 'put', value: typeof value === 'string' ? value : new Uint8Array(value) };
}

/** The first index of ascending `sequences` whose number is above `sequence`. */
function firstAbove(sequences: readonly number[], sequence: number): number {
  let lo = 0;
  let hi = sequences.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sequences[mid]! <= sequence) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
