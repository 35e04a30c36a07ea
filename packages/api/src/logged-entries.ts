import type { LogEntryVisitor } from '@silt/wal';
import { type LookupResult } from '@silt/segments';
import { bytesEqual, finishHash, FNV_OFFSET_BASIS, FNV_PRIME, hashKeyBytes } from '@silt/segments/internal';

/** The entry kinds a log record holds, as `LogEntryVisitor` names them. */
export type LoggedKind = Parameters<LogEntryVisitor>[0];

const KIND_PUT = 0;
const KIND_PUT_TEXT = 1;
const KIND_DELETE = 2;
/** The kind sits in the top two bits of an entry's key-length field. */
const KIND_SHIFT = 30;
const KEY_LENGTH_MASK = (1 << KIND_SHIFT) - 1;

/** Fields per entry: key start, value start, value length, kind and key length. */
const FIELDS = 4;
const KEY_START = 0;
const VALUE_START = 1;
const VALUE_LENGTH = 2;
const KIND_AND_KEY_LENGTH = 3;
/** Entries per chunk: filled chunks are never copied, so growing costs only the new chunk. */
const CHUNK_BITS = 16;
const CHUNK_ENTRIES = 1 << CHUNK_BITS;

/** Hash slots, each [newest entry of a key + 1 (0: empty), the key's hash], side by side so a probe reads one cache line. */
const FIRST_SLOTS = 1024;
/** Linear probing stays short up to three quarters full. */
const MAX_LOAD = 0.75;

/**
 * Writes read back from the log, held where they lie: as positions in the
 * log files' bytes (kept whole, never copied), in typed arrays, and found
 * through an open-addressing hash table on the key bytes. A replay of
 * hundreds of thousands of entries so makes no object, string or copy per
 * entry (which would cost the open more in allocation and garbage
 * collection than reading the log does), and little fresh memory: 16 bytes
 * per entry and at most 16 per distinct key. The newest entry per key wins.
 *
 * The files' bytes stay in memory for as long as this does (the memtable
 * they belong to is flushed in the background, then dropped): about what
 * copies of the entries would take, plus the part of the oldest file below
 * the replayed range.
 */
export class LoggedEntries {
  /** The memory blocks under the log files' bytes, in the order their entries came. */
  private readonly files: Buffer[] = [];
  private lastBlock: ArrayBufferLike | undefined;
  /** The first entry of each of `files`: entries of a file come in a row. */
  private readonly firstEntryOfFile: number[] = [];
  private readonly chunks: Uint32Array[] = [];
  private entryCount = 0;
  /** Per distinct key, in the order keys first appeared: the entry that brought it. */
  private readonly firstEntries: number[] = [];
  private slots = new Uint32Array(FIRST_SLOTS * 2);

  /** Distinct keys held. */
  get distinctKeys(): number {
    return this.firstEntries.length;
  }

  /**
   * Adds one entry of `bytes` (a log file's); it supersedes any earlier
   * entry of the same key. The whole memory block under `bytes` is kept,
   * and must never change afterwards. Returns whether the key is new.
   */
  add(kind: LoggedKind, bytes: Uint8Array, keyStart: number, keyLength: number, valueStart: number, valueLength: number): boolean {
    const entry = this.entryCount++;
    if ((entry & (CHUNK_ENTRIES - 1)) === 0) this.chunks.push(new Uint32Array(CHUNK_ENTRIES * FIELDS));
    this.noteFile(bytes, entry);
    const fields = this.chunks[entry >>> CHUNK_BITS]!;
    const at = (entry & (CHUNK_ENTRIES - 1)) * FIELDS;
    fields[at + KEY_START] = bytes.byteOffset + keyStart;
    fields[at + VALUE_START] = bytes.byteOffset + valueStart;
    fields[at + VALUE_LENGTH] = valueLength;
    fields[at + KIND_AND_KEY_LENGTH] = ((kindCode(kind) << KIND_SHIFT) | keyLength) >>> 0;
    const hash = hashKeyBytes(bytes, keyStart, keyLength);
    const slot = this.slotOfBytes(hash, bytes, keyStart, keyLength);
    if (slot >= 0) {
      this.slots[slot] = entry + 1;
      return false;
    }
    this.slots[~slot] = entry + 1;
    this.slots[~slot + 1] = hash;
    this.firstEntries.push(entry);
    if (this.firstEntries.length > (this.slots.length / 2) * MAX_LOAD) this.growSlots();
    return true;
  }

  has(id: string): boolean {
    return this.slotOfId(id) >= 0;
  }

