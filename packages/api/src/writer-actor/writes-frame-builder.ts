import { ValidationError } from '@silt/fs';
import type { WalEntryInput } from '@silt/wal';
import { checkRequestId, isUint32, putUint32, U32_MAX, writeFrameHeader } from './frame-bytes.js';
import { FRAME_HEADER_BYTES, FrameType, MAX_FRAME_BYTES } from './frame-types.js';
import { CLEAR_BOUNDS, CLEAR_LIMIT_BIT, CLEAR_REVERSE_BIT, EntryKind, RequestKind, type ClearBound } from './write-requests.js';

/** A clear's range as a client gives it: `Index.clear`'s options, bounds as strings (UTF-8 on the wire) or bytes. */
export type ClearRangeInput = {
  readonly [K in ClearBound]?: Uint8Array | string;
} & {
  /** At most this many keys; `Infinity` or absent for no limit. */
  readonly limit?: number;
  readonly reverse?: boolean;
};

/** One request to encode: what `decodeWrites` gives back, with strings allowed. */
export type WriteRequestInput =
  | { readonly requestId: number; readonly kind: 'batch'; readonly entries: readonly WalEntryInput[] }
  | { readonly requestId: number; readonly kind: 'clear'; readonly range: ClearRangeInput };

/** Header, then the request count. */
const WRITES_PREFIX_BYTES = FRAME_HEADER_BYTES + 4;
/** Request id and kind. */
const REQUEST_HEAD_BYTES = 5;
const ENTRY_HEAD_BYTES = 5;
const PUT_HEAD_BYTES = 9;
/**
 * A string is written with room for one more UTF-8 character (4 bytes at
 * most) than the length it was measured at: one longer than it said then
 * writes past that length, where the check sees it, instead of being cut
 * to fit. The slack is inside the builder's buffer, overwritten by what
 * comes next or dropped.
 */
const STRING_SLACK = 4;
/** Frames up to this size are copied out and the buffer kept; larger ones take the buffer with them. */
const COPY_OUT_BYTES = 16 * 1024;
const INITIAL_CAPACITY = 64 * 1024;
/** A huge batch's lengths are dropped after it rather than kept for the builder's life. */
const LENGTHS_KEPT = 2 * 4096;
const RANGE_OPTIONS = new Set<string>([...CLEAR_BOUNDS, 'limit', 'reverse']);

/**
 * Builds one WRITES frame from many requests: the client adds every write
 * of an event-loop turn and sends the frame once. Entries are written
 * straight into one buffer that grows geometrically (strings as UTF-8 in
 * place, no buffer of their own), so adding costs about a copy of the
 * entry's bytes. A request that would take the frame past MAX_FRAME_BYTES,
 * or that is malformed, is refused with a ValidationError and leaves the
 * frame as it was.
 */
export class WritesFrameBuilder {
  private buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private length = WRITES_PREFIX_BYTES;
  private requests = 0;
  /** The key and value lengths of the batch being added, measured once: key of entry i at 2i, value at 2i + 1. */
  private readonly lengths: number[] = [];

  get requestCount(): number {
    return this.requests;
  }

  /** Bytes of the frame `finish` would return now. */
  get byteLength(): number {
    return this.length;
  }

  /**
   * Adds one atomic batch. `keyBytes` and `valueBytes`, when an entry has
   * them, are taken as the UTF-8 lengths of its strings; a string that
   * does not encode to exactly that many bytes is a ValidationError.
   */
  addBatch(requestId: number, entries: readonly WalEntryInput[]): void {
    checkRequestId(requestId);
    if (!Array.isArray(entries) || entries.length === 0) throw new ValidationError('a batch holds at least one entry');
    try {
      let bytes = REQUEST_HEAD_BYTES + 4;
      for (let i = 0; i < entries.length; i++) bytes += measureEntry(entries[i], i, this.lengths);
      const start = this.reserve(bytes);
      const buffer = this.buffer;
      putUint32(buffer, start, requestId);
      buffer[start + 4] = RequestKind.batch;
      putUint32(buffer, start + 5, entries.length);
      let at = start + REQUEST_HEAD_BYTES + 4;
      for (let i = 0; i < entries.length; i++) at = writeEntry(buffer, at, entries[i]!, i, this.lengths);
      this.commit(at, start + bytes);
    } finally {
      if (this.lengths.length > LENGTHS_KEPT) this.lengths.length = 0;
    }
  }

