import {
  compareBytes,
  copyBytes,
  decodeAscii,
  decodeUtf8,
  encodeKeyToScratch,
  hashKeyBytes,
  KEY_SCRATCH,
  scratchKeyHash,
} from '@silt/segments/internal';
import type { Lookup } from './entry-source.js';

/** Slots per key at most, so a probe mostly ends at its first or second slot. */
const LOAD_LIMIT = 0.5;
const FIRST_SLOTS = 1024;
const FIRST_KEYS = 256;
const FIRST_ARENA_BYTES = 64 * 1024;

/** Bytes of replaced entries tolerated in the arena beyond the live ones before it is compacted. */
const DEAD_BYTES_KEPT = 1024 * 1024;

/**
 * An entry's header: the key's number (u32), the key's length (u16), what
 * the value is (u8: `Kind`), the value's length (u32); then the key's bytes
 * and the value's.
 */
const HEADER = 11;
const KIND_AT = 6;
const VALUE_LENGTH_AT = 7;

/** What an entry's value is; it decides how its bytes come back. */
export const DELETED = 0;
export const BYTES = 1;
export const ASCII_TEXT = 2;
export const UTF8_TEXT = 3;
export type EntryKind = typeof DELETED | typeof BYTES | typeof ASCII_TEXT | typeof UTF8_TEXT;

/** Immutable, so every delete reads as this one. */
const TOMBSTONE: Lookup = { kind: 'tombstone' };

/**
 * The newest write of each key of a tail table, as entries back to back in
 * one buffer (the arena): a key's bytes with its value's right after them,
 * as in a segment's block, found through an open-addressing hash index of
 * (hash, entry) pairs with the FNV hash a segment's index uses (a string key
 * is hashed while it is encoded to scratch, without a Buffer). A point read
 * touches the slot pair and the entry: two places in memory, as a segment's
 * read does, and decodes the value from there (Latin-1 for ASCII text, the
 * cheapest decode V8 has) or copies its bytes out.
 *
 * Keys are numbered in the order they were first written; the number names
 * the key's newest entry (`starts`) for ordered reads. A key written again
 * gets a new entry at the arena's end, and its slot and number move to it;
 * the old entry is dead. When dead bytes outnumber the live ones (plus
 * 1 MiB), the arena is copied, live entries only, so it stays within about
 * twice what it holds. Keys are never forgotten: a pruned table is a new
 * table, filled by `copyFrom`.
 *
 * Held as a string or `Uint8Array` per value, 300,000 values were 300,000
 * objects in the old generation, each read a cache miss beyond the key's,
 * and every major GC walked them all; here the heap holds a few typed arrays.
 */
export class TailEntries {
  private arena: Buffer;
  private used = 0;
  /** Bytes of the newest entries, headers included. */
  private liveBytes = 0;
  /** Key and value bytes of the newest entries: what a tail table counts. */
  private liveKeyValueBytes = 0;
  /** By key number: where its newest entry starts. */
  private starts: Uint32Array<ArrayBuffer>;
  /** Pairs: a key's hash and its newest entry's start plus one; 0 is a free slot. */
  private slots: Uint32Array<ArrayBuffer>;
  private count = 0;
  /** The slot the last successful `find` ended at, so a rewrite of the key moves it without a second probe. */
  private foundSlot = -1;

  /** Room for `keys` keys whose entries take `bytes` in all, before it grows (a pruned table knows what it takes over). */
  constructor(keys = FIRST_KEYS, bytes = FIRST_ARENA_BYTES) {
    const room = Math.max(keys, FIRST_KEYS);
    this.arena = Buffer.allocUnsafeSlow(Math.max(bytes, FIRST_ARENA_BYTES));
    this.starts = new Uint32Array(room);
    let slots = FIRST_SLOTS;
    while (room > slots * LOAD_LIMIT) slots *= 2;
    this.slots = new Uint32Array(2 * slots);
  }

  /** Keys held, deleted ones included. */
  get size(): number {
    return this.count;
  }

  /** Key and value bytes of every key's newest write. */
  get keyValueBytes(): number {
    return this.liveKeyValueBytes;
  }

  /** Bytes of the arena, live entries, dead ones and room to grow: what the entries really take, with the index's slots. */
  get allocatedBytes(): number {
    return this.arena.length + this.slots.byteLength + this.starts.byteLength;
  }

  /** The arena's size: live entries, dead ones and room to grow. */
  get arenaBytes(): number {
    return this.arena.length;
  }

  /** Arena bytes the live entries take, headers included: what a copy of them needs. */
  get entryBytes(): number {
    return this.liveBytes;
  }

