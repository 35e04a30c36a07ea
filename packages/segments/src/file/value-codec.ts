/**
 * Turning stored bytes back into the caller's types without waste. Strings
 * decode straight from the block (Latin-1 for values flagged ASCII, the
 * cheapest decode V8 has). Byte values are copied out, so a caller can never
 * write into a shared block, into small slices of a shared pool (as Node's
 * own Buffer pool does): a fresh off-heap Uint8Array per value costs ~0.4 µs.
 */

interface BufferSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const prototype = Buffer.prototype as unknown as Partial<BufferSlices>;
const hasFastSlices = typeof prototype.latin1Slice === 'function' && typeof prototype.utf8Slice === 'function';

export function decodeAscii(bytes: Buffer, start: number, end: number): string {
  return hasFastSlices ? (bytes as unknown as BufferSlices).latin1Slice(start, end) : bytes.toString('latin1', start, end);
}

export function decodeUtf8(bytes: Buffer, start: number, end: number): string {
  return hasFastSlices ? (bytes as unknown as BufferSlices).utf8Slice(start, end) : bytes.toString('utf8', start, end);
}

const POOL_BYTES = 16 * 1024;
const POOLED_AT_MOST = 1024;
const COPY_BY_LOOP_AT_MOST = 64;
let pool = new ArrayBuffer(POOL_BYTES);
let poolUsed = 0;

/** A private copy of `bytes[start .. end)` as a plain Uint8Array. */
export function copyBytes(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const length = end - start;
  let copy: Uint8Array;
  if (length > POOLED_AT_MOST) {
    copy = new Uint8Array(length);
  } else {
    if (poolUsed + length > POOL_BYTES) {
      pool = new ArrayBuffer(POOL_BYTES);
      poolUsed = 0;
    }
    copy = new Uint8Array(pool, poolUsed, length);
    poolUsed = (poolUsed + length + 7) & ~7;
  }
  if (length <= COPY_BY_LOOP_AT_MOST) {
    for (let i = 0; i < length; i++) copy[i] = bytes[start + i]!;
  } else {
    copy.set(bytes.subarray(start, end));
  }
  return copy;
}
