import { crc32 as zlibCrc32 } from 'node:zlib';
import { nativeCrc32 } from './file-mapping.js';

let chosen: ((bytes: Uint8Array) => number) | undefined;

/**
 * The CRC-32 of `bytes` (zlib's polynomial; node:zlib's `crc32(bytes)`
 * value, unsigned) that every checksum silt writes or checks is: the
 * `@silt/mmap` addon's where it loaded and the CPU has PCLMULQDQ, 2-3× faster
 * over a 4 KiB block, else node:zlib's. Chosen at the first call, as the
 * addon loads on first use.
 */
export function crc32(bytes: Uint8Array): number {
  chosen ??= nativeCrc32() ?? zlibCrc32;
  return chosen(bytes);
}