  /** Adds a clear of `range` (as `Index.clear` takes it). */
  addClear(requestId: number, range: ClearRangeInput): void {
    checkRequestId(requestId);
    const { presence, bounds, limit } = clearFields(range);
    let bytes = REQUEST_HEAD_BYTES + 1 + (limit === undefined ? 0 : 4);
    for (const bound of bounds) bytes += 4 + bound.bytes;
    const start = this.reserve(bytes);
    const buffer = this.buffer;
    putUint32(buffer, start, requestId);
    buffer[start + 4] = RequestKind.clear;
    buffer[start + 5] = presence;
    let at = start + REQUEST_HEAD_BYTES + 1;
    for (const bound of bounds) {
      putUint32(buffer, at, bound.bytes);
      at += 4 + writeData(buffer, at + 4, bound.data, bound.bytes, bound.name);
    }
    if (limit !== undefined) {
      putUint32(buffer, at, limit);
      at += 4;
    }
    this.commit(at, start + bytes);
  }

  /** The frame of every request added since the last finish; the builder starts a new one. The bytes are the caller's. */
  finish(): Uint8Array {
    if (this.requests === 0) throw new ValidationError('a WRITES frame holds at least one request; add one before finishing');
    writeFrameHeader(this.buffer, FrameType.writes, this.length - 4);
    putUint32(this.buffer, FRAME_HEADER_BYTES, this.requests);
    let frame: Uint8Array;
    if (this.length <= COPY_OUT_BYTES) {
      frame = Buffer.allocUnsafe(this.length);
      this.buffer.copy(frame, 0, 0, this.length);
    } else {
      // Handed over whole: the socket may hold it until it is written, so it is never written again.
      frame = this.buffer.subarray(0, this.length);
      this.buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
    }
    this.length = WRITES_PREFIX_BYTES;
    this.requests = 0;
    return frame;
  }

  /** Room for a request of `bytes` (and a string's slack) at the end of the frame, or a ValidationError if it cannot fit. */
  private reserve(bytes: number): number {
    const frameLength = this.length + bytes - 4;
    if (frameLength > MAX_FRAME_BYTES) {
      const detail = this.requests === 0 ? 'a frame' : `this frame (${this.length} bytes so far, ${this.requests} requests)`;
      throw new ValidationError(`a request of ${bytes} bytes does not fit ${detail}: a frame holds at most ${MAX_FRAME_BYTES} bytes`);
    }
    const needed = this.length + bytes + STRING_SLACK;
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, Math.min(this.buffer.length * 2, MAX_FRAME_BYTES + 4 + STRING_SLACK)));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    return this.length;
  }

  private commit(end: number, expectedEnd: number): void {
    // Every length was measured or checked before writing, so a mismatch is a bug here, not bad input.
    if (end !== expectedEnd) throw new RangeError(`a request measured to end at ${expectedEnd} was written to ${end}`);
    this.length = end;
    this.requests++;
  }
}

/** One frame of `requests`, for callers with them all at hand. */
export function encodeWrites(requests: readonly WriteRequestInput[]): Uint8Array {
  const builder = new WritesFrameBuilder();
  for (const request of requests) {
    if (request.kind === 'batch') builder.addBatch(request.requestId, request.entries);
    else builder.addClear(request.requestId, request.range);
  }
  return builder.finish();
}

/** Bytes an entry takes in the frame, its key and value lengths stored in `lengths`; checks what sizing depends on. */
function measureEntry(entry: WalEntryInput | undefined, index: number, lengths: number[]): number {
  if (typeof entry !== 'object' || entry === null) throw new ValidationError(`entry ${index} must be an object { kind, key, value? }`);
  const kind: unknown = entry.kind;
  if (kind !== 'put' && kind !== 'delete') throw new ValidationError(`entry ${index} has kind ${String(kind)}; expected 'put' or 'delete'`);
  const keyBytes = dataBytes(entry.key, entry.keyBytes, `entry ${index}'s key`);
  if (keyBytes === 0) throw new ValidationError(`entry ${index} has an empty key; a key has at least 1 byte`);
  lengths[2 * index] = keyBytes;
  if (entry.kind === 'delete') return ENTRY_HEAD_BYTES + keyBytes;
  const valueBytes = dataBytes(entry.value, entry.valueBytes, `entry ${index}'s value`);
  lengths[2 * index + 1] = valueBytes;
  return PUT_HEAD_BYTES + keyBytes + valueBytes;
}

