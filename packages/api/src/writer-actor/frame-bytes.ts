import { ValidationError } from '@silt/fs';
import { FRAME_HEADER_BYTES, MAX_FRAME_BYTES, frameTypeName, type FrameType } from './frame-types.js';

/*
 * The writing side's byte helpers, shared by the encoders and the frame
 * builders. Integers are stored byte by byte: cheaper than a DataView for
 * the few fields a frame has.
 */

export const U32_MAX = 0xffff_ffff;

export function putUint32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value;
  bytes[at + 1] = value >>> 8;
  bytes[at + 2] = value >>> 16;
  bytes[at + 3] = value >>> 24;
}

export function getUint32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

export function isUint32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= U32_MAX;
}

/** A request id must fit its u32 field; a bad one is the caller's bug, refused before anything is written. */
export function checkRequestId(requestId: unknown): asserts requestId is number {
  if (!isUint32(requestId)) throw new ValidationError(`a request id is a whole number from 0 to ${U32_MAX}, got ${String(requestId)}`);
}

/** A frame of `type` with room for `bodyBytes` after its header, the header written. */
export function allocateFrame(type: FrameType, bodyBytes: number): Buffer {
  const length = 1 + bodyBytes;
  if (length > MAX_FRAME_BYTES) {
    throw new ValidationError(`a ${frameTypeName(type)} frame of ${length} bytes is larger than the ${MAX_FRAME_BYTES} a frame may hold`);
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyBytes);
  writeFrameHeader(frame, type, length);
  return frame;
}

export function writeFrameHeader(frame: Uint8Array, type: FrameType, length: number): void {
  putUint32(frame, 0, length);
  frame[4] = type;
}
