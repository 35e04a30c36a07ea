import { crc32 } from '@silt/fs/internal';
import type { LogEntryVisitor, WalEntry, WalEntryInput } from './wal-entry.js';

/**
 * The byte layout of one WAL record (see FORMAT.md). A record is one atomic
 * batch; it is written whole or, after a crash, found torn and cut off.
 *
 *   0  u32 magic 'SWAL'   4  u32 crc32 of [8, length)   8  u32 length (whole record)
 *  12  u8 version (1)    13  u8 flags (bit 0: origins) 14  u16 reserved (0)
 *  16  u32 firstSeq low  20  u32 firstSeq high   24  u32 count
 *  28  u32 syncedOffset: how far this file was known durable when the record was written
 *  32  entries: u8 kind, u32 key length, [u32 value length], key, [value]
 *  with flag 1 (origins), after the entries: origins (8-byte client, u32 request), then u32 origin count
 *
 * All integers are little-endian. Magic, crc, length and version keep their
 * places in every future version, so any reader can tell "torn" from
 * "written by a newer version".
 */

export const MAGIC_BYTES = Uint8Array.of(0x53, 0x57, 0x41, 0x4c); // 'SWAL'
const MAGIC = 0x4c415753; // MAGIC_BYTES read as a little-endian u32
export const FORMAT_VERSION = 1;
export const RECORD_HEADER_BYTES = 32;
/** Readers refuse longer records, so a damaged length never makes them read or allocate more. */
export const FORMAT_MAX_RECORD_BYTES = 256 * 1024 * 1024;

const CRC_START = 8;
const OFFSET_CRC = 4;
const OFFSET_LENGTH = 8;
const OFFSET_VERSION = 12;
const OFFSET_FLAGS = 13;
const OFFSET_RESERVED = 14;
const OFFSET_SEQ_LOW = 16;
const OFFSET_SEQ_HIGH = 20;
const OFFSET_COUNT = 24;
const OFFSET_SYNCED = 28;

/** Header flag: the record ends in the origins of the writes in it (`WriteOrigin`). */
const FLAG_ORIGINS = 1;
/** An origin: an 8-byte client id and a u32 request number. */
export const WRITE_CLIENT_BYTES = 8;
const ORIGIN_BYTES = WRITE_CLIENT_BYTES + 4;

const KIND_PUT = 1;
const KIND_PUT_TEXT = 2;
const KIND_DELETE = 3;
/** kind + key length: the smallest entry (a delete of an empty key). */
const MIN_ENTRY_BYTES = 5;
const TWO_TO_32 = 0x1_0000_0000;
/** The high word of Number.MAX_SAFE_INTEGER. */
const MAX_SEQ_HIGH = 0x1f_ffff;

/**
 * Who asked for a write, when another process forwarded it to the writer:
 * a client's own id (random, 8 bytes) and its request number. A record
 * names the origins of the writes in it, so that a client whose writer died
 * before answering can tell from the log whether its write was applied.
 */
export interface WriteOrigin {
  readonly client: Uint8Array;
  readonly request: number;
}

/** Bytes the record for `entries` takes on disk, header included. */
export function encodedRecordBytes(entries: readonly WalEntryInput[], origins = 0): number {
  let total = RECORD_HEADER_BYTES + originsBytes(origins);
  for (const entry of entries) total += encodedEntryBytes(entry);
  return total;
}

/** Bytes `count` origins take at the end of a record: none without any. */
export function originsBytes(count: number): number {
  return count === 0 ? 0 : count * ORIGIN_BYTES + 4;
}

/** Bytes one entry takes inside a record. */
export function encodedEntryBytes(entry: WalEntryInput): number {
  const keyBytes = MIN_ENTRY_BYTES + (entry.keyBytes ?? byteLengthOf(entry.key));
  return entry.kind === 'put' ? keyBytes + 4 + (entry.valueBytes ?? byteLengthOf(entry.value)) : keyBytes;
}

/**
 * Encodes a batch whose first entry has sequence number `firstSeq`. The
 * record is not yet sealed: `sealRecord` fills in the synced offset and the
 * CRC when the writer knows where the record lands. This runs once per
 * append, so it takes a pooled buffer, writes strings in place as UTF-8,
 * and stores integers byte by byte rather than through a DataView.
 */
