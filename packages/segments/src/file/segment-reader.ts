import { ClosedError, CorruptionError, ValidationError, type FileHandle, type FileSystem } from '@silt/fs';
import { asIoError, attempt } from '@silt/fs/internal';
import type { BlockIndex } from './block-index.js';
import type { BlockSource } from './block-source.js';
import { BlockVerifier } from './block-verifier.js';
import { scanBackward, scanForward, type EntryScan } from './entry-scan.js';
import { FileBlockSource } from './file-block-source.js';
import { ENTRY_ASCII, ENTRY_HEADER_BYTES, ENTRY_STRING, ENTRY_TOMBSTONE, MAX_KEY_BYTES } from './format.js';
import { EMPTY_SLOT } from './hash-index.js';
import type { KeyFilter } from './key-filter.js';
import {
  KEY_SCRATCH,
  bytesEqual,
  commonPrefixLength,
  compareBytes,
  describeType,
  encodeKeyToScratch,
  scratchKeyHash,
  keyToBytes,
  type Key,
  type Value,
} from './key-bytes.js';
import { hashKeyBytes, slotTag } from './key-hash.js';
import { readU16, readU32 } from './little-endian.js';
import { MemoryBlockSource } from './memory-block-source.js';
import { EncodedCursor } from './encoded-cursor.js';
import { EncodedRuns } from './encoded-runs.js';
import { nearGroups, nearOptions, type NearOptions, type ResolvedNearOptions } from './near.js';
import { toScanRange, type RangeOptions, type ScanRange } from './range-options.js';
import { readSegmentLayout, type IndexesRead, type ReadSection, type SegmentLayout } from './segment-layout.js';
import { ScanOnlyError } from './segment-errors.js';
import {
  resolveBytesOptions,
  resolveReaderOptions,
  type AccessMode,
  type KeyEncoding,
  type SegmentBytesOptions,
  type SegmentReaderOptions,
} from './segment-options.js';
import { copyBytes, decodeAscii, decodeUtf8 } from './value-codec.js';

function checkPath(path: unknown): void {
  if (typeof path !== 'string' || path.length === 0) {
    throw new ValidationError(`segment path must be a non-empty string, got ${path === '' ? 'an empty string' : describeType(path)}`);
  }
}

function openForReading(fs: FileSystem, path: string): FileHandle {
  return attempt('open segment', path, () => fs.open(path, 'read'));
}

/**
 * How much `load` reads per event-loop turn: a few milliseconds of I/O from
 * the page cache. The read also faults in the fresh buffer's pages: on a
 * loaded 2-core machine a 4 MiB slice held the loop 30 ms (median), 1 MiB 5 to 7 ms.
 */
const LOAD_SLICE_BYTES = 1024 * 1024;

/**
 * `encodedEntries` reads blocks this many bytes at a time, into fresh
 * memory: on this machine 4 KiB reads into fresh buffers ran at ~0.6 GB/s,
 * 256 KiB ones at 1.2-3.3 GB/s (page faults on new memory bound both).
 */
const ENCODED_RUN_BYTES = 256 * 1024;

/** An entry as ordered reads see it: tombstones included, for the merged read path above. */
export type SegmentEntry<K extends Key = string> =
  { readonly key: K; readonly kind: 'put'; readonly value: Value } | { readonly key: K; readonly kind: 'tombstone' };

/**
 * An entry as its block encodes it (FORMAT.md, "Data section"), at
 * `bytes[at]`, for copying whole into another segment
 * (`SegmentBuilder.addEncoded`). `key` is a view of its key bytes. The
 * bytes are the block's own, valid for as long as they are held.
 */
export interface EncodedEntry {
  readonly key: Uint8Array;
  readonly bytes: Buffer;
  readonly at: number;
  readonly tombstone: boolean;
}

/** What a segment says about one key: a put, a tombstone ("present, deleted"), or undefined (absent). */
export type LookupResult = { readonly kind: 'put'; readonly value: Value } | { readonly kind: 'tombstone' };

