/**
 * The hash of FORMAT.md: FNV-1a over the key bytes, then MurmurHash3's fmix32
 * so the low bits (which pick the home slot) depend on every input bit.
 * Byte-at-a-time is right for short keys, which is what segments hold.
 * (`encodeKeyToScratch` computes the same hash while it encodes a string.)
 */
export const FNV_OFFSET_BASIS = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

export function hashKeyBytes(bytes: Uint8Array, start: number, length: number): number {
  let hash = FNV_OFFSET_BASIS;
  const end = start + length;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, FNV_PRIME);
  return finishHash(hash);
}

/** MurmurHash3's fmix32. */
export function finishHash(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** 16 bits stored in the slot, mixed apart from the home-slot bits, to skip most key compares. */
export function slotTag(hash: number): number {
  return Math.imul(hash, 0x9e3779b1) >>> 16;
}
