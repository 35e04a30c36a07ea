import { ValidationError } from '@silt/fs';
import { MAX_KEY_BYTES, type Key, type KeyEncoding } from '@silt/segments';
import { checkKeyLength, checkWellFormed, describeType, keyToBytes } from '@silt/segments/internal';

/**
 * The public keys and values and their bytes. Keys and values are strings
 * (stored as UTF-8) or Uint8Arrays (the types of @silt/segments); a value
 * comes back as the type it was given, a key as a string unless the index
 * uses binary keys. This adds what a writer needs on top of the segments'
 * checks: no empty keys, a value size limit, copies of caller bytes. A
 * string key or bound must be well-formed UTF-16 (a read for 'k\uD800' would
 * otherwise find the key 'k\uFFFD').
 */

const decoder = new TextDecoder();

/** Buffer.from is several times faster than TextEncoder for short strings (it slices a shared pool). */
function utf8Bytes(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

/**
 * A valid key as it was given (no copy, no encoding), or a ValidationError
 * saying what is wrong with it: for point reads, which take strings as they are.
 */
export function checkKey(key: unknown): Key {
  if (typeof key === 'string') {
    checkWellFormed(key, 'a key'); // ~3 ns for a short key: the isWellFormed builtin
    // A UTF-16 unit is at most 3 UTF-8 bytes: only long strings need measuring.
    const length = key.length * 3 <= MAX_KEY_BYTES ? key.length : Buffer.byteLength(key, 'utf8');
    checkKeyLength(length);
    return key;
  }
  if (!(key instanceof Uint8Array)) throw new ValidationError(`a key must be a string or a Uint8Array, got ${describeType(key)}`);
  checkKeyLength(key.length);
  return key;
}

/** The bytes of a key, or a ValidationError saying what is wrong with it. */
export function encodeKey(key: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (typeof key === 'string') {
    checkWellFormed(key, 'a key');
    bytes = utf8Bytes(key);
  } else if (key instanceof Uint8Array) bytes = key;
  else throw new ValidationError(`a key must be a string or a Uint8Array, got ${describeType(key)}`);
  checkKeyLength(bytes.length);
  return bytes;
}

/** Optional bounds of a range or prefix: the same types as keys, but may be empty. */
export function encodeBound(bound: unknown, name: string): Uint8Array | undefined {
  if (bound === undefined) return undefined;
  const what = `range option '${name}'`;
  if (typeof bound === 'string') checkWellFormed(bound, what);
  return keyToBytes(bound, what);
}

/** A binary key is copied (never `slice`, a view on a Buffer): it may be a view into a segment's buffer. */
export function decodeKey(bytes: Uint8Array, encoding: KeyEncoding): Key {
  return encoding === 'binary' ? new Uint8Array(bytes) : decoder.decode(bytes);
}
