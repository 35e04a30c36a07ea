import type { LogEntryVisitor } from '@silt/wal';
import { writeData } from '@silt/wal/internal';
import { type LookupResult, type Value } from '@silt/segments';
import { bytesEqual, finishHash, FNV_OFFSET_BASIS, FNV_PRIME, hashKeyBytes } from '@silt/segments/internal';
import { EntryArena } from './entry-arena.js';

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
/**
 * A chunk starts this small and doubles until it is full, and the hash
 * table starts at FIRST_SLOTS: the writer starts a table at every seal, and
 * a whole chunk (1 MiB, zeroed) made a table of five writes cost ~350 µs
 * against ~11 µs for the table of objects before it, which slowed the
 * process-kill test (a writer flushing small tables) from 73 s to 83 s.
 * Now such a table costs ~21 µs, and that test runs as fast as before.
 */
const FIRST_CHUNK_ENTRIES = 64;

/** Hash slots, each [newest entry of a key + 1 (0: empty), the key's hash], side by side so a probe reads one cache line. */
const FIRST_SLOTS = 128;
/** Linear probing stays short up to three quarters full. */
const MAX_LOAD = 0.75;

/**
 * The memtable's writes, each held as positions in a block of bytes: a log
 * file's bytes (kept whole, never copied) for a write replayed at open, an
 * append's own log record for an `mset`, the table's own arena
 * (`EntryArena`) for a single write, its key and value copied there. The
 * positions sit in typed arrays and are found through an open-addressing
 * hash table on the key bytes. A write so makes no object or string that
 * outlives the call (a `Map` of one object per key took a quarter of the
 * writer's thread in `mset`s of new keys, and garbage collection a fifth
 * more), and little memory beyond its bytes: 16 bytes per entry and about
 * 30 per distinct key. The newest entry per key wins; older ones stay where
 * they are, so the newest writes can be cut off again (`truncate`).
 *
 * The blocks stay in memory for as long as this does (the memtable they
 * belong to is flushed in the background, then dropped): for log files,
 * about what copies of the entries would take, plus the part of the oldest
 * file below the replayed range.
 */
export class MemtableEntries {
  /** The memory blocks under the entries' bytes, in the order their entries came. */
  private readonly blocks: Buffer[] = [];
  private lastBlock: ArrayBufferLike | undefined;
  /** The first entry of each of `blocks`: entries of a block come in a row. */
  private readonly firstEntryOfBlock: number[] = [];
  private readonly arena = new EntryArena();
  private readonly chunks: Uint32Array[] = [];
  private entryCount = 0;
  /** Per distinct key, in the order keys first appeared: the entry that brought it. */
  private firstEntries = new Uint32Array(FIRST_SLOTS);
  private keyCount = 0;
  private slots = new Uint32Array(FIRST_SLOTS * 2);

  /** Distinct keys held. */
  get distinctKeys(): number {
    return this.keyCount;
  }

  /** Entries held, every write of a key counted. */
  get size(): number {
    return this.entryCount;
  }

  /**
   * Adds one new write, its key (the latin1 id: one char per byte) and value
   * copied into the arena; it supersedes any earlier entry of the key.
   * Returns whether the key is new.
   */
  addWrite(id: string, value: Value | undefined, valueLength: number): boolean {
    const keyLength = id.length;
    const block = this.arena.reserve(keyLength + valueLength);
    const keyStart = this.arena.reservedAt;
    block.write(id, keyStart, keyLength, 'latin1');
    const kind = value === undefined ? 'delete' : typeof value === 'string' ? 'put-text' : 'put';
    if (value !== undefined && writeData(block, keyStart + keyLength, value) !== valueLength) {
      throw new RangeError(`a value said ${valueLength} bytes and encoded to ${Buffer.byteLength(value)}`);
    }
    return this.add(kind, block, keyStart, keyLength, keyStart + keyLength, valueLength);
  }

  /** A copy of `bytes` in the arena, to `add` entries of. */
  copyOf(bytes: Uint8Array): Uint8Array {
    const block = this.arena.reserve(bytes.length);
    const at = this.arena.reservedAt;
    block.set(bytes, at);
    return block.subarray(at, at + bytes.length);
  }

  /**
   * Adds one entry of `bytes` (a log file's); it supersedes any earlier
   * entry of the same key. The whole memory block under `bytes` is kept,
   * and must never change afterwards. Returns whether the key is new.
   */
  add(kind: LoggedKind, bytes: Uint8Array, keyStart: number, keyLength: number, valueStart: number, valueLength: number): boolean {
    const entry = this.entryCount++;
    this.noteBlock(bytes, entry);
    const at = (entry & (CHUNK_ENTRIES - 1)) * FIELDS;
    const fields = this.chunkHolding(entry >>> CHUNK_BITS, at);
    fields[at + KEY_START] = bytes.byteOffset + keyStart;
    fields[at + VALUE_START] = bytes.byteOffset + valueStart;
    fields[at + VALUE_LENGTH] = valueLength;
    fields[at + KIND_AND_KEY_LENGTH] = ((kindCode(kind) << KIND_SHIFT) | keyLength) >>> 0;
    return this.index(entry, bytes, keyStart, keyLength);
  }