export interface SegmentStats<K extends Key = string> {
  readonly formatVersion: number;
  readonly access: AccessMode;
  readonly multiValue: boolean;
  /** Puts and tombstones. */
  readonly entries: number;
  readonly tombstones: number;
  readonly distinctKeys: number;
  readonly blocks: number;
  readonly blockSize: number;
  /** File size. */
  readonly bytes: number;
  readonly dataBytes: number;
  readonly minKey: K | undefined;
  readonly maxKey: K | undefined;
  readonly minSequence: number;
  readonly maxSequence: number;
}

type KeyDecoder = (bytes: Buffer, start: number, end: number) => Key;
type PairDecoder<K extends Key> = (bytes: Buffer, at: number) => [K, Value] | undefined;

function keyDecoderFor(keyEncoding: KeyEncoding): KeyDecoder {
  return keyEncoding === 'utf8' ? decodeUtf8 : copyBytes;
}

const NO_SLOTS = new Int32Array(0);

/**
 * Reads one segment file. Every read is synchronous. Point reads (`get`,
 * `has`, `lookup`, `getAll`) go through the hash index: hash the key, probe
 * from its home slot, compare the key bytes in place. Ordered reads (`range`,
 * `entries`, `near`, `closestKey`) binary-search the block index and walk the
 * blocks. Tombstones are invisible to everything but `lookup` and `entries`.
 */
export class SegmentReader<K extends Key = string> {
  private readonly blocks: BlockIndex;
  /** Every hash slot, in every access mode: a probe reads no file. */
  private readonly slots: Int32Array;
  private readonly slotMask: number;
  /**
   * Which keys the segment may hold (undefined past KEY_FILTER_MAX_KEYS
   * keys, or opened for scans only). A stack of segments copies every
   * segment's into one `StackKeyFilter`; not public API.
   * @internal
   */
  readonly keyFilter: KeyFilter | undefined;
  /** False for a reader opened for scans only (`openForScan`): it holds no hash index. */
  private readonly pointReads: boolean;
  private readonly decodeKey: KeyDecoder;
  /** The put at a position as a `[key, value]` pair (undefined for a tombstone), keys as `keyEncoding` says. */
  private readonly putAt: PairDecoder<K>;
  private closed = false;
  private statsCache: SegmentStats<K> | undefined;
  // Where the last successful probe landed; fields rather than a result object, so `get` allocates nothing.
  private foundBytes: Buffer = Buffer.alloc(0);
  private foundAt = 0;
  private foundBlock = 0;
  /** The found entry's offset within its block (`foundAt` is its offset within `foundBytes`). */
  private foundOffset = 0;

  private constructor(
    /** The path (or the name given to `fromBytes`) that errors name. */
    readonly file: string,
    readonly access: AccessMode,
    private readonly layout: SegmentLayout,
    private readonly source: BlockSource,
    private readonly fileSize: number,
    readonly keyEncoding: KeyEncoding,
  ) {
    this.blocks = layout.blocks;
    this.pointReads = layout.hash !== undefined;
    this.slots = layout.hash?.slots ?? NO_SLOTS;
    this.slotMask = layout.hash?.mask ?? 0;
    this.keyFilter = layout.hash?.filter;
    this.decodeKey = keyDecoderFor(keyEncoding);
    this.putAt = this.pairDecoder(this.decodeKey) as PairDecoder<K>;
  }

  /**
   * Opens a segment file: `access: 'memory'` (default) reads it whole,
   * `'mmap'` maps it (or, where the file system cannot map files, opens it as
   * `'file'`: `access` says which), `'file'` reads blocks on demand through a cache.
   */
  static open(path: string, options: SegmentReaderOptions & { keyEncoding: 'binary' }): SegmentReader<Uint8Array>;
  static open(path: string, options?: SegmentReaderOptions & { keyEncoding?: 'utf8' }): SegmentReader<string>;
  static open(path: string, options?: SegmentReaderOptions): SegmentReader<Key>;
  static open(path: string, options?: SegmentReaderOptions): SegmentReader<Key> {
    return SegmentReader.openWith(path, options, 'all');
  }