  /** The newest entry of the key whose latin1 id is `id`: a value (decoded text, or a private copy of bytes) or a tombstone. */
  lookup(id: string): LookupResult | undefined {
    const slot = this.slotOfId(id);
    if (slot < 0) return undefined;
    const entry = this.slots[slot]! - 1;
    const fields = this.chunks[entry >>> CHUNK_BITS]!;
    const at = (entry & (CHUNK_ENTRIES - 1)) * FIELDS;
    const kind = fields[at + KIND_AND_KEY_LENGTH]! >>> KIND_SHIFT;
    if (kind === KIND_DELETE) return { kind: 'tombstone' };
    const file = this.fileOf(entry);
    const start = fields[at + VALUE_START]!;
    const end = start + fields[at + VALUE_LENGTH]!;
    if (kind === KIND_PUT_TEXT) return { kind: 'put', value: file.toString('utf8', start, end) };
    return { kind: 'put', value: new Uint8Array(file.subarray(start, end)) };
  }

  /**
   * The latin1 ids (as `keyIdOfBytes` of @silt/segments makes them, without a view per key) of the distinct keys from the `from`-th
   * on, in the order they first appeared.
   */
  ids(from: number): string[] {
    const ids: string[] = [];
    for (let n = from; n < this.firstEntries.length; n++) {
      const entry = this.firstEntries[n]!;
      const fields = this.chunks[entry >>> CHUNK_BITS]!;
      const at = (entry & (CHUNK_ENTRIES - 1)) * FIELDS;
      const start = fields[at + KEY_START]!;
      ids.push(this.fileOf(entry).toString('latin1', start, start + (fields[at + KIND_AND_KEY_LENGTH]! & KEY_LENGTH_MASK)));
    }
    return ids;
  }

  /** Starts a new file when `bytes` lies in another memory block than the entry before. */
  private noteFile(bytes: Uint8Array, entry: number): void {
    if (bytes.buffer === this.lastBlock) return;
    this.lastBlock = bytes.buffer;
    this.files.push(Buffer.from(bytes.buffer));
    this.firstEntryOfFile.push(entry);
  }

  /** The file an entry lies in: the last one whose first entry is at or before it. */
  private fileOf(entry: number): Buffer {
    const firsts = this.firstEntryOfFile;
    let lo = 0;
    let hi = firsts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (firsts[mid]! <= entry) lo = mid;
      else hi = mid - 1;
    }
    return this.files[lo]!;
  }

  /** The index in `slots` of this key's slot, or the complement (~index) of the empty slot where it would go. */
  private slotOfBytes(hash: number, bytes: Uint8Array, keyStart: number, keyLength: number): number {
    const { slots } = this;
    const mask = slots.length - 1;
    for (let slot = (hash << 1) & mask; ; slot = (slot + 2) & mask) {
      const held = slots[slot]!;
      if (held === 0) return ~slot;
      if (slots[slot + 1] !== hash) continue;
      const key = this.keyAt(held - 1);
      if (key.length === keyLength && bytesEqual(key.file, key.start, bytes, keyStart, keyLength)) return slot;
    }
  }

  private slotOfId(id: string): number {
    const hash = hashId(id);
    const { slots } = this;
    const mask = slots.length - 1;
    for (let slot = (hash << 1) & mask; ; slot = (slot + 2) & mask) {
      const held = slots[slot]!;
      if (held === 0) return ~slot;
      if (slots[slot + 1] !== hash) continue;
      const key = this.keyAt(held - 1);
      if (key.length === id.length && idEqual(key.file, key.start, id)) return slot;
    }
  }

  /** Where an entry's key lies; only for the rare full compare after a hash match. */
  private keyAt(entry: number): { file: Buffer; start: number; length: number } {
    const fields = this.chunks[entry >>> CHUNK_BITS]!;
    const at = (entry & (CHUNK_ENTRIES - 1)) * FIELDS;
    return { file: this.fileOf(entry), start: fields[at + KEY_START]!, length: fields[at + KIND_AND_KEY_LENGTH]! & KEY_LENGTH_MASK };
  }

  /** Twice the slots, every key placed again by its stored hash. */
  private growSlots(): void {
    const old = this.slots;
    const slots = new Uint32Array(old.length * 2);
    const mask = slots.length - 1;
    for (let from = 0; from < old.length; from += 2) {
      if (old[from] === 0) continue;
      const hash = old[from + 1]!;
      let slot = (hash << 1) & mask;
      while (slots[slot] !== 0) slot = (slot + 2) & mask;
      slots[slot] = old[from]!;
      slots[slot + 1] = hash;
    }
    this.slots = slots;
  }
}

function kindCode(kind: LoggedKind): number {
  return kind === 'put' ? KIND_PUT : kind === 'put-text' ? KIND_PUT_TEXT : KIND_DELETE;
}

/** Whether the key bytes at `start` are the latin1 id: one char per byte. */
function idEqual(file: Buffer, start: number, id: string): boolean {
  for (let i = 0; i < id.length; i++) if (file[start + i] !== id.charCodeAt(i)) return false;
  return true;
}

/** The segments' key hash (FNV-1a, then murmur3's finalizer), over a latin1 id: one char per byte. */
function hashId(id: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), FNV_PRIME);
  return finishHash(hash);
}
