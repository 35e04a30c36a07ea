import { dirname } from 'node:path';
import { ClosedError, IoError, ValidationError, type FileHandle } from '@silt/fs';
import { attempt, crc32, ScratchArena, TEMP_SUFFIX } from '@silt/fs/internal';
import { appendBlockRecord } from './block-index.js';
import {
  ENTRY_ASCII,
  ENTRY_HEADER_BYTES,
  ENTRY_STRING,
  ENTRY_TOMBSTONE,
  HASH_ALIGNMENT,
  HEADER_BYTES,
  MAX_DISTINCT_KEYS,
  MAX_KEY_BYTES,
  SEGMENT_MAX_VALUE_BYTES,
  alignUp,
} from './format.js';
import { AlignedWords } from './aligned-words.js';
import { GrowableBytes, copyInto } from './growable-bytes.js';
import { HashTableBuilder } from './hash-table-builder.js';
import { checkValueType, compareBytes, describeType, valueTooLarge, type Key, type Value } from './key-bytes.js';
import { hashKeyBytes } from './key-hash.js';
import { readU16, readU32, writeU16, writeU32 } from './little-endian.js';
import { flagProblem } from './block-verifier.js';
import { OutputFile } from './output-file.js';
import { KeyOrderError } from './segment-errors.js';
import { encodeFooter } from './segment-footer.js';
import { encodeHeader } from './segment-header.js';
import { resolveBuilderOptions, type ResolvedBuilderOptions, type SegmentBuilderOptions } from './segment-options.js';

/** One input entry: a put of a value, or a tombstone (the key was deleted). */
export type SegmentInput =
  /**
   * `valueIsText` marks a Uint8Array value as UTF-8 text, to be read back as a
   * string: a flush or merge passes stored text through without decoding it.
   */
  | { readonly kind: 'put'; readonly key: Key; readonly value: Value; readonly valueIsText?: boolean }
  | { readonly kind: 'tombstone'; readonly key: Key };

/** What a finished build wrote. */
export interface SegmentBuildResult {
  readonly path: string;
  readonly bytes: number;
  readonly entries: number;
  readonly tombstones: number;
  readonly distinctKeys: number;
  readonly blocks: number;
  readonly minSequence: number;
  readonly maxSequence: number;
  /** The smallest and largest keys written (copies; tombstones count), or undefined for a segment with no entries. */
  readonly keyRange: { readonly minKey: Uint8Array; readonly maxKey: Uint8Array } | undefined;
}

/** This thread's memory for the hash table a finishing build writes out (see ScratchArena): the largest one's size, kept. */
const hashTableArena = new ScratchArena();

/** Above this many UTF-16 units a string's exact UTF-8 length is measured instead of assuming 3 bytes a unit. */
const MEASURE_STRINGS_ABOVE = 16 * 1024;

type BuilderState = 'open' | 'finishing' | 'finished' | 'failed';

/**
 * Writes one segment file, streamed: entries go into a block buffer, full
 * blocks go to the file through a 1 MiB write buffer, and only per-key index
 * bookkeeping (10 bytes a key, plus each block's first key) stays in memory.
 * The file is written under a temporary name beside `path` (`buildPathOf`: `<id>.seg.tmp`):
 * `finish()` appends the indexes and footer, fsyncs the file, renames it to
 * `path` and fsyncs the directory. So a file under a segment's name is
 * always whole, and what a crash leaves mid-build is a temp file that
 * recovery can prove is garbage. Any error (bad input included) ends the
 * build and removes the temp file, which was created with `createNew` and
 * so was ours.
 */