export function encodeRecord(
  firstSeq: number,
  entries: readonly WalEntryInput[],
  totalBytes = encodedRecordBytes(entries),
  origins: readonly WriteOrigin[] = NO_ORIGINS,
): Uint8Array {
  // 4 bytes of slack, a UTF-8 character's most: a string longer than the length given for it writes
  // past that length instead of being cut to fit, so `checkedLength` sees every wrong one.
  const bytes = Buffer.allocUnsafe(totalBytes + 4);
  bytes.set(MAGIC_BYTES, 0);
  putUint32(bytes, OFFSET_CRC, 0);
  putUint32(bytes, OFFSET_LENGTH, totalBytes);
  putUint32(bytes, OFFSET_VERSION, FORMAT_VERSION); // version 1, flags 0, reserved 0
  if (origins.length > 0) bytes[OFFSET_FLAGS] = FLAG_ORIGINS;
  putUint32(bytes, OFFSET_SEQ_LOW, firstSeq % TWO_TO_32);
  putUint32(bytes, OFFSET_SEQ_HIGH, Math.floor(firstSeq / TWO_TO_32));
  putUint32(bytes, OFFSET_COUNT, entries.length);
  putUint32(bytes, OFFSET_SYNCED, 0);
  let at = RECORD_HEADER_BYTES;
  for (const entry of entries) {
    const start = at;
    if (entry.kind === 'delete') {
      bytes[start] = KIND_DELETE;
      const keyLength = checkedLength(writeData(bytes, start + MIN_ENTRY_BYTES, entry.key), entry.keyBytes);
      putUint32(bytes, start + 1, keyLength);
      at = start + MIN_ENTRY_BYTES + keyLength;
      continue;
    }
    bytes[start] = typeof entry.value === 'string' || entry.valueIsText === true ? KIND_PUT_TEXT : KIND_PUT;
    const keyStart = start + MIN_ENTRY_BYTES + 4;
    const keyLength = checkedLength(writeData(bytes, keyStart, entry.key), entry.keyBytes);
    const valueLength = checkedLength(writeData(bytes, keyStart + keyLength, entry.value), entry.valueBytes);
    putUint32(bytes, start + 1, keyLength);
    putUint32(bytes, start + MIN_ENTRY_BYTES, valueLength);
    at = keyStart + keyLength + valueLength;
  }
  at = writeOrigins(bytes, at, origins);
  if (at !== totalBytes) throw new RangeError(`a record of ${totalBytes} bytes was encoded into ${at}`);
  return bytes.subarray(0, totalBytes);
}

const NO_ORIGINS: readonly WriteOrigin[] = [];

function writeOrigins(bytes: Buffer, at: number, origins: readonly WriteOrigin[]): number {
  if (origins.length === 0) return at;
  for (const { client, request } of origins) {
    if (client.length !== WRITE_CLIENT_BYTES) throw new RangeError(`a write origin's client id is ${client.length} bytes, not 8`);
    bytes.set(client, at);
    putUint32(bytes, at + WRITE_CLIENT_BYTES, request);
    at += ORIGIN_BYTES;
  }
  putUint32(bytes, at, origins.length);
  return at + 4;
}

/** A length written, checked against the one the caller gave (a wrong one would shift every byte after it). */
function checkedLength(written: number, given: number | undefined): number {
  if (given !== undefined && written !== given) throw new RangeError(`an entry said ${given} bytes and encoded to ${written}`);
  return written;
}

/** The bytes a key or value takes in a record: a string's UTF-8. */
export function byteLengthOf(data: Uint8Array | string): number {
  return typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
}

/** Writes a key or value into `target` at `at` as a record holds it (a string as UTF-8); returns the bytes written. */
export function writeData(target: Buffer, at: number, data: Uint8Array | string): number {
  if (typeof data === 'string') return data.length === 0 ? 0 : target.write(data, at, 'utf8');
  target.set(data, at);
  return data.length;
}

/** Stamps the record at `offset` of `bytes` with its synced offset and CRC. */
export function sealRecord(bytes: Uint8Array, offset: number, syncedOffset: number): void {
  const length = getUint32(bytes, offset + OFFSET_LENGTH);
  putUint32(bytes, offset + OFFSET_SYNCED, syncedOffset);
  putUint32(bytes, offset + OFFSET_CRC, crc32(bytes.subarray(offset + CRC_START, offset + length)));
}

function putUint32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value;
  bytes[at + 1] = value >>> 8;
  bytes[at + 2] = value >>> 16;
  bytes[at + 3] = value >>> 24;
}

function getUint32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/**
 * A record read back, with where it lay in its file. Its entries are checked
 * when the record is read but built only when asked for (recovery needs
 * none of them); keys and values are views into the file's bytes.
 */
