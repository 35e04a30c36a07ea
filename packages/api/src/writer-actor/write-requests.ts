import { ValidationError } from '@silt/fs';
import { BodyReader } from './body-reader.js';
import { allocateFrame, checkRequestId, isUint32, putUint32 } from './frame-bytes.js';
import { FRAME_HEADER_BYTES, FrameType } from './frame-types.js';

/*
 * What clients send (FORMAT.md, "Client to server"): WRITES, decoded here
 * and built by WritesFrameBuilder, and COMMAND.
 */

export const RequestKind = { batch: 1, clear: 2 } as const;
export const EntryKind = { put: 1, putText: 2, delete: 3 } as const;

/** The presence bits of a clear; bounds follow in this order. */
export const CLEAR_BOUNDS = ['gt', 'gte', 'lt', 'lte', 'prefix'] as const;
export type ClearBound = (typeof CLEAR_BOUNDS)[number];
export const CLEAR_LIMIT_BIT = 1 << 5;
export const CLEAR_REVERSE_BIT = 1 << 6;
const CLEAR_RESERVED_BIT = 1 << 7;

/** kind, key length and a 1-byte key: the smallest entry (a delete). */
export const MIN_ENTRY_BYTES = 6;
/** request id, kind and an empty presence byte: the smallest request (a clear of everything). */
export const MIN_REQUEST_BYTES = 6;

/** A batch entry as decoded. Keys and values are views into the frame's body: copy what must outlive it. */
export type WireEntry =
  | { readonly kind: 'put'; readonly key: Uint8Array; readonly value: Uint8Array; readonly valueIsText: boolean }
  | { readonly kind: 'delete'; readonly key: Uint8Array };

/** A clear's range as decoded: only the options present on the wire are set. Bounds are views into the body. */
export interface WireClearRange {
  readonly gt?: Uint8Array;
  readonly gte?: Uint8Array;
  readonly lt?: Uint8Array;
  readonly lte?: Uint8Array;
  readonly prefix?: Uint8Array;
  readonly limit?: number;
  readonly reverse?: boolean;
}

/** One request of a WRITES frame, as decoded. */
export type WriteRequest =
  | { readonly requestId: number; readonly kind: 'batch'; readonly entries: readonly WireEntry[] }
  | { readonly requestId: number; readonly kind: 'clear'; readonly range: WireClearRange };

/** COMMAND: a request that writes nothing itself and is answered with DONE. */
export type WriterCommand =
  | { readonly requestId: number; readonly command: 'flush' }
  | { readonly requestId: number; readonly command: 'forceMerge'; readonly maxSegments: number }
  | { readonly requestId: number; readonly command: 'mergesIdle' };

const COMMAND_CODES = { flush: 1, forceMerge: 2, mergesIdle: 3 } as const;
const COMMAND_BODY_BYTES = 9;

/** The requests of a WRITES body, in order. */
export function decodeWrites(body: Uint8Array): WriteRequest[] {
  const reader = new BodyReader(body, 'WRITES');
  const count = reader.count('request count', MIN_REQUEST_BYTES);
  const requests: WriteRequest[] = [];
  for (let i = 0; i < count; i++) requests.push(readRequest(reader));
  reader.end();
  return requests;
}

function readRequest(reader: BodyReader): WriteRequest {
  const requestId = reader.u32('request id');
  const kindAt = reader.offset;
  const kind = reader.u8('request kind');
  if (kind === RequestKind.batch) return { requestId, kind: 'batch', entries: readEntries(reader) };
  if (kind === RequestKind.clear) return { requestId, kind: 'clear', range: readClear(reader) };
  return reader.fail(`request kind ${kind} is unknown (1 is a batch, 2 a clear)`, kindAt);
}

function readEntries(reader: BodyReader): WireEntry[] {
  const count = reader.count('entry count', MIN_ENTRY_BYTES);
  const entries: WireEntry[] = [];
  for (let i = 0; i < count; i++) entries.push(readEntry(reader));
  return entries;
}