/** The length of a key or value: bytes as they are, a string as measured by the caller or here. */
function dataBytes(data: unknown, given: number | undefined, what: string): number {
  if (data instanceof Uint8Array) {
    if (given !== undefined && given !== data.length)
      throw new ValidationError(`${what} has ${data.length} bytes, but ${given} were given for it`);
    return data.length;
  }
  if (typeof data !== 'string') throw new ValidationError(`${what} must be a Uint8Array or a string`);
  if (given === undefined) return Buffer.byteLength(data, 'utf8');
  if (!isUint32(given)) throw new ValidationError(`${what}'s byte length must be a whole number of bytes, got ${String(given)}`);
  return given;
}

function writeEntry(buffer: Buffer, at: number, entry: WalEntryInput, index: number, lengths: readonly number[]): number {
  const key = entry.key;
  const keyBytes = lengths[2 * index]!;
  if (entry.kind === 'delete') {
    buffer[at] = EntryKind.delete;
    putUint32(buffer, at + 1, keyBytes);
    return at + ENTRY_HEAD_BYTES + writeData(buffer, at + ENTRY_HEAD_BYTES, key, keyBytes, `entry ${index}'s key`);
  }
  const value = entry.value;
  const valueBytes = lengths[2 * index + 1]!;
  buffer[at] = typeof value === 'string' || entry.valueIsText === true ? EntryKind.putText : EntryKind.put;
  putUint32(buffer, at + 1, keyBytes);
  putUint32(buffer, at + ENTRY_HEAD_BYTES, valueBytes);
  const keyAt = at + PUT_HEAD_BYTES;
  const valueAt = keyAt + writeData(buffer, keyAt, key, keyBytes, `entry ${index}'s key`);
  return valueAt + writeData(buffer, valueAt, value, valueBytes, `entry ${index}'s value`);
}

/** Writes `data`, which must take exactly `bytes`, at `at`. */
function writeData(buffer: Buffer, at: number, data: Uint8Array | string, bytes: number, what: string): number {
  if (typeof data !== 'string') {
    buffer.set(data, at);
    return data.length;
  }
  const written = data.length === 0 ? 0 : buffer.write(data, at, bytes + STRING_SLACK, 'utf8');
  if (written !== bytes)
    throw new ValidationError(`${what} was said to take ${bytes} bytes of UTF-8 and takes ${written > bytes ? 'more' : written}`);
  return written;
}

interface BoundField {
  readonly name: ClearBound;
  readonly data: Uint8Array | string;
  readonly bytes: number;
}

/** A clear's presence byte, its bounds in wire order with their lengths, and its limit; checks the range first. */
function clearFields(range: ClearRangeInput): { presence: number; bounds: BoundField[]; limit: number | undefined } {
  if (typeof range !== 'object' || range === null)
    throw new ValidationError('a clear takes a range object { gt?, gte?, lt?, lte?, prefix?, limit?, reverse? }');
  for (const name of Object.keys(range)) {
    if (!RANGE_OPTIONS.has(name)) throw new ValidationError(`a clear's range has no option ${name}`);
  }
  let presence = 0;
  const bounds: BoundField[] = [];
  for (let bit = 0; bit < CLEAR_BOUNDS.length; bit++) {
    const name = CLEAR_BOUNDS[bit]!;
    const data = range[name];
    if (data === undefined) continue;
    presence |= 1 << bit;
    bounds.push({ name, data, bytes: dataBytes(data, undefined, `the clear's ${name}`) });
  }
  const limit = range.limit === Infinity ? undefined : range.limit;
  if (limit !== undefined) {
    if (!isUint32(limit))
      throw new ValidationError(`a clear's limit on the wire is a whole number from 0 to ${U32_MAX} or Infinity, got ${String(limit)}`);
    presence |= CLEAR_LIMIT_BIT;
  }
  if (range.reverse !== undefined && typeof range.reverse !== 'boolean') {
    throw new ValidationError(`a clear's reverse must be a boolean, got ${String(range.reverse)}`);
  }
  if (range.reverse === true) presence |= CLEAR_REVERSE_BIT;
  return { presence, bounds, limit };
}