export interface DecodedRecord {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly entries: WalEntry[];
  /** Walks the entries in order as positions in the file's bytes: no object per entry. */
  visit(visitor: LogEntryVisitor): void;
  readonly offset: number;
  readonly length: number;
  readonly syncedOffset: number;
  /** Whether the record names `origin` among the forwarded writes in it. */
  hasOrigin(origin: WriteOrigin): boolean;
}

/**
 * What is at an offset:
 * - `valid`: a whole record.
 * - `invalid`: no record (wrong magic, impossible length, CRC mismatch): what a torn write leaves.
 * - `malformed`: the CRC verifies but the contents break the format: a bug or deliberate damage, never a torn write.
 * - `unsupported`: the CRC verifies and the version is one this reader does not know.
 */
export type RecordProbe =
  | { readonly kind: 'valid'; readonly record: DecodedRecord }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'malformed'; readonly reason: string }
  | { readonly kind: 'unsupported'; readonly version: number };

/** The length of a CRC-verified record at `offset`, or a reason there is none. */
export function verifiedLengthAt(bytes: Uint8Array, view: DataView, offset: number): number | string {
  const available = bytes.length - offset;
  if (available < RECORD_HEADER_BYTES) return `only ${available} bytes left, less than a record header`;
  if (view.getUint32(offset, true) !== MAGIC) return 'no record magic';
  const length = view.getUint32(offset + OFFSET_LENGTH, true);
  if (length < RECORD_HEADER_BYTES || length > FORMAT_MAX_RECORD_BYTES) return `impossible record length ${length}`;
  if (length > available) return `record length ${length} runs past the end of the file (${available} bytes left)`;
  const stored = view.getUint32(offset + OFFSET_CRC, true);
  const actual = crc32(bytes.subarray(offset + CRC_START, offset + length));
  if (stored !== actual) return 'checksum mismatch';
  return length;
}

/** The synced offset stamped in a verified record. */
export function syncedOffsetAt(view: DataView, offset: number): number {
  return view.getUint32(offset + OFFSET_SYNCED, true);
}

/**
 * What is at `offset` of `bytes`. `fileOffset` is where those bytes lie in
 * their file, when `bytes` is a window of it (a tailing reader's chunk): the
 * synced offset a record carries is checked against it.
 */
export function probeRecord(bytes: Uint8Array, view: DataView, offset: number, fileOffset = offset): RecordProbe {
  const length = verifiedLengthAt(bytes, view, offset);
  if (typeof length === 'string') return { kind: 'invalid', reason: length };
  const version = bytes[offset + OFFSET_VERSION]!;
  if (version !== FORMAT_VERSION) return { kind: 'unsupported', version };
  const high = view.getUint32(offset + OFFSET_SEQ_HIGH, true);
  const firstSeq = high * TWO_TO_32 + view.getUint32(offset + OFFSET_SEQ_LOW, true);
  const count = view.getUint32(offset + OFFSET_COUNT, true);
  const syncedOffset = view.getUint32(offset + OFFSET_SYNCED, true);
  const problem = headerProblem(view, offset, fileOffset, length, high, firstSeq, count, syncedOffset);
  if (problem !== undefined) return { kind: 'malformed', reason: problem };
  const entriesEnd = entriesEndOf(bytes, view, offset, length);
  if (typeof entriesEnd === 'string') return { kind: 'malformed', reason: entriesEnd };
  const entriesProblem = walkEntries(bytes, view, offset + RECORD_HEADER_BYTES, entriesEnd, count, undefined);
  if (entriesProblem !== undefined) return { kind: 'malformed', reason: entriesProblem };
  const record = new VerifiedRecord(bytes, view, firstSeq, firstSeq + count - 1, offset, length, syncedOffset, entriesEnd);
  return { kind: 'valid', record };
}

/** Where the entries of the record at `offset` end: its end, or where its origins begin. */
function entriesEndOf(bytes: Uint8Array, view: DataView, offset: number, length: number): number | string {
  const end = offset + length;
  if ((bytes[offset + OFFSET_FLAGS]! & FLAG_ORIGINS) === 0) return end;
  const count = view.getUint32(end - 4, true);
  const trailer = originsBytes(count);
  if (count === 0 || trailer > length - RECORD_HEADER_BYTES) return `origin count ${count} does not fit the record`;
  return end - trailer;
}