function readEntry(reader: BodyReader): WireEntry {
  const kindAt = reader.offset;
  const kind = reader.u8('entry kind');
  if (kind !== EntryKind.put && kind !== EntryKind.putText && kind !== EntryKind.delete) {
    reader.fail(`entry kind ${kind} is unknown (1 put, 2 put of text, 3 delete)`, kindAt);
  }
  const keyLengthAt = reader.offset;
  const keyLength = reader.u32('key length');
  if (keyLength === 0) reader.fail('key length is 0; a key has at least 1 byte', keyLengthAt);
  if (kind === EntryKind.delete) return { kind: 'delete', key: reader.bytes(keyLength, 'key') };
  const valueLength = reader.u32('value length');
  const key = reader.bytes(keyLength, 'key');
  const value = reader.bytes(valueLength, 'value');
  return { kind: 'put', key, value, valueIsText: kind === EntryKind.putText };
}

function readClear(reader: BodyReader): WireClearRange {
  const presenceAt = reader.offset;
  const presence = reader.u8('clear presence');
  if ((presence & CLEAR_RESERVED_BIT) !== 0) reader.fail('clear presence has bit 7 set; it must be 0', presenceAt);
  const range: { -readonly [K in keyof WireClearRange]: WireClearRange[K] } = {};
  for (let bit = 0; bit < CLEAR_BOUNDS.length; bit++) {
    if ((presence & (1 << bit)) === 0) continue;
    const name = CLEAR_BOUNDS[bit]!;
    range[name] = reader.bytes(reader.u32(`${name} length`), name);
  }
  if ((presence & CLEAR_LIMIT_BIT) !== 0) range.limit = reader.u32('limit');
  if ((presence & CLEAR_REVERSE_BIT) !== 0) range.reverse = true;
  return range;
}

export function encodeCommand(command: WriterCommand): Uint8Array {
  checkRequestId(command.requestId);
  const name: string = command.command;
  if (!Object.hasOwn(COMMAND_CODES, name)) throw new ValidationError(`a command is flush, forceMerge or mergesIdle, got ${name}`);
  const code = COMMAND_CODES[command.command];
  const argument = command.command === 'forceMerge' ? command.maxSegments : 0;
  if (command.command === 'forceMerge' && !(isUint32(argument) && argument >= 1)) {
    throw new ValidationError(`forceMerge's maxSegments on the wire is a whole number from 1 to 4294967295, got ${String(argument)}`);
  }
  const frame = allocateFrame(FrameType.command, COMMAND_BODY_BYTES);
  putUint32(frame, FRAME_HEADER_BYTES, command.requestId);
  frame[FRAME_HEADER_BYTES + 4] = code;
  putUint32(frame, FRAME_HEADER_BYTES + 5, argument);
  return frame;
}

export function decodeCommand(body: Uint8Array): WriterCommand {
  const reader = new BodyReader(body, 'COMMAND');
  const requestId = reader.u32('request id');
  const codeAt = reader.offset;
  const code = reader.u8('command');
  const argumentAt = reader.offset;
  const argument = reader.u32('argument');
  reader.end();
  if (code === COMMAND_CODES.forceMerge) {
    if (argument === 0) reader.fail("forceMerge's maxSegments is 0; it is at least 1", argumentAt);
    return { requestId, command: 'forceMerge', maxSegments: argument };
  }
  if (code !== COMMAND_CODES.flush && code !== COMMAND_CODES.mergesIdle) {
    reader.fail(`command ${code} is unknown (1 flush, 2 forceMerge, 3 mergesIdle)`, codeAt);
  }
  if (argument !== 0) reader.fail(`argument is ${argument}; it is 0 for this command`, argumentAt);
  return { requestId, command: code === COMMAND_CODES.flush ? 'flush' : 'mergesIdle' };
}
