/**
 * The hash of FORMAT.md: FNV-1a over the key bytes, then MurmurHash3's fmix32
 * so the low bits (which pick the home slot) depend on every input bit.
 * Byte-at-a-time is right for short keys, which is what segments hold.
 */
export function hashKeyBytes(bytes: Uint8Array, start: number, length: number): number {
  let h = 0x811c9dc5;
  const end = start + length;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 16 bits stored in the slot, mixed apart from the home-slot bits, to skip most key compares. */
export function slotTag(hash: number): number {
  return Math.imul(hash, 0x9e3779b1) >>> 16;
}