export class SegmentBuilder {
  private readonly handle: FileHandle;
  private readonly output: OutputFile;
  private readonly block = new GrowableBytes(8192);
  private readonly blockIndex = new GrowableBytes(8192);
  private readonly hashTable: HashTableBuilder;
  /** The last key of the blocks closed so far; the open block's last key is `block.bytes` at `previousKeyStart`. */
  private readonly previousKey = new GrowableBytes(256);
  /** Where in the open block the previous entry's key is, or -1 before its first entry (then it is `previousKey`). */
  private previousKeyStart = -1;
  private previousKeyLength = 0;
  private readonly firstKey = new GrowableBytes(256);
  private blockFirstKey: Uint8Array = new Uint8Array(0);
  private words = AlignedWords.over(this.block.bytes);
  private wordsOf = this.block.bytes;
  private blockCount = 0;
  private entries = 0;
  private tombstones = 0;
  private state: BuilderState = 'open';
  private failure: unknown;
  /** Where the bytes go until `finish` renames them to `path`. */
  private readonly temporaryPath: string;
  private renamed = false;

  private constructor(
    readonly path: string,
    private readonly options: ResolvedBuilderOptions,
  ) {
    // The rename would replace a file silently: refuse an existing one up front, as createNew did.
    if (options.fs.exists(path))
      throw new IoError('create segment', path, Object.assign(new Error(`EEXIST: file already exists, '${path}'`), { code: 'EEXIST' }));
    this.hashTable = new HashTableBuilder(options.expectedKeys);
    this.temporaryPath = buildPathOf(path);
    try {
      this.handle = options.fs.open(this.temporaryPath, 'createNew');
    } catch (error) {
      throw new IoError('create segment', path, error);
    }
    this.output = new OutputFile(this.handle);
    try {
      this.write(() => this.output.append(encodeHeader(options.multiValue, options.blockSize)));
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  /** Creates `path` (which must not exist) and returns a builder for it. */
  static create(path: string, options: SegmentBuilderOptions): SegmentBuilder {
    if (typeof path !== 'string' || path.length === 0)
      throw new ValidationError(`segment path must be a non-empty string, got ${describeType(path)}`);
    return new SegmentBuilder(path, resolveBuilderOptions(options));
  }

  /** Entries added so far. */
  get entryCount(): number {
    return this.entries;
  }

  put(key: Key, value: Value): void {
    this.add({ kind: 'put', key, value });
  }

  tombstone(key: Key): void {
    this.add({ kind: 'tombstone', key });
  }

  /** Adds the next entry; keys must ascend by their bytes (or not descend, in a multi-value segment). */
  add(entry: SegmentInput): void {
    this.checkOpen();
    try {
      this.append(entry);
    } catch (error) {
      this.fail(error);
      throw this.failure;
    }
  }

  /** Writes the indexes and footer, fsyncs the file and its directory. */
  async finish(): Promise<SegmentBuildResult> {
    this.checkOpen();
    this.state = 'finishing';
    let size = 0;
    try {
      this.write(() => {
        this.closeBlock();
        size = this.writeIndexesAndFooter();
        this.output.flush();
      });
      await attempt('fsync segment', this.path, async () => {
        await this.output.settle();
        await this.handle.sync();
      });
      this.handle.close();
      attempt('name segment', this.path, () => this.options.fs.rename(this.temporaryPath, this.path));
      this.renamed = true;
      await attempt('fsync the directory of segment', this.path, () => this.options.fs.syncDirectory(dirname(this.path)));
    } catch (error) {
      this.fail(error);
      throw this.failure;
    }
    this.state = 'finished';
    return {
      path: this.path,
      bytes: size,
      entries: this.entries,
      tombstones: this.tombstones,
      distinctKeys: this.hashTable.keyCount,
      blocks: this.blockCount,
      minSequence: this.options.minSequence,
      maxSequence: this.options.maxSequence,
      keyRange: this.entries === 0 ? undefined : { minKey: copyOf(this.firstKey.view()), maxKey: copyOf(this.previousKey.view()) },
    };
  }

  /** Stops the build and removes the file. Harmless after a failure; an error after `finish`. */
  abort(): void {
    if (this.state === 'failed') return;
    this.checkOpen();
    this.fail(new ClosedError(`segment builder for ${this.path} (aborted)`));
  }

  /**
   * Adds the next entry from slices of one buffer (a log file's bytes, a
   * segment block): what `add` does, without an entry object or a view per
   * key and value. The slices are copied; the buffer may change afterwards.
   */
  addSlices(
    kind: 'put' | 'tombstone',
    bytes: Uint8Array,
    keyStart: number,
    keyLength: number,
    valueStart: number,
    valueLength: number,
    valueIsText: boolean,
  ): void {
    this.checkOpen();
    try {
      const isPut = kind === 'put';
      this.checkKind(isPut, kind);
      this.checkSizes(keyLength, valueLength); // before room is made for them
      checkSlice(bytes, keyStart, keyLength, `key of segment entry #${this.entries}`);
      if (isPut) checkSlice(bytes, valueStart, valueLength, `value of segment entry #${this.entries}`);
      const block = this.block;
      const start = block.length;
      block.reserve(ENTRY_HEADER_BYTES + keyLength + valueLength);
      const entryKeyStart = start + ENTRY_HEADER_BYTES;
      const entryValueStart = entryKeyStart + keyLength;
      // A log record lays the value right after its key: then one copy takes both.
      if (valueStart === keyStart + keyLength) copyInto(block.bytes, entryKeyStart, bytes, keyStart, keyLength + valueLength);
      else {
        copyInto(block.bytes, entryKeyStart, bytes, keyStart, keyLength);
        copyInto(block.bytes, entryValueStart, bytes, valueStart, valueLength);
      }
      const typeFlags = isPut && valueIsText ? this.textFlagsOf(entryValueStart, valueLength) : 0;
      this.finishEntry(isPut, start, keyLength, valueLength, typeFlags);
    } catch (error) {
      this.fail(error);
      throw this.failure;
    }
  }

  /**
   * Adds the entry encoded at `bytes[at]` as a segment block holds it
   * (FORMAT.md, "Data section"; `SegmentReader.encodedEntries`), flags and
   * all: a merge copies entries this way, without decoding a key or a value
   * and encoding them again. Checked as `add` checks an entry, plus its flags
   * and that a value flagged ASCII is.
   */
  addEncoded(bytes: Uint8Array, at: number): void {
    this.checkOpen();
    try {
      checkSlice(bytes, at, ENTRY_HEADER_BYTES, `header of segment entry #${this.entries}`);
      const flags = bytes[at]!;
      const keyLength = readU16(bytes, at + 1);
      const valueLength = readU32(bytes, at + 3);
      const problem = flagProblem(flags, valueLength, this.options.multiValue);
      if (problem !== undefined) throw new ValidationError(`segment entry #${this.entries}: ${problem}`);
      this.checkSizes(keyLength, valueLength);
      checkSlice(bytes, at + ENTRY_HEADER_BYTES, keyLength + valueLength, `segment entry #${this.entries}`);
      const block = this.block;
      const start = block.length;
      block.reserve(ENTRY_HEADER_BYTES + keyLength + valueLength);
      // One copy, header and all (finishEntry writes the same header again): a native copy costs the same for 20 bytes or 200.
      copyInto(block.bytes, start, bytes, at, ENTRY_HEADER_BYTES + keyLength + valueLength);
      const valueStart = start + ENTRY_HEADER_BYTES + keyLength;
      // A value flagged ASCII decodes as latin1: a byte above 0x7f would read back as another string.
      if ((flags & ENTRY_ASCII) !== 0 && !this.blockWords().isAscii(block.bytes, valueStart, valueStart + valueLength))
        throw new ValidationError(`segment entry #${this.entries}: its value is flagged ASCII and is not`);
      this.finishEntry((flags & ENTRY_TOMBSTONE) === 0, start, keyLength, valueLength, flags & (ENTRY_STRING | ENTRY_ASCII));
    } catch (error) {
      this.fail(error);
      throw this.failure;
    }
  }

  /**
   * Adds a whole data block of encoded entries, as a native merge loop built
   * it (@silt/merger): entries back to back, keys ascending, each copied
   * from a verified block of a segment (so its flags, sizes and ASCII
   * values passed `BlockVerifier`), closed as this builder closes a block
   * (at `blockSize` bytes or more; only the last may be shorter).
   * `hashes[i]` and `offsets[i]` are entry i's key hash (key-hash.ts) and
   * offset in the block. Checked here: that the segment is not multi-value,
   * that no entries were added one by one into an open block, that the
   * entries tile the block, each starting within the block size, with known
   * flags and a value of an allowed size, that the block's first key is above the last key before it, and
   * the distinct-key limit. Not checked again: the order of keys within the
   * block (the merge loop checks it) and that a value flagged ASCII is.
   */
  addEncodedBlock(bytes: Uint8Array, hashes: Uint32Array, offsets: Uint32Array): void {
    this.checkOpen();
    try {
      if (hashes.length !== offsets.length)
        throw new ValidationError(`an encoded block needs a hash and an offset for each entry, got ${hashes.length} and ${offsets.length}`);
      const tombstones = this.checkEncodedBlock(bytes, offsets);
      const firstKeyLength = readU16(bytes, 1);
      if (this.entries > 0) this.checkBlockAfterPrevious(bytes, firstKeyLength);
      else this.firstKey.appendSlice(bytes, ENTRY_HEADER_BYTES, firstKeyLength);
      if (this.hashTable.keyCount + hashes.length > MAX_DISTINCT_KEYS)
        throw new ValidationError(`a segment holds at most ${MAX_DISTINCT_KEYS} distinct keys`);
      for (let i = 0; i < hashes.length; i++) this.hashTable.record(hashes[i]!, this.blockCount, offsets[i]!);
      const last = offsets[offsets.length - 1]!;
      this.entries += hashes.length;
      this.tombstones += tombstones;
      this.write(() => {
        appendBlockRecord(
          this.blockIndex,
          bytes.length,
          crc32(bytes),
          copyOf(bytes.subarray(ENTRY_HEADER_BYTES, ENTRY_HEADER_BYTES + firstKeyLength)),
        );
        this.output.append(bytes);
      });
      this.blockCount++;
      this.previousKey.reset();
      this.previousKey.appendSlice(bytes, last + ENTRY_HEADER_BYTES, readU16(bytes, last + 1));
    } catch (error) {
      this.fail(error);
      throw this.failure;
    }
  }

  /** The block is whole entries, as `offsets` says, after no entry added one by one; returns its tombstones. */
  private checkEncodedBlock(bytes: Uint8Array, offsets: Uint32Array): number {
    if (this.options.multiValue) throw new ValidationError('addEncodedBlock builds single-value segments only');
    if (this.block.length !== 0)
      throw new ValidationError('addEncodedBlock needs the open block empty: entries were added one by one before it');
    if (offsets.length === 0 || offsets[0] !== 0) throw new ValidationError('an encoded block must start with an entry');
    let at = 0;
    let tombstones = 0;
    for (let i = 0; i < offsets.length; i++) {
      if (offsets[i] !== at || at + ENTRY_HEADER_BYTES > bytes.length)
        throw new ValidationError(`entry #${i} of an encoded block is not where the one before it ends`);
      // A reader takes an entry that starts past the block size for damage (FORMAT.md, "Data section").
      if (at >= this.options.blockSize)
        throw new ValidationError(`entry #${i} of an encoded block starts at ${at}, past the block size ${this.options.blockSize}`);
      const valueLength = readU32(bytes, at + 3);
      const problem = flagProblem(bytes[at]!, valueLength, false);
      if (problem !== undefined) throw new ValidationError(`entry #${i} of an encoded block: ${problem}`);
      if (valueLength > SEGMENT_MAX_VALUE_BYTES) throw valueTooLarge(valueLength, `value of entry #${i} of an encoded block`);
      tombstones += bytes[at]! & ENTRY_TOMBSTONE;
      at += ENTRY_HEADER_BYTES + readU16(bytes, at + 1) + valueLength;
    }
    if (at !== bytes.length) throw new ValidationError(`an encoded block's entries end at ${at}, not at its end ${bytes.length}`);
    return tombstones;
  }

  /** Throws KeyOrderError unless the block's first key is above the last key added. */
  private checkBlockAfterPrevious(bytes: Uint8Array, firstKeyLength: number): void {
    const previous = this.previousKey;
    if (compareBytes(bytes, ENTRY_HEADER_BYTES, firstKeyLength, previous.bytes, 0, previous.length) > 0) return;
    const key = copyOf(bytes.subarray(ENTRY_HEADER_BYTES, ENTRY_HEADER_BYTES + firstKeyLength));
    throw new KeyOrderError(
      compareBytes(key, 0, key.length, previous.bytes, 0, previous.length) === 0 ? 'duplicate' : 'unsorted',
      this.entries,
      copyOf(previous.view()),
      key,
    );
  }

  private append(entry: SegmentInput): void {
    if (typeof entry !== 'object' || entry === null)
      throw new ValidationError(`segment entry must be an object, got ${describeType(entry)}`);
    const isPut = entry.kind === 'put';
    this.checkKind(isPut, entry.kind);
    const value = isPut ? entry.value : undefined;
    if (isPut) checkValueType(value, `value of segment entry #${this.entries}`);

    const block = this.block;
    const start = block.length;
    block.reserve(ENTRY_HEADER_BYTES + maxEncodedLength(entry.key, 'key', this.entries) + maxEncodedLength(value, 'value', this.entries));
    const keyStart = start + ENTRY_HEADER_BYTES;
    const keyLength = writeBytes(block.bytes, keyStart, entry.key);
    const valueLength = value === undefined ? 0 : writeBytes(block.bytes, keyStart + keyLength, value);
    this.checkSizes(keyLength, valueLength); // a string's size is known once it is encoded
    let typeFlags = 0;
    if (typeof value === 'string') typeFlags = valueLength === value.length ? ENTRY_STRING | ENTRY_ASCII : ENTRY_STRING;
    else if (isPut && entry.valueIsText === true) typeFlags = this.textFlagsOf(keyStart + keyLength, valueLength);
    this.finishEntry(isPut, start, keyLength, valueLength, typeFlags);
  }

  /** The flags of a value that was text, given its UTF-8 bytes in the block: ASCII text reads back faster. */
  private textFlagsOf(valueStart: number, valueLength: number): number {
    const ascii = this.blockWords().isAscii(this.block.bytes, valueStart, valueStart + valueLength);
    return ascii ? ENTRY_STRING | ENTRY_ASCII : ENTRY_STRING;
  }

  /** Word views of the block's storage, made again when a `reserve` replaced it. */
  private blockWords(): AlignedWords {
    const bytes = this.block.bytes;
    if (this.wordsOf !== bytes) {
      this.words = AlignedWords.over(bytes);
      this.wordsOf = bytes;
    }
    return this.words;
  }

  private checkSizes(keyLength: number, valueLength: number): void {
    if (keyLength > MAX_KEY_BYTES)
      throw new ValidationError(`key of segment entry #${this.entries} is ${keyLength} bytes; keys are at most ${MAX_KEY_BYTES} bytes`);
    if (valueLength > SEGMENT_MAX_VALUE_BYTES) throw valueTooLarge(valueLength, `value of segment entry #${this.entries}`);
  }

  private checkKind(isPut: boolean, kind: unknown): void {
    if (!isPut && kind !== 'tombstone') throw new ValidationError(`segment entry kind must be 'put' or 'tombstone', got ${String(kind)}`);
    if (!isPut && this.options.multiValue) throw new ValidationError('a multi-value segment holds puts only; tombstones are not allowed');
  }

  /**
   * The entry's key and value are in the block at `start`: check the key's
   * order, write its header, index it. `typeFlags` says what type the value
   * was given as.
   */
  private finishEntry(isPut: boolean, start: number, keyLength: number, valueLength: number, typeFlags: number): void {
    const block = this.block;
    const keyStart = start + ENTRY_HEADER_BYTES;
    const isNewKey = this.checkOrder(keyStart, keyLength);
    block.bytes[start] = (isPut ? 0 : ENTRY_TOMBSTONE) | typeFlags;
    writeU16(block.bytes, start + 1, keyLength);
    writeU32(block.bytes, start + 3, valueLength);

    if (start === 0) this.blockFirstKey = copyOf(block.bytes.subarray(keyStart, keyStart + keyLength));
    if (isNewKey) {
      if (this.hashTable.keyCount >= MAX_DISTINCT_KEYS)
        throw new ValidationError(`a segment holds at most ${MAX_DISTINCT_KEYS} distinct keys`);
      this.hashTable.record(hashKeyBytes(block.bytes, keyStart, keyLength), this.blockCount, start);
    }
    if (this.entries === 0) this.firstKey.appendSlice(block.bytes, keyStart, keyLength);
    // Copied into `previousKey` only when the block closes: a copy per entry cost a merge ~3 %.
    this.previousKeyStart = keyStart;
    this.previousKeyLength = keyLength;
    block.markWritten(ENTRY_HEADER_BYTES + keyLength + valueLength); // the entry began at `start`, the block's length until now
    this.entries++;
    if (!isPut) this.tombstones++;
    if (block.length >= this.options.blockSize) this.write(() => this.closeBlock());
  }

  /** Throws on a key below (or, unless multi-value, equal to) the previous one; true for a new distinct key. */
  private checkOrder(keyStart: number, keyLength: number): boolean {
    if (this.entries === 0) return true;
    const inBlock = this.previousKeyStart >= 0;
    const previousBytes = inBlock ? this.block.bytes : this.previousKey.bytes;
    const previousStart = inBlock ? this.previousKeyStart : 0;
    const previousLength = inBlock ? this.previousKeyLength : this.previousKey.length;
    const order = compareBytes(this.block.bytes, keyStart, keyLength, previousBytes, previousStart, previousLength);
    if (order > 0) return true;
    if (order === 0 && this.options.multiValue) return false;
    const key = copyOf(this.block.bytes.subarray(keyStart, keyStart + keyLength));
    const previous = copyOf(previousBytes.subarray(previousStart, previousStart + previousLength));
    throw new KeyOrderError(order === 0 ? 'duplicate' : 'unsorted', this.entries, previous, key);
  }

  private closeBlock(): void {
    const block = this.block;
    if (block.length === 0) return;
    const bytes = block.view();
    appendBlockRecord(this.blockIndex, bytes.length, crc32(bytes), this.blockFirstKey);
    this.output.append(bytes);
    this.blockCount++;
    this.previousKey.reset();
    this.previousKey.appendSlice(block.bytes, this.previousKeyStart, this.previousKeyLength);
    this.previousKeyStart = -1;
    block.clear(this.options.blockSize * 2);
  }

  /** Appends block index, padding, hash index, key range and footer; returns the file size. */
  private writeIndexesAndFooter(): number {
    const output = this.output;
    const dataLength = output.position - HEADER_BYTES;
    const blockIndexOffset = output.position;
    const blockIndex = this.blockIndex.view();
    output.append(blockIndex);
    const hashOffset = alignUp(output.position, HASH_ALIGNMENT);
    output.append(new Uint8Array(hashOffset - output.position));
    // Written and checksummed before this method returns: the arena may lend the same bytes to the next build.
    const hashTable = this.hashTable.encode(hashTableArena);
    output.append(hashTable);
    const keyRangeOffset = output.position;
    const keyRange = this.encodeKeyRange();
    output.append(keyRange);
    output.append(
      encodeFooter({
        dataLength,
        blockIndexOffset,
        blockIndexLength: blockIndex.length,
        hashOffset,
        hashLength: hashTable.length,
        keyRangeOffset,
        keyRangeLength: keyRange.length,
        entryCount: this.entries,
        tombstoneCount: this.tombstones,
        distinctKeyCount: this.hashTable.keyCount,
        minSequence: this.options.minSequence,
        maxSequence: this.options.maxSequence,
        blockCount: this.blockCount,
        blockIndexCrc: crc32(blockIndex),
        hashCrc: crc32(hashTable),
        keyRangeCrc: crc32(keyRange),
      }),
    );
    return output.position;
  }

  private encodeKeyRange(): Uint8Array {
    if (this.entries === 0) return new Uint8Array(0);
    const smallest = this.firstKey.view();
    const largest = this.previousKey.view();
    const bytes = new Uint8Array(4 + smallest.length + largest.length);
    writeU16(bytes, 0, smallest.length);
    bytes.set(smallest, 2);
    writeU16(bytes, 2 + smallest.length, largest.length);
    bytes.set(largest, 4 + smallest.length);
    return bytes;
  }

  /** Runs file writes, turning an operating-system error into an IoError. */
  private write(body: () => void): void {
    attempt('write segment', this.path, body);
  }

  private checkOpen(): void {
    if (this.state === 'open') return;
    const why = this.state === 'failed' ? `failed: ${describeFailure(this.failure)}` : this.state;
    throw new ClosedError(`segment builder for ${this.path} (${why})`);
  }

  /**
   * Ends the build for good: remove the partial file and close it (once its
   * background syncs ended: `OutputFile.closeWhenSynced`). The first error is
   * the one reported.
   */
  private fail(error: unknown): void {
    if (this.state === 'failed') return;
    this.state = 'failed';
    this.failure = error;
    this.output.closeWhenSynced();
    try {
      // Nothing names the file yet (no commit before `finish` resolves): ours to remove under either name.
      this.options.fs.unlink(this.renamed ? this.path : this.temporaryPath);
    } catch {
      // Best effort: a temp file left behind is removed when the index opens.
    }
  }
}

/**
 * Where the segment bound for `path` is written until it is whole. Not
 * random: segment ids never repeat, so neither does this name, and a
 * caller that gave up on a build knows which file to remove. In an index
 * directory that is `segmentBuildFileName(id)` of @silt/fs.
 */
export function buildPathOf(path: string): string {
  return `${path}${TEMP_SUFFIX}`;
}

/** Builds a segment from entries (sync or async iterable) in one call; on error nothing is left behind. */
export async function buildSegment(
  path: string,
  entries: Iterable<SegmentInput> | AsyncIterable<SegmentInput>,
  options: SegmentBuilderOptions,
): Promise<SegmentBuildResult> {
  const builder = SegmentBuilder.create(path, options);
  try {
    // `for await` over a sync iterable costs a promise and a microtask per entry.
    if (Symbol.iterator in entries) for (const entry of entries) builder.add(entry);
    else for await (const entry of entries) builder.add(entry);
  } catch (error) {
    builder.abort();
    throw error;
  }
  return builder.finish();
}

/** An upper bound on the bytes `writeBytes` will write, so the block buffer can be sized first. */
function maxEncodedLength(data: Key | undefined, what: 'key' | 'value', entryIndex: number): number {
  if (data === undefined) return 0;
  const measured = typeof data === 'string' ? data.length : data instanceof Uint8Array ? data.length : 0;
  if (what === 'key' && measured > MAX_KEY_BYTES) {
    throw new ValidationError(`key of segment entry #${entryIndex} is longer than ${MAX_KEY_BYTES} bytes, the most a key may be`);
  }
  if (typeof data === 'string') {
    if (data.length <= MEASURE_STRINGS_ABOVE) return data.length * 3;
    const length = Buffer.byteLength(data, 'utf8');
    if (what === 'value' && length > SEGMENT_MAX_VALUE_BYTES) throw valueTooLarge(length, `value of segment entry #${entryIndex}`);
    return length;
  }
  if (data instanceof Uint8Array) {
    if (what === 'value' && data.length > SEGMENT_MAX_VALUE_BYTES)
      throw valueTooLarge(data.length, `value of segment entry #${entryIndex}`);
    return data.length;
  }
  throw new ValidationError(`${what} of segment entry #${entryIndex} must be a string or a Uint8Array, got ${describeType(data)}`);
}

/** A slice must lie inside its buffer: a copy past its end would take stale bytes of another entry. */
function checkSlice(bytes: Uint8Array, start: number, length: number, what: string): void {
  if (Number.isSafeInteger(start) && Number.isSafeInteger(length) && start >= 0 && length >= 0 && start + length <= bytes.length) return;
  throw new ValidationError(`${what} is the slice [${String(start)}, +${String(length)}), outside its buffer of ${bytes.length} bytes`);
}

function writeBytes(target: Buffer, at: number, data: Key): number {
  if (typeof data === 'string') return target.write(data, at, 'utf8');
  copyInto(target, at, data, 0, data.length);
  return data.length;
}

function copyOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function describeFailure(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