  /**
   * Opens like `open` for ordered reads only (`range`, `entries`,
   * `encodedCursor`, `near`, `closestKey`, `stats`): the hash section is not
   * read, checked or kept, which a merge's inputs never need. `get`, `has`,
   * `lookup`, `getAll` and `verify` throw ScanOnlyError.
   */
  static openForScan(path: string, options: SegmentReaderOptions & { keyEncoding: 'binary' }): SegmentReader<Uint8Array>;
  static openForScan(path: string, options?: SegmentReaderOptions & { keyEncoding?: 'utf8' }): SegmentReader<string>;
  static openForScan(path: string, options?: SegmentReaderOptions): SegmentReader<Key>;
  static openForScan(path: string, options?: SegmentReaderOptions): SegmentReader<Key> {
    return SegmentReader.openWith(path, options, 'blocks');
  }

  private static openWith(path: string, options: SegmentReaderOptions | undefined, indexes: IndexesRead): SegmentReader<Key> {
    checkPath(path);
    const resolved = resolveReaderOptions(options);
    if (resolved.access === 'memory') {
      const bytes = attempt('read segment', path, () => resolved.fs.readFile(path));
      return SegmentReader.inMemory(bytes, path, resolved.keyEncoding, 'memory', indexes);
    }
    if (resolved.access === 'mmap') {
      const mapped = attempt('map segment', path, () => resolved.fs.mapFile?.(path));
      if (mapped !== undefined) return SegmentReader.inMemory(mapped, path, resolved.keyEncoding, 'mmap', indexes);
    }
    const handle = openForReading(resolved.fs, path);
    try {
      const size = handle.size();
      const layout = readSegmentLayout(sectionsOfHandle(handle), size, path, indexes);
      const source = new FileBlockSource(
        handle,
        size,
        layout.blocks,
        new BlockVerifier(path, layout.blocks, layout.header),
        resolved.cacheBytes,
      );
      return new SegmentReader<Key>(path, 'file', layout, source, size, resolved.keyEncoding);
    } catch (error) {
      handle.close();
      throw asIoError('open segment', path, error);
    }
  }

  /**
   * Opens like `open`, but a `memory`-mode file is read in slices of
   * `LOAD_SLICE_BYTES` with a turn of the event loop between them: a process
   * serving requests never stalls for a whole file, and a merged segment can
   * be hundreds of MiB.
   */
  static load(path: string, options: SegmentReaderOptions & { keyEncoding: 'binary' }): Promise<SegmentReader<Uint8Array>>;
  static load(path: string, options?: SegmentReaderOptions & { keyEncoding?: 'utf8' }): Promise<SegmentReader<string>>;
  static load(path: string, options?: SegmentReaderOptions): Promise<SegmentReader<Key>>;
  static async load(path: string, options?: SegmentReaderOptions): Promise<SegmentReader<Key>> {
    checkPath(path);
    const resolved = resolveReaderOptions(options);
    if (resolved.access !== 'memory') return SegmentReader.open(path, options);
    const handle = openForReading(resolved.fs, path);
    try {
      const bytes = Buffer.allocUnsafe(handle.size());
      for (let at = 0; at < bytes.length;) {
        const read = handle.read(bytes.subarray(at, Math.min(bytes.length, at + LOAD_SLICE_BYTES)), at);
        if (read === 0) throw new CorruptionError(path, at, `the file ended at ${at} bytes while it was read (${bytes.length} expected)`);
        at += read;
        if (at < bytes.length) await new Promise((resolve) => setImmediate(resolve));
      }
      return SegmentReader.inMemory(bytes, path, resolved.keyEncoding, 'memory');
    } catch (error) {
      throw asIoError('read segment', path, error);
    } finally {
      handle.close();
    }
  }

  /** A `memory`-mode reader over a segment's bytes (kept, not copied: do not modify them while the reader is open). */
  static fromBytes(bytes: Uint8Array, options: SegmentBytesOptions & { keyEncoding: 'binary' }): SegmentReader<Uint8Array>;
  static fromBytes(bytes: Uint8Array, options?: SegmentBytesOptions & { keyEncoding?: 'utf8' }): SegmentReader<string>;
  static fromBytes(bytes: Uint8Array, options?: SegmentBytesOptions): SegmentReader<Key>;
  static fromBytes(bytes: Uint8Array, options?: SegmentBytesOptions): SegmentReader<Key> {
    if (!(bytes instanceof Uint8Array)) throw new ValidationError(`segment bytes must be a Uint8Array, got ${describeType(bytes)}`);
    const resolved = resolveBytesOptions(options);
    return SegmentReader.inMemory(bytes, resolved.name, resolved.keyEncoding, 'memory');
  }