  /**
   * Records a write of `key` (copied): a value of `source[valueStart,
   * valueEnd)` of `kind`, or a delete. Returns the key's number: `size`
   * before the call for a new key.
   */
  write(key: Uint8Array, kind: EntryKind, source: Uint8Array, valueStart: number, valueEnd: number): number {
    const hash = hashKeyBytes(key, 0, key.length);
    const previous = this.find(key, key.length, hash);
    const number = previous < 0 ? -1 : this.numberAt(previous);
    const slot = this.foundSlot;
    // Appending may compact the arena: the previous entry is found again by its number after.
    const at = this.append(key, 0, key.length, kind, source, valueStart, valueEnd);
    if (number < 0) return this.added(hash, at);
    this.release(this.starts[number]!);
    this.moveTo(number, slot, at);
    return number;
  }

  /** Adds key `number` of `from` with its newest write, as a key this table does not hold yet; returns its number here. */
  copyFrom(from: TailEntries, number: number): number {
    const source = from.arena;
    const start = from.starts[number]!;
    const keyStart = start + HEADER;
    const keyEnd = keyStart + from.keyLengthAt(start);
    const hash = hashKeyBytes(source, keyStart, keyEnd - keyStart);
    const valueEnd = keyEnd + source.readUInt32LE(start + VALUE_LENGTH_AT);
    const kind = source[start + KIND_AT]! as EntryKind;
    return this.added(hash, this.append(source, keyStart, keyEnd, kind, source, keyEnd, valueEnd));
  }

  /** The number of a string key (its UTF-8 bytes, as `Buffer.from` encodes it), or -1. */
  findString(key: string): number {
    const length = encodeKeyToScratch(key);
    const at = length < 0 ? -1 : this.find(KEY_SCRATCH, length, scratchKeyHash);
    return at < 0 ? -1 : this.numberAt(at);
  }

  /** The number of a key given as bytes, or -1. */
  findBytes(key: Uint8Array): number {
    const at = this.find(key, key.length, hashKeyBytes(key, 0, key.length));
    return at < 0 ? -1 : this.numberAt(at);
  }

  /** What the newest write of `key` says (a fresh string or a copy of the bytes, the caller's own), or undefined if none. */
  lookup(key: string | Uint8Array): Lookup | undefined {
    let at: number;
    if (typeof key === 'string') {
      const length = encodeKeyToScratch(key);
      at = length < 0 ? -1 : this.find(KEY_SCRATCH, length, scratchKeyHash);
    } else at = this.find(key, key.length, hashKeyBytes(key, 0, key.length));
    return at < 0 ? undefined : this.lookupAt(at);
  }

  /** What key `number`'s newest write says. */
  lookupNumber(number: number): Lookup {
    return this.lookupAt(this.starts[number]!);
  }

  /** Byte order of two keys held. */
  compare(a: number, b: number): number {
    const at = this.starts[a]!;
    const bt = this.starts[b]!;
    return compareBytes(this.arena, at + HEADER, this.keyLengthAt(at), this.arena, bt + HEADER, this.keyLengthAt(bt));
  }

  /** Byte order of a key held against `key`. */
  compareTo(number: number, key: Uint8Array): number {
    const at = this.starts[number]!;
    return compareBytes(this.arena, at + HEADER, this.keyLengthAt(at), key, 0, key.length);
  }

  /** A copy of a key's bytes, the caller's own. */
  copyOf(number: number): Buffer {
    const at = this.starts[number]!;
    return Buffer.from(this.arena.subarray(at + HEADER, at + HEADER + this.keyLengthAt(at)));
  }

  /** Where the newest entry of `key` starts, or -1; on a hit `foundSlot` names its slot. */
  private find(key: Uint8Array, length: number, hash: number): number {
    const slots = this.slots;
    const arena = this.arena;
    const mask = (slots.length >>> 1) - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const at = slots[2 * slot + 1]! - 1;
      if (at < 0) return -1;
      if (slots[2 * slot] !== hash || this.keyLengthAt(at) !== length) continue;
      const keyAt = at + HEADER;
      let same = true;
      for (let i = 0; i < length; i++) {
        if (arena[keyAt + i] !== key[i]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.foundSlot = slot;
        return at;
      }
    }
  }

  private lookupAt(at: number): Lookup {
    const arena = this.arena;
    const kind = arena[at + KIND_AT]!;
    if (kind === DELETED) return TOMBSTONE;
    const start = at + HEADER + this.keyLengthAt(at);
    const end = start + arena.readUInt32LE(at + VALUE_LENGTH_AT);
    if (kind === ASCII_TEXT) return { kind: 'put', value: decodeAscii(arena, start, end) };
    if (kind === UTF8_TEXT) return { kind: 'put', value: decodeUtf8(arena, start, end) };
    return { kind: 'put', value: copyBytes(arena, start, end) };
  }

  private numberAt(at: number): number {
    return this.arena.readUInt32LE(at);
  }

  private keyLengthAt(at: number): number {
    return this.arena[at + 4]! | (this.arena[at + 5]! << 8);
  }

