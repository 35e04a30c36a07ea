import { loadAddon } from './addon.js';

/** A CRC-32 of a byte array: the value node:zlib's `crc32(bytes)` gives (unsigned). */
export type Crc32 = (bytes: Uint8Array) => number;

/**
 * The addon's CRC-32 (zlib's polynomial, so the same values as node:zlib's
 * `crc32`), folded 64 bytes a step with carry-less multiplication: 2-3×
 * node:zlib's table-driven one over 4 KiB blocks here. Undefined where the
 * addon did not load or the CPU lacks PCLMULQDQ and SSE4.1 (every x86-64
 * CPU since about 2010 has them; other architectures use node:zlib's).
 *
 * The returned call throws a TypeError for anything but a Uint8Array.
 */
export function fastCrc32(): Crc32 | undefined {
  const found = loadAddon();
  return found instanceof Error ? undefined : found.crc32;
}