class VerifiedRecord implements DecodedRecord {
  private decoded: WalEntry[] | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    /** The file's DataView, shared by every record of it. */
    private readonly view: DataView,
    readonly firstSeq: number,
    readonly lastSeq: number,
    readonly offset: number,
    readonly length: number,
    readonly syncedOffset: number,
    private readonly entriesEnd: number,
  ) {}

  get entries(): WalEntry[] {
    if (this.decoded === undefined) {
      const entries: WalEntry[] = [];
      this.visit((kind, bytes, keyStart, keyLength, valueStart, valueLength) => {
        const key = bytes.subarray(keyStart, keyStart + keyLength);
        if (kind === 'delete') entries.push({ kind, key });
        else {
          const value = bytes.subarray(valueStart, valueStart + valueLength);
          entries.push(kind === 'put-text' ? { kind: 'put', key, value, valueIsText: true } : { kind: 'put', key, value });
        }
      });
      this.decoded = entries;
    }
    return this.decoded;
  }

  visit(visitor: LogEntryVisitor): void {
    const from = this.offset + RECORD_HEADER_BYTES;
    walkEntries(this.bytes, this.view, from, this.entriesEnd, this.lastSeq - this.firstSeq + 1, visitor);
  }

  hasOrigin({ client, request }: WriteOrigin): boolean {
    const end = this.offset + this.length - 4;
    for (let at = this.entriesEnd; at < end; at += ORIGIN_BYTES) {
      if (this.view.getUint32(at + WRITE_CLIENT_BYTES, true) === request && sameBytes(this.bytes, at, client)) return true;
    }
    return false;
  }
}

function sameBytes(bytes: Uint8Array, at: number, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

function headerProblem(
  view: DataView,
  offset: number,
  fileOffset: number,
  length: number,
  high: number,
  firstSeq: number,
  count: number,
  syncedOffset: number,
): string | undefined {
  if ((view.getUint8(offset + OFFSET_FLAGS) & ~FLAG_ORIGINS) !== 0 || view.getUint16(offset + OFFSET_RESERVED, true) !== 0) {
    return 'reserved header bits are set';
  }
  if (high > MAX_SEQ_HIGH || firstSeq < 1) return `first sequence number ${firstSeq} is out of range`;
  if (count < 1 || count > (length - RECORD_HEADER_BYTES) / MIN_ENTRY_BYTES) return `entry count ${count} does not fit the record`;
  if (firstSeq + count - 1 > Number.MAX_SAFE_INTEGER) return 'sequence numbers run past 2^53 - 1';
  if (syncedOffset > fileOffset) return `synced offset ${syncedOffset} lies beyond the record itself`;
  return undefined;
}

/**
 * Checks that exactly `count` entries fill [from, end) and says why not;
 * with a visitor, also hands each one over. One walk for both, so what is
 * checked is what is read.
 */
function walkEntries(
  bytes: Uint8Array,
  view: DataView,
  from: number,
  end: number,
  count: number,
  visitor: LogEntryVisitor | undefined,
): string | undefined {
  let at = from;
  for (let i = 0; i < count; i++) {
    if (end - at < MIN_ENTRY_BYTES) return `entry ${i} runs past the end of the record`;
    const kind = bytes[at]!;
    const keyLength = view.getUint32(at + 1, true);
    at += MIN_ENTRY_BYTES;
    if (kind === KIND_DELETE) {
      if (keyLength > end - at) return `entry ${i}: key runs past the end of the record`;
      visitor?.('delete', bytes, at, keyLength, at + keyLength, 0);
      at += keyLength;
      continue;
    }
    if (kind !== KIND_PUT && kind !== KIND_PUT_TEXT) return `entry ${i} has unknown kind ${kind}`;
    if (end - at < 4) return `entry ${i} runs past the end of the record`;
    const valueLength = view.getUint32(at, true);
    at += 4;
    if (keyLength > end - at || valueLength > end - at - keyLength) return `entry ${i}: key or value runs past the end of the record`;
    visitor?.(kind === KIND_PUT_TEXT ? 'put-text' : 'put', bytes, at, keyLength, at + keyLength, valueLength);
    at += keyLength + valueLength;
  }
  if (at !== end) return `${end - at} bytes left over after ${count} entries`;
  return undefined;
}

/**
 * Walks the entries of a record `encodeRecord` made in this process (its
 * bytes are trusted: they are not checked, as a record read back is).
 */
export function visitEncodedRecord(record: Uint8Array, visitor: LogEntryVisitor): void {
  const view = viewOf(record);
  const entriesEnd = entriesEndOf(record, view, 0, record.length);
  if (typeof entriesEnd === 'string') throw new RangeError(entriesEnd);
  const problem = walkEntries(record, view, RECORD_HEADER_BYTES, entriesEnd, view.getUint32(OFFSET_COUNT, true), visitor);
  if (problem !== undefined) throw new RangeError(problem);
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
