import { compareBytes, encodeKeyToScratch, hashKeyBytes, KEY_SCRATCH, scratchKeyHash } from '@silt/segments/internal';

/** Slots per key at most, so a probe mostly ends at its first or second slot. */
const LOAD_LIMIT = 0.5;
const FIRST_SLOTS = 1024;
const FIRST_KEYS = 256;

/** Bytes before a key's own in its record: its number (4 bytes) and its length (2). */
const RECORD_HEADER = 6;

/**
 * The distinct keys of a tail table, numbered in the order they were added:
 * each a record (its number, its length, its bytes) back to back in one
 * buffer, found through an open-addressing hash index of (hash, record)
 * pairs, with the FNV hash a segment's index uses, so a string key is hashed
 * while it is encoded to scratch, without a Buffer. A point read touches the
 * pair and the record: two places in memory, where a Map keyed by a string
 * per key walks its table, the key's string and the entry object, each
 * somewhere else in the heap. And a key costs a few bytes beyond its own,
 * where the string and the Map slot cost about a hundred.
 *
 * Keys are only added: a tail table never forgets a key, a pruned table is
 * a new table.
 */
export class TailKeys {
  private bytes: Uint8Array<ArrayBuffer>;
  private used = 0;
  /** By key number: where its record starts. */
  private starts: Int32Array<ArrayBuffer>;
  /** Pairs: a key's hash and its record's start plus one; 0 is a free slot. */
  private slots: Int32Array<ArrayBuffer>;
  private count = 0;

  /** Room for `keys` keys of `keyBytes` bytes in all before it grows (a pruned table knows what it takes over). */
  constructor(keys = FIRST_KEYS, keyBytes = 16 * keys) {
    const room = Math.max(keys, FIRST_KEYS);
    this.bytes = new Uint8Array(Math.max(RECORD_HEADER * room + keyBytes, FIRST_KEYS * 24));
    this.starts = new Int32Array(room);
    let slots = FIRST_SLOTS;
    while (room > slots * LOAD_LIMIT) slots *= 2;
    this.slots = new Int32Array(2 * slots);
  }

  /** Keys held. */
  get size(): number {
    return this.count;
  }

  /** The number of a string key (its UTF-8 bytes, as `Buffer.from` encodes it), or -1. */
  findString(key: string): number {
    const length = encodeKeyToScratch(key);
    return length < 0 ? -1 : this.find(KEY_SCRATCH, length, scratchKeyHash | 0);
  }

  /** The number of a key given as bytes, or -1. */
  findBytes(key: Uint8Array): number {
    return this.find(key, key.length, hashKeyBytes(key, 0, key.length) | 0);
  }

  /** The number of `key`, added (copied) if it is new: then it is the `size` before. */
  numberOf(key: Uint8Array): number {
    const hash = hashKeyBytes(key, 0, key.length) | 0;
    const found = this.find(key, key.length, hash);
    return found >= 0 ? found : this.add(key, hash);
  }

  /** Adds key `number` of `keys`, which this table must not hold yet; returns its number here. */
  addFrom(keys: TailKeys, number: number): number {
    const at = keys.starts[number]!;
    const key = keys.bytes.subarray(at + RECORD_HEADER, at + RECORD_HEADER + keys.lengthAt(at));
    return this.add(key, hashKeyBytes(key, 0, key.length) | 0);
  }

  /** Byte order of two keys held. */
  compare(a: number, b: number): number {
    const at = this.starts[a]!;
    const bt = this.starts[b]!;
    return compareBytes(this.bytes, at + RECORD_HEADER, this.lengthAt(at), this.bytes, bt + RECORD_HEADER, this.lengthAt(bt));
  }

  /** Byte order of a key held against `key`. */
  compareTo(number: number, key: Uint8Array): number {
    const at = this.starts[number]!;
    return compareBytes(this.bytes, at + RECORD_HEADER, this.lengthAt(at), key, 0, key.length);
  }

  /** A copy of a key's bytes, the caller's own. */
  copyOf(number: number): Buffer {
    const at = this.starts[number]!;
    return Buffer.from(this.bytes.subarray(at + RECORD_HEADER, at + RECORD_HEADER + this.lengthAt(at)));
  }

  private find(key: Uint8Array, length: number, hash: number): number {
    const slots = this.slots;
    const bytes = this.bytes;
    const mask = (slots.length >>> 1) - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const at = slots[2 * slot + 1]! - 1;
      if (at < 0) return -1;
      if (slots[2 * slot] !== hash || this.lengthAt(at) !== length) continue;
      const keyAt = at + RECORD_HEADER;
      let same = true;
      for (let i = 0; i < length; i++) {
        if (bytes[keyAt + i] !== key[i]) {
          same = false;
          break;
        }
      }
      if (same) return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
    }
  }

  private lengthAt(at: number): number {
    return this.bytes[at + 4]! | (this.bytes[at + 5]! << 8);
  }

  private add(key: Uint8Array, hash: number): number {
    const number = this.count++;
    if (number === this.starts.length) this.starts = grown(this.starts, 2 * number);
    const size = RECORD_HEADER + key.length;
    if (this.used + size > this.bytes.length) this.growBytes(size);
    const at = this.used;
    const bytes = this.bytes;
    bytes[at] = number & 0xff;
    bytes[at + 1] = (number >>> 8) & 0xff;
    bytes[at + 2] = (number >>> 16) & 0xff;
    bytes[at + 3] = number >>> 24;
    bytes[at + 4] = key.length & 0xff;
    bytes[at + 5] = key.length >>> 8;
    bytes.set(key, at + RECORD_HEADER);
    this.starts[number] = at;
    this.used += size;
    place(this.slots, hash, at);
    if (this.count > (this.slots.length >>> 1) * LOAD_LIMIT) this.rehash(this.slots.length * 2);
    return number;
  }

  /** A slot array twice the size, every key placed again (its hash is kept with its record's start). */
  private rehash(size: number): void {
    const old = this.slots;
    this.slots = new Int32Array(size);
    for (let slot = 0; slot < old.length; slot += 2) {
      if (old[slot + 1] !== 0) place(this.slots, old[slot]!, old[slot + 1]! - 1);
    }
  }

  private growBytes(needed: number): void {
    const bytes = new Uint8Array(Math.max(this.bytes.length * 2, this.used + needed));
    bytes.set(this.bytes.subarray(0, this.used));
    this.bytes = bytes;
  }
}

/** Puts a key's (hash, record start) pair in the first free slot from its hash. */
function place(slots: Int32Array, hash: number, at: number): void {
  const mask = (slots.length >>> 1) - 1;
  let slot = hash & mask;
  while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
  slots[2 * slot] = hash;
  slots[2 * slot + 1] = at + 1;
}

function grown(array: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(size);
  bigger.set(array);
  return bigger;
}
