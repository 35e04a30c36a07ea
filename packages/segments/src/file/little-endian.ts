/** Little-endian field access on plain Uint8Arrays (no DataView to allocate). */

export function readU16(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8);
}

export function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** Exact below 2^53; callers reject anything that is not a safe integer. */
export function readU64(bytes: Uint8Array, at: number): number {
  return readU32(bytes, at) + readU32(bytes, at + 4) * 0x100000000;
}

export function writeU16(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
}

export function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = (value >>> 24) & 0xff;
}

export function writeU64(bytes: Uint8Array, at: number, value: number): void {
  writeU32(bytes, at, value >>> 0);
  writeU32(bytes, at + 4, Math.floor(value / 0x100000000));
}

export const LITTLE_ENDIAN_HOST = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The bytes of an Int32Array in little-endian order, without a copy on little-endian hosts. */
export function int32ArrayAsLittleEndian(words: Int32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  const bytes = new Uint8Array(words.byteLength);
  for (let i = 0; i < words.length; i++) writeU32(bytes, i * 4, words[i]!);
  return bytes;
}

/** Little-endian u32 words as an Int32Array: a view when aligned on a little-endian host, else a copy. */
export function littleEndianAsInt32Array(bytes: Uint8Array): Int32Array {
  const count = bytes.length >>> 2;
  if (LITTLE_ENDIAN_HOST && bytes.byteOffset % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, count);
  const words = new Int32Array(count);
  for (let i = 0; i < count; i++) words[i] = readU32(bytes, i * 4) | 0;
  return words;
}
