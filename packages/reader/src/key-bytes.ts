import { commonPrefixLength, compareBytes } from '@silt/segments/internal';

/** Whole keys in byte order: @silt/segments' byte-range comparison over two complete keys. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  return compareBytes(a, 0, a.length, b, 0, b.length);
}

export function sharedPrefixLength(a: Uint8Array, b: Uint8Array): number {
  return commonPrefixLength(a, 0, a.length, b, 0, b.length);
}

/** Shortens a byte length so it does not end inside a UTF-8 character. */
export function utf8Boundary(bytes: Uint8Array, length: number): number {
  let end = Math.min(length, bytes.length);
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  return end;
}
