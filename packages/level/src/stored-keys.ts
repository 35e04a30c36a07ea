import type { Key } from 'silt';

/**
 * abstract-level keys may be empty; silt keys are 1 to 65,535 bytes. Keys
 * are stored under a mapping that keeps their byte order and leaves nearly
 * every key as it is, so an index written here reads the same through
 * `silt` itself:
 *
 * - the empty key is stored as one NUL byte;
 * - a key that starts with NUL gets one more NUL in front;
 * - every other key is stored unchanged.
 *
 * The stored keys that start with NUL sort before all others, the empty key
 * ([0]) first, as their originals do, so range bounds map the same way.
 * The price: a key that starts with NUL may be at most 65,534 bytes.
 */
const NUL = 0;
const NUL_CHAR = '\u0000';

export function toStoredKey(key: Key): Key {
  if (typeof key === 'string') return key.length === 0 || key.charCodeAt(0) === NUL ? NUL_CHAR + key : key;
  if (key.length > 0 && key[0] !== NUL) return key;
  const stored = new Uint8Array(key.length + 1);
  stored.set(key, 1);
  return stored;
}

/** The original key's bytes: the inverse of `toStoredKey` for a stored key read back as bytes. */
export function fromStoredKey(stored: Uint8Array): Uint8Array {
  return stored[0] === NUL ? stored.subarray(1) : stored;
}