  /** A reader over bytes that hold the whole file: read into memory, or mapped. */
  private static inMemory(
    bytes: Uint8Array,
    file: string,
    keyEncoding: KeyEncoding,
    access: 'memory' | 'mmap',
    indexes: IndexesRead = 'all',
  ): SegmentReader<Key> {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const layout = readSegmentLayout((offset, length) => buffer.subarray(offset, offset + length), buffer.length, file, indexes);
    const source = new MemoryBlockSource(buffer, layout.blocks, new BlockVerifier(file, layout.blocks, layout.header), file);
    return new SegmentReader<Key>(file, access, layout, source, buffer.length, keyEncoding);
  }

  /** The value of a put, or undefined for a tombstone or an absent key. */
  get(key: Key): Value | undefined {
    if (!this.find(key)) return undefined;
    const bytes = this.foundBytes;
    const at = this.foundAt;
    return (bytes[at]! & ENTRY_TOMBSTONE) !== 0 ? undefined : this.valueAt(bytes, at);
  }

  /** True for a put; false for a tombstone or an absent key (use `lookup` to tell those apart). */
  has(key: Key): boolean {
    return this.find(key) && (this.foundBytes[this.foundAt]! & ENTRY_TOMBSTONE) === 0;
  }

  /**
   * What the segment says about `key`: a put with its value, a tombstone, or
   * undefined when it holds nothing for it. `keyFilterPassed`: the caller
   * has already asked `keyFilter` (a stack's filter did), so the probe does
   * not ask it again. Always safe: the filter only saves a probe.
   */
  lookup(key: Key, keyFilterPassed = false): LookupResult | undefined {
    if (!this.find(key, keyFilterPassed)) return undefined;
    const bytes = this.foundBytes;
    const at = this.foundAt;
    return (bytes[at]! & ENTRY_TOMBSTONE) !== 0 ? { kind: 'tombstone' } : { kind: 'put', value: this.valueAt(bytes, at) };
  }

  /** Every value stored under `key`, in the order given to the builder: several only in a multi-value segment. */
  getAll(key: Key): Value[] {
    if (!this.find(key)) return [];
    if (!this.layout.header.multiValue) {
      const bytes = this.foundBytes;
      const at = this.foundAt;
      return (bytes[at]! & ENTRY_TOMBSTONE) !== 0 ? [] : [this.valueAt(bytes, at)];
    }
    const bound = { key: keyToBytes(key, 'key'), inclusive: true };
    const values: Value[] = [];
    for (const position of scanForward(this.source, this.blocks, bound, bound)) values.push(this.valueAt(position.bytes, position.at));
    return values;
  }

  /** `[key, value]` of every put in the range, in key order (or reversed). */
  range(options?: RangeOptions): IterableIterator<[K, Value]> {
    this.checkOpen();
    return this.scanPuts(toScanRange(options));
  }

  /** Every entry in the range, tombstones included. */
  entries(options?: RangeOptions): IterableIterator<SegmentEntry<K>> {
    this.checkOpen();
    return this.entriesIn(toScanRange(options));
  }

  /**
   * Every entry, tombstones included, in key order, as its block encodes it:
   * a merge copies them into its output without decoding a key or a value.
   * Blocks are read once, 256 KiB at a time, into bytes of their own.
   */
  encodedEntries(): IterableIterator<EncodedEntry> {
    return this.scanEncoded(this.encodedCursor());
  }

  /**
   * `encodedEntries` as a cursor: one object whose fields move from entry
   * to entry, for a pass that must not allocate per entry (a merge).
   */
  encodedCursor(): EncodedCursor {
    this.checkOpen();
    return new EncodedCursor(this.source, this.blocks.count, ENCODED_RUN_BYTES);
  }

  /** Every entry, tombstones included, as runs of whole verified blocks, flat: for a native merge loop (`EncodedRuns`). */
  encodedRuns(): EncodedRuns {
    this.checkOpen();
    return new EncodedRuns(this.source, this.blocks.count, ENCODED_RUN_BYTES);
  }