  private entryLengthAt(at: number): number {
    return HEADER + this.keyLengthAt(at) + this.arena.readUInt32LE(at + VALUE_LENGTH_AT);
  }

  /** Writes an entry at the arena's end (its number filled in by the caller's `added` or `moveTo`); returns where. */
  private append(
    keySource: Uint8Array,
    keyStart: number,
    keyEnd: number,
    kind: EntryKind,
    valueSource: Uint8Array,
    valueStart: number,
    valueEnd: number,
  ): number {
    const keyLength = keyEnd - keyStart;
    const valueLength = valueEnd - valueStart;
    const size = HEADER + keyLength + valueLength;
    if (this.used + size > this.arena.length) this.makeRoom(size);
    const at = this.used;
    const arena = this.arena;
    arena[at + 4] = keyLength & 0xff;
    arena[at + 5] = keyLength >>> 8;
    arena[at + KIND_AT] = kind;
    arena.writeUInt32LE(valueLength, at + VALUE_LENGTH_AT);
    arena.set(keySource.subarray(keyStart, keyEnd), at + HEADER);
    if (valueLength > 0) arena.set(valueSource.subarray(valueStart, valueEnd), at + HEADER + keyLength);
    this.used += size;
    this.liveBytes += size;
    this.liveKeyValueBytes += keyLength + valueLength;
    return at;
  }

  /** Numbers the new key whose entry is at `at`, and places it in the hash index. */
  private added(hash: number, at: number): number {
    const number = this.count++;
    if (number === this.starts.length) this.starts = grown(this.starts, 2 * number);
    this.arena.writeUInt32LE(number, at);
    this.starts[number] = at;
    place(this.slots, hash >>> 0, at);
    if (this.count > (this.slots.length >>> 1) * LOAD_LIMIT) this.rehash(this.slots.length * 2);
    return number;
  }

  /** Key `number`'s newest entry is now the one at `at` (found at `slot`). */
  private moveTo(number: number, slot: number, at: number): void {
    this.arena.writeUInt32LE(number, at);
    this.starts[number] = at;
    this.slots[2 * slot + 1] = at + 1;
  }

  /** The entry at `at` is no longer its key's newest. */
  private release(at: number): void {
    const length = this.entryLengthAt(at);
    this.liveBytes -= length;
    this.liveKeyValueBytes -= length - HEADER;
  }

  /** A slot array twice the size, every key placed again (its hash is kept with its entry's start). */
  private rehash(size: number): void {
    const old = this.slots;
    this.slots = new Uint32Array(size);
    for (let slot = 0; slot < old.length; slot += 2) {
      if (old[slot + 1] !== 0) place(this.slots, old[slot]!, old[slot + 1]! - 1);
    }
  }

  /** Room for `size` more bytes: the live entries alone if enough are dead, else a bigger arena. */
  private makeRoom(size: number): void {
    const dead = this.used - this.liveBytes;
    const needed = this.liveBytes + size;
    if (dead > this.liveBytes + DEAD_BYTES_KEPT) this.compact(Math.max(2 * needed, FIRST_ARENA_BYTES));
    else {
      // Half again, not twice: the slack of a grown arena is memory a reader holds for nothing.
      const bigger = Buffer.allocUnsafeSlow(Math.max(Math.ceil(1.5 * this.arena.length), this.used + size));
      this.arena.copy(bigger, 0, 0, this.used);
      this.arena = bigger;
    }
  }

  /** Copies the live entries, in the order they were written, into a new arena of `size` bytes, and points the index at them. */
  private compact(size: number): void {
    const old = this.arena;
    const arena = Buffer.allocUnsafeSlow(size);
    let used = 0;
    for (let at = 0; at < this.used; at += this.entryLengthAt(at)) {
      const number = this.numberAt(at);
      if (this.starts[number] !== at) continue;
      const length = this.entryLengthAt(at);
      old.copy(arena, used, at, at + length);
      this.starts[number] = used;
      used += length;
    }
    // Slots name entries by start: each moves with its key's newest entry.
    const slots = this.slots;
    for (let slot = 1; slot < slots.length; slot += 2) {
      if (slots[slot] !== 0) slots[slot] = this.starts[old.readUInt32LE(slots[slot]! - 1)]! + 1;
    }
    this.arena = arena;
    this.used = used;
  }
}

/** Puts a key's (hash, entry start) pair in the first free slot from its hash. */
function place(slots: Uint32Array, hash: number, at: number): void {
  const mask = (slots.length >>> 1) - 1;
  let slot = hash & mask;
  while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
  slots[2 * slot] = hash;
  slots[2 * slot + 1] = at + 1;
}

function grown(array: Uint32Array, size: number): Uint32Array<ArrayBuffer> {
  const bigger = new Uint32Array(size);
  bigger.set(array);
  return bigger;
}