  /**
   * Forgets every entry from the `count`-th on, as if they had never been
   * added: each key's newest entry before them is found again. Used only
   * once the log refused those writes (the writer has failed), so the hash
   * table is simply built again from the entries kept.
   */
  truncate(count: number): void {
    if (count >= this.entryCount) return;
    this.entryCount = count;
    this.chunks.length = Math.ceil(count / CHUNK_ENTRIES);
    let blocks = this.blocks.length;
    while (blocks > 0 && this.firstEntryOfBlock[blocks - 1]! >= count) blocks--;
    this.blocks.length = this.firstEntryOfBlock.length = blocks;
    this.lastBlock = this.blocks.at(-1)?.buffer;
    this.slots = new Uint32Array(this.slots.length);
    this.keyCount = 0;
    for (let entry = 0; entry < count; entry++) {
      const key = this.keyAt(entry);
      this.index(entry, key.block, key.start, key.length);
    }
  }

  /** Chunk `index`, made or grown so that it has room at `at`. */
  private chunkHolding(index: number, at: number): Uint32Array {
    let chunk = this.chunks[index];
    if (chunk === undefined) {
      chunk = new Uint32Array(FIRST_CHUNK_ENTRIES * FIELDS);
      this.chunks.push(chunk);
    } else if (at >= chunk.length) {
      const grown = new Uint32Array(Math.min(CHUNK_ENTRIES * FIELDS, chunk.length * 2));
      grown.set(chunk);
      this.chunks[index] = chunk = grown;
    }
    return chunk;
  }

  /** Points the key's slot at `entry`, its newest; returns whether the key is new. */
  private index(entry: number, bytes: Uint8Array, keyStart: number, keyLength: number): boolean {
    const hash = hashKeyBytes(bytes, keyStart, keyLength);
    const slot = this.slotOfBytes(hash, bytes, keyStart, keyLength);
    if (slot >= 0) {
      this.slots[slot] = entry + 1;
      return false;
    }
    this.slots[~slot] = entry + 1;
    this.slots[~slot + 1] = hash;
    this.noteFirstEntry(entry);
    if (this.keyCount > (this.slots.length / 2) * MAX_LOAD) this.growSlots();
    return true;
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
    const block = this.blockOf(entry);
    const start = fields[at + VALUE_START]!;
    const end = start + fields[at + VALUE_LENGTH]!;
    if (kind === KIND_PUT_TEXT) return { kind: 'put', value: block.toString('utf8', start, end) };
    return { kind: 'put', value: new Uint8Array(block.subarray(start, end)) };
  }

  /**
   * The latin1 ids (as `keyIdOfBytes` of @silt/segments makes them, without a view per key) of the distinct keys from the `from`-th
   * on, in the order they first appeared.
   */
  ids(from: number): string[] {
    const ids: string[] = [];
    for (let n = from; n < this.keyCount; n++) {
      const entry = this.firstEntries[n]!;
      const fields = this.chunks[entry >>> CHUNK_BITS]!;
      const at = (entry & (CHUNK_ENTRIES - 1)) * FIELDS;
      const start = fields[at + KEY_START]!;
      ids.push(this.blockOf(entry).toString('latin1', start, start + (fields[at + KIND_AND_KEY_LENGTH]! & KEY_LENGTH_MASK)));
    }
    return ids;
  }

  /**
   * A typed array, not a JavaScript one: grown by copying, a list of
   * hundreds of thousands of numbers left its old copies in the old
   * generation, which brought on full collections of the whole heap.
   */
  private noteFirstEntry(entry: number): void {
    if (this.keyCount === this.firstEntries.length) {
      const grown = new Uint32Array(this.firstEntries.length * 2);
      grown.set(this.firstEntries);
      this.firstEntries = grown;
    }
    this.firstEntries[this.keyCount++] = entry;
  }

  /** Starts a new block when `bytes` lies in another memory block than the entry before. */
  private noteBlock(bytes: Uint8Array, entry: number): void {
    if (bytes.buffer === this.lastBlock) return;
    this.lastBlock = bytes.buffer;
    this.blocks.push(Buffer.from(bytes.buffer));
    this.firstEntryOfBlock.push(entry);
  }

  /** The block an entry lies in: the last one whose first entry is at or before it. */
  private blockOf(entry: number): Buffer {
    const firsts = this.firstEntryOfBlock;
    let lo = 0;
    let hi = firsts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (firsts[mid]! <= entry) lo = mid;
      else hi = mid - 1;
    }
    return this.blocks[lo]!;
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
      if (key.length === keyLength && bytesEqual(key.block, key.start, bytes, keyStart, keyLength)) return slot;
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
      if (key.length === id.length && idEqual(key.block, key.start, id)) return slot;
    }
  }

  /** Where an entry's key lies; only for the rare full compare after a hash match. */
  private keyAt(entry: number): { block: Buffer; start: number; length: number } {
    const fields = this.chunks[entry >>> CHUNK_BITS]!;
    const at = (entry & (CHUNK_ENTRIES - 1)) * FIELDS;
    return { block: this.blockOf(entry), start: fields[at + KEY_START]!, length: fields[at + KIND_AND_KEY_LENGTH]! & KEY_LENGTH_MASK };
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
function idEqual(block: Buffer, start: number, id: string): boolean {
  for (let i = 0; i < id.length; i++) if (block[start + i] !== id.charCodeAt(i)) return false;
  return true;
}

/** The segments' key hash (FNV-1a, then murmur3's finalizer), over a latin1 id: one char per byte. */
function hashId(id: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), FNV_PRIME);
  return finishHash(hash);
}