  /**
   * `entries` over a range already resolved (`toScanRange`): for a caller
   * that reads many sources with one range, such as the merged read path,
   * and resolves its options once.
   */
  entriesIn(range: ScanRange): IterableIterator<SegmentEntry<K>> {
    this.checkOpen();
    return this.scanEntries(range);
  }

  /**
   * `range` over a range already resolved (`toScanRange`), its keys decoded
   * as `keyEncoding` says rather than as this reader's own: a caller that
   * holds the reader with binary keys (a stack of segments) and hands a
   * scan out as strings decodes each key once, straight from its block,
   * instead of copying it out and decoding the copy.
   */
  pairsIn(range: ScanRange, keyEncoding: KeyEncoding): IterableIterator<[Key, Value]> {
    this.checkOpen();
    const pairAt = keyEncoding === this.keyEncoding ? this.putAt : this.pairDecoder(keyDecoderFor(keyEncoding));
    return new ScanResults<[Key, Value]>(this.positionsIn(range), pairAt, range.limit);
  }

  /**
   * keyvi's GetNear: the puts whose keys share the longest common prefix (in
   * bytes) with `key` that any put shares, in key order; nothing if that is
   * shorter than `minPrefix`. With `greedy`, then those sharing one byte less,
   * and so on down to `minPrefix`.
   */
  near(key: Key, options?: NearOptions): IterableIterator<[K, Value]> {
    this.checkOpen();
    const query = keyToBytes(key, 'near key');
    return this.nearIn(query, nearOptions(options));
  }

  /** Whoosh's closest_key: the first put key at or after `key`, or undefined. */
  closestKey(key: Key): K | undefined {
    this.checkOpen();
    const bound = { key: keyToBytes(key, 'key'), inclusive: true };
    for (const position of scanForward(this.source, this.blocks, bound, undefined)) {
      if ((position.bytes[position.at]! & ENTRY_TOMBSTONE) === 0) return this.keyAt(position.bytes, position.at);
    }
    return undefined;
  }

  stats(): SegmentStats<K> {
    this.checkOpen();
    this.statsCache ??= this.computeStats();
    return this.statsCache;
  }

  /**
   * Reads and checks the whole segment: every block's checksum and structure,
   * the footer's counts, the largest key, and that the hash index leads to
   * every key's first entry. Throws CorruptionError on the first problem.
   */
  verify(): void {
    this.checkOpen();
    if (!this.pointReads) throw new ScanOnlyError(this.file, 'verify()');
    const { footer, maxKey } = this.layout;
    let entries = 0;
    let tombstones = 0;
    let distinct = 0;
    let previous: Uint8Array | undefined;
    for (const position of scanForward(this.source, this.blocks, undefined, undefined)) {
      const { bytes, at, block } = position;
      const key = bytes.subarray(at + ENTRY_HEADER_BYTES, at + ENTRY_HEADER_BYTES + readU16(bytes, at + 1));
      entries++;
      if ((bytes[at]! & ENTRY_TOMBSTONE) !== 0) tombstones++;
      if (previous === undefined || compareBytes(previous, 0, previous.length, key, 0, key.length) !== 0) {
        distinct++;
        previous = new Uint8Array(key);
        if (
          !this.probe(previous, previous.length, hashKeyBytes(previous, 0, previous.length), this.keyFilter) ||
          this.foundBlock !== block ||
          this.foundOffset !== at - this.source.blockStart(block)
        ) {
          throw new CorruptionError(this.file, this.blocks.offset(block) + at, `the hash index does not lead to key #${distinct - 1}`);
        }
      }
    }
    if (entries !== footer.entryCount || tombstones !== footer.tombstoneCount || distinct !== footer.distinctKeyCount) {
      throw new CorruptionError(
        this.file,
        undefined,
        `footer counts ${footer.entryCount} entries, ${footer.tombstoneCount} tombstones, ${footer.distinctKeyCount} keys; the data holds ${entries}, ${tombstones}, ${distinct}`,
      );
    }
    if (maxKey !== undefined && (previous === undefined || compareBytes(previous, 0, previous.length, maxKey, 0, maxKey.length) !== 0)) {
      throw new CorruptionError(this.file, footer.keyRangeOffset, 'the largest key in the key range is not the last key in the data');
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.source.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Probes the hash index for `key`; on a hit, `found*` name its (first) entry. */
  private find(key: Key, keyFilterPassed = false): boolean {
    if (this.closed) throw new ClosedError(`segment reader for ${this.file}`);
    if (!this.pointReads) throw new ScanOnlyError(this.file, 'a point read');
    const filter = keyFilterPassed ? undefined : this.keyFilter;
    if (typeof key === 'string') {
      const length = encodeKeyToScratch(key);
      return length >= 0 && this.probe(KEY_SCRATCH, length, scratchKeyHash, filter);
    }
    if (!(key instanceof Uint8Array)) throw new ValidationError(`key must be a string or a Uint8Array, got ${describeType(key)}`);
    return key.length <= MAX_KEY_BYTES && this.probe(key, key.length, hashKeyBytes(key, 0, key.length), filter);
  }

  /**
   * `filter`: the filter to ask first, undefined for none. Not a default
   * parameter: an explicit undefined would take the default, and a stack's
   * get (whose filter the segment passed already) asked every segment's own
   * filter again, a cache miss each: 22 % of a probe over 50 segments.
   */
  private probe(key: Uint8Array, length: number, hash: number, filter: KeyFilter | undefined): boolean {
    const mask = this.slotMask;
    if (filter !== undefined && !filter.mayHold(hash)) return false;
    const tag = slotTag(hash);
    const slots = this.slots;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const block = slots[slot * 2 + 1]!;
      if (block === EMPTY_SLOT) return false;
      const word = slots[slot * 2]!;
      if ((word & 0xffff) !== tag) continue;
      const offset = word >>> 16;
      const source = this.source;
      const bytes = source.entryBytes(block >>> 0, offset);
      const at = source.entryStart;
      if (readU16(bytes, at + 1) !== length) continue;
      if (offset + ENTRY_HEADER_BYTES + length + readU32(bytes, at + 3) > this.blocks.length(block >>> 0)) {
        throw new CorruptionError(this.file, this.blocks.offset(block >>> 0) + offset, `hash slot ${slot} does not name an entry`);
      }
      if (!bytesEqual(bytes, at + ENTRY_HEADER_BYTES, key, 0, length)) continue;
      this.foundBytes = bytes;
      this.foundAt = at;
      this.foundBlock = block >>> 0;
      this.foundOffset = offset;
      return true;
    }
  }

  private valueAt(bytes: Buffer, at: number): Value {
    const flags = bytes[at]!;
    const start = at + ENTRY_HEADER_BYTES + readU16(bytes, at + 1);
    const end = start + readU32(bytes, at + 3);
    if ((flags & ENTRY_ASCII) !== 0) return decodeAscii(bytes, start, end);
    if ((flags & ENTRY_STRING) !== 0) return decodeUtf8(bytes, start, end);
    return copyBytes(bytes, start, end);
  }

  private keyAt(bytes: Buffer, at: number): K {
    const start = at + ENTRY_HEADER_BYTES;
    return this.decodeKey(bytes, start, start + readU16(bytes, at + 1)) as K;
  }

  /** The put at a position as a `[key, value]` pair, its key decoded by `decodeKey`; undefined for a tombstone. */
  private pairDecoder(decodeKey: KeyDecoder): PairDecoder<Key> {
    return (bytes, at) => {
      if ((bytes[at]! & ENTRY_TOMBSTONE) !== 0) return undefined;
      const keyStart = at + ENTRY_HEADER_BYTES;
      return [decodeKey(bytes, keyStart, keyStart + readU16(bytes, at + 1)), this.valueAt(bytes, at)];
    };
  }

  private readonly entryAt = (bytes: Buffer, at: number): SegmentEntry<K> => {
    const key = this.keyAt(bytes, at);
    return (bytes[at]! & ENTRY_TOMBSTONE) !== 0 ? { key, kind: 'tombstone' } : { key, kind: 'put', value: this.valueAt(bytes, at) };
  };

  private positionsIn(range: ScanRange): EntryScan {
    return range.reverse
      ? scanBackward(this.source, this.blocks, range.lower, range.upper)
      : scanForward(this.source, this.blocks, range.lower, range.upper);
  }

  private scanPuts(range: ScanRange): IterableIterator<[K, Value]> {
    return new ScanResults(this.positionsIn(range), this.putAt, range.limit);
  }

  private *scanEncoded(cursor: EncodedCursor): Generator<EncodedEntry> {
    while (cursor.advance()) {
      const { bytes, at } = cursor;
      const key = new Uint8Array(bytes.buffer, bytes.byteOffset + cursor.keyStart, cursor.keyLength);
      yield { key, bytes, at, tombstone: cursor.tombstone };
    }
  }

  private scanEntries(range: ScanRange): IterableIterator<SegmentEntry<K>> {
    return new ScanResults(this.positionsIn(range), this.entryAt, range.limit);
  }

  private *nearIn(query: Uint8Array, options: ResolvedNearOptions): Generator<[K, Value]> {
    const longest = this.longestSharedPrefix(query);
    let remaining = options.limit;
    if (longest < options.minPrefix || remaining === 0) return;
    for (const group of nearGroups(query, longest, options.greedy ? options.minPrefix : longest)) {
      for (const { bytes, at } of scanForward(this.source, this.blocks, group.lower, group.upper)) {
        if ((bytes[at]! & ENTRY_TOMBSTONE) !== 0) continue;
        yield [this.keyAt(bytes, at), this.valueAt(bytes, at)];
        if (--remaining === 0) return;
      }
    }
  }

  /** The longest prefix `query` shares with any put: always with its neighbour on one side or the other; -1 if there are no puts. */
  private longestSharedPrefix(query: Uint8Array): number {
    let longest = -1;
    const neighbours = [
      scanForward(this.source, this.blocks, { key: query, inclusive: true }, undefined),
      scanBackward(this.source, this.blocks, undefined, { key: query, inclusive: false }),
    ];
    for (const side of neighbours) {
      for (const { bytes, at } of side) {
        if ((bytes[at]! & ENTRY_TOMBSTONE) !== 0) continue;
        const shared = commonPrefixLength(bytes, at + ENTRY_HEADER_BYTES, readU16(bytes, at + 1), query, 0, query.length);
        if (shared > longest) longest = shared;
        break;
      }
    }
    return longest;
  }

  private computeStats(): SegmentStats<K> {
    const { header, footer, minKey, maxKey } = this.layout;
    const decode = (key: Uint8Array | undefined): K | undefined =>
      key === undefined ? undefined : (this.decodeKey(Buffer.from(key.buffer, key.byteOffset, key.length), 0, key.length) as K);
    return {
      formatVersion: header.version,
      access: this.access,
      multiValue: header.multiValue,
      entries: footer.entryCount,
      tombstones: footer.tombstoneCount,
      distinctKeys: footer.distinctKeyCount,
      blocks: footer.blockCount,
      blockSize: header.blockSize,
      bytes: this.fileSize,
      dataBytes: footer.dataLength,
      minKey: decode(minKey),
      maxKey: decode(maxKey),
      minSequence: footer.minSequence,
      maxSequence: footer.maxSequence,
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError(`segment reader for ${this.file}`);
  }
}

function sectionsOfHandle(handle: FileHandle): ReadSection {
  return (offset, length) => {
    const bytes = new Uint8Array(length);
    const read = attempt('read segment', handle.path, () => handle.read(bytes, offset));
    if (read !== length) throw new CorruptionError(handle.path, offset + read, 'the file ends early: it shrank while being opened');
    return bytes;
  };
}

/**
 * What a scan finds, each entry made into a `T` (undefined: skip it), at
 * most `limit` of them: a plain iterator rather than a generator, as a full
 * scan hands over millions.
 */
class ScanResults<T> implements IterableIterator<T> {
  constructor(
    private readonly scan: EntryScan,
    private readonly make: (bytes: Buffer, at: number) => T | undefined,
    private left: number,
  ) {}

  next(): IteratorResult<T> {
    const scan = this.scan;
    while (this.left > 0 && scan.advance()) {
      const value = this.make(scan.position.bytes, scan.position.at);
      if (value === undefined) continue;
      this.left--;
      return { done: false, value };
    }
    this.left = 0;
    return { done: true, value: undefined };
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this;
  }
}
